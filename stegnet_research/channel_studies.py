"""The lossless byte channels measured on folders of photos (``stegnet eval bits`` and
``stegnet eval rate-distortion``), every stego through a real 8-bit PNG round trip.

``channel``: ``pixel`` (the default of embed-bits) or ``flow`` (with ``flow_mode``); the
channel is named in every result, so a result never silently measures another channel.
``model`` and ``device`` as for :mod:`stegnet_research.evaluate`.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable

import numpy as np

from stegnet.imageio import decode_png_roundtrip
from stegnet.metrics import changed_pixels
from stegnet_research.evaluate import Sample, load_model_once, with_summary


def eval_bits(
    covers: list[Sample],
    *,
    model: str | None = None,
    device: str = "cpu",
    sizes: tuple[str, ...] = ("0", "1", "1024", "capacity"),
    key: bytes = b"stegnet evaluation key",
    keyed_modes: tuple[bool, ...] = (False, True),
    progress: Callable[[int, int], None] | None = None,
    channel: str = "pixel",
    flow_mode: str = "auto",
) -> dict:
    """Byte-exact round trips through a saved PNG for several payload sizes, keyed or not,
    on a lossless ``channel`` (``pixel``, the default, or ``flow`` in ``flow_mode``).

    For every cover and payload size the stego is written as PNG, read back and
    extracted. "capacity" is the cover's capacity (pixel: exact; flow: measured,
    :func:`stegnet.channels.flow.embed.measured_capacity`). The row records success, raw
    bit error rate before ECC, the error-correction strength used, net bit per pixel, PSNR / SSIM /
    CIEDE2000 between cover and stego (at full capacity), and a wrong-key and a
    clean-image check (both must fail cleanly). ``model``: the colour flow (name or weight
    file; None: the default) on ``device``; its card gives the error correction.
    """
    from stegnet.channels import get
    from stegnet.channels.flow import embed as flow_channel
    from stegnet.color import delta_e00_rgb
    from stegnet.errors import PayloadError, StegnetError
    from stegnet.metrics import psnr, ssim

    chosen = get(channel)
    flow_channel.check_mode(flow_mode)
    flow = load_model_once(chosen.model_task, model, device) if chosen.model_task else None
    nsym = flow_channel.ecc_nsym(flow) if flow is not None else 0  # exact: no parity
    rng = np.random.default_rng(0)
    rows = []
    for index, cover in enumerate(covers):
        height, width = cover.image.shape[:2]
        for keyed in keyed_modes:
            use_key = key if keyed else None
            started = time.perf_counter()
            cap = chosen.capacity(cover.image, keyed, flow)
            nominal = (chosen.nominal_capacity(cover.image, keyed, flow) if flow is not None
                       else cap)
            capacity_seconds = time.perf_counter() - started
            for size_name in sizes:
                size = cap if size_name == "capacity" else min(int(size_name), cap)
                payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
                row = {
                    "cover": cover.name, "width": width, "height": height, "keyed": keyed,
                    "payload": size_name, "payload_bytes": size, "capacity_bytes": cap,
                    "nominal_capacity_bytes": nominal, "capacity_seconds": capacity_seconds,
                    "net_bpp": 8 * size / (width * height),
                }
                started = time.perf_counter()
                try:
                    report = chosen.embed(cover.image, payload, use_key, flow,
                                          flow_mode=flow_mode)
                except StegnetError as exc:
                    row.update(ok=False, error=f"embed: {exc}")
                    rows.append(row)
                    continue
                embed_seconds = time.perf_counter() - started
                stego = decode_png_roundtrip(report.stego)
                started = time.perf_counter()
                try:
                    recovered = chosen.extract(stego, use_key, flow)
                    ok = hashlib.sha256(recovered).digest() == hashlib.sha256(payload).digest()
                    error = None
                except PayloadError as exc:
                    ok, error = False, str(exc)
                extract_seconds = time.perf_counter() - started
                row.update(ok=ok, error=error, raw_ber=report.raw_ber, nsym=report.nsym,
                           mode=report.mode, embed_seconds=embed_seconds,
                           extract_seconds=extract_seconds,
                           changed_pixels=changed_pixels(cover.image, stego),
                           psnr_payload=psnr(cover.image, stego))
                if size_name == "capacity":
                    delta_e = delta_e00_rgb(cover.image, stego)
                    row.update(psnr=psnr(cover.image, stego), ssim=ssim(cover.image, stego),
                               delta_e00_mean=float(delta_e.mean()),
                               delta_e00_p95=float(np.percentile(delta_e, 95)),
                               delta_e00_max=float(delta_e.max()))
                if keyed:
                    try:
                        chosen.extract(stego, b"not the key", flow)
                        row["wrong_key_rejected"] = False
                    except PayloadError:
                        row["wrong_key_rejected"] = True
                rows.append(row)
        try:
            chosen.extract(cover.image, None, flow)
            clean_rejected = False
        except PayloadError:
            clean_rejected = True
        rows.append({"cover": cover.name, "payload": "none (clean cover)",
                     "ok": clean_rejected, "clean_rejected": clean_rejected})
        if progress is not None:
            progress(index + 1, len(covers))
    full = [r for r in rows if r.get("payload") == "capacity"]
    aggregate = with_summary(full, ["raw_ber", "net_bpp", "psnr", "ssim", "delta_e00_mean",
                                     "delta_e00_max", "embed_seconds", "extract_seconds",
                                     "capacity_seconds"])
    aggregate["round_trips"] = sum(1 for r in rows if "raw_ber" in r)
    aggregate["failures"] = sum(1 for r in rows if not r["ok"])
    aggregate["raw_ber_all"] = with_summary(rows, ["raw_ber"])["raw_ber"]
    used = sorted({r["nsym"] for r in rows if "nsym" in r})
    aggregate["nsym_used"] = {f"{mode} {n}": sum(1 for r in rows if r.get("nsym") == n
                                                 and r.get("mode") == mode)
                              for mode in ("pixel", "sparse", "full") for n in used}
    aggregate["nsym_used"] = {k: v for k, v in aggregate["nsym_used"].items() if v}
    aggregate["wrong_key_checks"] = sum(1 for r in rows if "wrong_key_rejected" in r)
    aggregate["wrong_key_rejected"] = sum(1 for r in rows if r.get("wrong_key_rejected"))
    aggregate["by_payload"] = {
        name: {"round_trips": len(group), "failures": sum(1 for r in group if not r["ok"]),
               **with_summary(group, ["psnr_payload", "changed_pixels", "embed_seconds"])}
        for name in sizes
        for group in [[r for r in rows if r.get("payload") == name]]}
    aggregate["clean_rejected"] = sum(1 for r in rows if r.get("clean_rejected"))
    return {"method": "bits", "channel": channel, "ecc_nsym": nsym, "per_image": rows,
            "aggregate": aggregate}


RATE_BPP = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
"""Net payloads (bit per pixel) of the rate-distortion curve; the cover's measured
capacity is added as a last point."""


RATE_TEMPERATURES: tuple[float, ...] = ()


def eval_rate_distortion(covers: list[Sample], rates: tuple[float, ...] = RATE_BPP,
                         temperatures: tuple[float, ...] = RATE_TEMPERATURES,
                         progress: Callable[[int, int], None] | None = None, *,
                         model: str | None = None, device: str = "cpu",
                         channel: str = "pixel", flow_mode: str = "auto") -> dict:
    """Quality vs payload for ``embed-bits`` on a lossless ``channel`` (``pixel``, the
    default, or ``flow`` in ``flow_mode``), with LSB replacement at the same payload as the
    reference.

    ``curve``: for each cover, random payloads of ``rate`` bit per pixel (net, i.e. payload
    bits / pixels) and one of its capacity (pixel: exact; flow: measured) are
    embedded (``channel``, default temperature, no key), saved as PNG and extracted again; the
    row records the embedding mode used, PSNR / SSIM / CIEDE2000 cover vs stego, the
    fraction of pixels that differ from the cover, the embedding time, whether the payload
    came back, and the PSNR of LSB replacement carrying the same bits.
    ``temperature_curve`` (only for the given ``temperatures``): full re-synthesis at each
    temperature with the cover's measured capacity at it.
    ``model``: the colour flow (name or weight file; None: the default) on ``device``.
    """
    from stegnet.analysis import lsb_replace
    from stegnet.channels import get
    from stegnet.channels.flow import embed as flow_channel
    from stegnet.color import delta_e00_rgb
    from stegnet.errors import StegnetError
    from stegnet.metrics import psnr, ssim

    chosen = get(channel)
    flow_channel.check_mode(flow_mode)
    uses_flow = chosen.name == "flow" or bool(temperatures)
    flow = load_model_once("flow", model, device) if uses_flow else None

    def embed_row(image: np.ndarray, payload: bytes, temperature: float,
                  on: str = channel, mode: str = flow_mode) -> dict:
        """Embed, save as PNG, extract: success, mode, PSNR / SSIM / CIEDE2000, changes."""
        used = get(on)
        try:
            start = time.perf_counter()
            report = used.embed(image, payload, None, flow, flow_mode=mode,
                                temperature=temperature)
            seconds = time.perf_counter() - start
        except StegnetError as exc:  # the embedder refused: an honest "does not fit"
            return {"ok": False, "error": str(exc)}
        stego = decode_png_roundtrip(report.stego)
        try:
            extracted = used.extract(stego, None, flow)
        except StegnetError as exc:
            extracted, failure = None, str(exc)
        else:
            failure = None if extracted == payload else "wrong payload returned"
        return {"ok": extracted == payload, "extract_error": failure,
                "mode": report.mode, "nsym": report.nsym,
                "fallback": report.mode == "full"
                and report.details.get("temperature") != temperature,
                "embed_seconds": seconds, "raw_ber": report.raw_ber,
                "psnr": psnr(image, stego), "ssim": ssim(image, stego),
                "delta_e00_mean": float(delta_e00_rgb(image, stego).mean()),
                "changed_pixels": changed_pixels(image, stego)}

    rng = np.random.default_rng(0)
    rows, temperature_rows = [], []
    for index, cover in enumerate(covers):
        height, width = cover.image.shape[:2]
        cap = chosen.capacity(cover.image, False, flow)
        points = [(rate, int(rate * width * height) // 8) for rate in rates]
        points.append(("capacity", cap))
        for rate, size in points:
            payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            row = {"cover": cover.name, "rate": rate, "payload_bytes": size,
                   "net_bpp": 8 * size / (width * height)}
            row["above_measured_capacity"] = size > cap
            row.update(embed_row(cover.image, payload, flow_channel.DEFAULT_TEMPERATURE))
            if size and row["ok"]:
                lsb = lsb_replace(cover.image, 8 * size / (3 * height * width), index)
                row["lsb_psnr"] = psnr(cover.image, lsb)
            rows.append(row)
        for temperature in temperatures:
            size = flow_channel.measured_capacity(cover.image, False, flow,
                                                  temperature=temperature)
            payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
            temperature_rows.append({"cover": cover.name, "temperature": temperature,
                                     "payload_bytes": size,
                                     "net_bpp": 8 * size / (width * height),
                                     **embed_row(cover.image, payload, temperature, "flow",
                                                 "full")})
        if progress is not None:
            progress(index + 1, len(covers))
    temperature_curve = []
    for temperature in temperatures:
        group = [r for r in temperature_rows if r["temperature"] == temperature]
        point = {"temperature": temperature, "ok": sum(1 for r in group if r["ok"]),
                 "images": len(group), "fallbacks": sum(1 for r in group if r.get("fallback"))}
        point.update(with_summary(group, ["net_bpp", "psnr", "delta_e00_mean"]))
        temperature_curve.append(point)
    curve = []
    for rate in [*rates, "capacity"]:
        group = [r for r in rows if r["rate"] == rate]
        point = {"rate": rate, "ok": sum(1 for r in group if r["ok"]), "images": len(group),
                 "refused": sum(1 for r in group if "error" in r),
                 "extract_failures": sum(1 for r in group if r.get("extract_error")),
                 "above_measured_capacity": sum(1 for r in group
                                                if r["above_measured_capacity"]),
                 "sparse": sum(1 for r in group if r.get("mode") == "sparse"),
                 "pixel": sum(1 for r in group if r.get("mode") == "pixel")}
        point.update(with_summary(group, ["net_bpp", "psnr", "ssim", "delta_e00_mean",
                                           "changed_pixels", "embed_seconds", "raw_ber",
                                           "lsb_psnr"]))
        curve.append(point)
    return {"method": "rate-distortion", "channel": channel, "per_image": rows, "curve": curve,
            "temperature_per_image": temperature_rows, "temperature_curve": temperature_curve}


JPEG_QUALITIES = (75, 95)
JPEG_PAYLOADS = ("0", "1", "1024", "capacity")


def jpeg_cover_bytes(rgb: np.ndarray, quality: int, progressive: bool) -> bytes:
    """A camera-like JPEG of ``rgb``: 4:2:0, ``quality``, baseline or progressive, with an
    EXIF block (artist tag) and a comment, so that the study also checks they are kept."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x013B] = "stegnet study"
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality, subsampling="4:2:0",
                              progressive=progressive, exif=exif.tobytes(),
                              comment=b"stegnet study")
    return buffer.getvalue()


def _changed_footprint(cover, stego) -> np.ndarray:
    """(H, W) bool: the pixels an 8x8 block with a changed coefficient can reach after
    decoding (chroma blocks scaled by their subsampling, one pixel of upsampling spread)."""
    height, width = cover.height, cover.width
    mask = np.zeros((height, width), bool)
    luma_v, luma_h = cover.sampling[0]
    for index, (before, after) in enumerate(zip(cover.components, stego.components,
                                                strict=True)):
        v, h = cover.sampling[index]
        step_y, step_x = 8 * luma_v // v, 8 * luma_h // h
        for by, bx in zip(*np.nonzero((before != after).any(axis=(2, 3))), strict=True):
            mask[max(0, by * step_y - 1) : (by + 1) * step_y + 1,
                 max(0, bx * step_x - 1) : (bx + 1) * step_x + 1] = True
    return mask


def eval_jpeg_round_trips(photos: list[Sample], *, qualities: tuple[int, ...] = JPEG_QUALITIES,
                          sizes: tuple[str, ...] = JPEG_PAYLOADS,
                          key: bytes = b"stegnet evaluation key",
                          progress: Callable[[int, int], None] | None = None) -> dict:
    """Byte-exact round trips of the jpeg channel through written JPEG files.

    Every photo is compressed at each quality, baseline and progressive (the covers,
    :func:`jpeg_cover_bytes`); each payload (bytes, or ``capacity``) is embedded keyed and
    unkeyed, the stego written to bytes, read back with libjpeg and extracted. A row
    records success, the stego / cover file size ratio, whether the EXIF block and the
    comment came through byte-identical, whether Pillow's decoding of the stego differs
    from the cover's only around changed blocks, the embedding time and the payload in
    bit per non-zero AC coefficient; keyed rows also try a wrong key, and every cover is
    checked to hold no payload.
    """
    from PIL import Image

    from stegnet.channels import get
    from stegnet.channels.jpeg import nzac
    from stegnet.errors import PayloadError
    from stegnet.jpegio import read_jpeg, to_bytes

    channel = get("jpeg")
    rows = []
    rng = np.random.default_rng(0)
    jobs = [(p, q, prog) for p in photos for q in qualities for prog in (False, True)]
    for done, (photo, quality, progressive) in enumerate(jobs, 1):
        data = jpeg_cover_bytes(photo.image, quality, progressive)
        cover = read_jpeg(data)
        decoded_cover = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        try:
            channel.extract(cover, None)
            clean_rejected = False
        except PayloadError:
            clean_rejected = True
        rows.append({"photo": photo.name, "quality": quality, "progressive": progressive,
                     "payload": "none (clean cover)", "ok": clean_rejected,
                     "clean_rejected": clean_rejected})
        for keyed in (False, True):
            use_key = key if keyed else None
            cap = channel.capacity(cover, keyed)
            for size_name in sizes:
                size = cap if size_name == "capacity" else min(int(size_name), cap)
                payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
                started = time.perf_counter()
                report = channel.embed(cover, payload, use_key)
                stego_bytes = to_bytes(report.stego)
                seconds = time.perf_counter() - started
                stego = read_jpeg(stego_bytes)
                try:
                    ok = channel.extract(stego, use_key) == payload
                except PayloadError:
                    ok = False
                decoded = np.asarray(Image.open(io.BytesIO(stego_bytes)).convert("RGB"))
                outside = (decoded != decoded_cover).any(axis=-1) & ~_changed_footprint(
                    cover, stego)
                row = {"photo": photo.name, "quality": quality, "progressive": progressive,
                       "keyed": keyed, "payload": size_name, "payload_bytes": size,
                       "capacity_bytes": cap, "ok": ok, "embed_seconds": round(seconds, 3),
                       "bpnzac": round(8 * size / max(1, nzac(cover)), 5),
                       "size_ratio": round(len(stego_bytes) / len(data), 5),
                       "metadata_kept": stego.metadata == cover.metadata,
                       "pixels_changed_outside_changed_blocks": int(outside.sum())}
                if keyed:
                    try:
                        channel.extract(stego, b"not the key")
                        row["wrong_key_rejected"] = False
                    except PayloadError:
                        row["wrong_key_rejected"] = True
                rows.append(row)
        if progress is not None:
            progress(done, len(jobs))
    trips = [r for r in rows if "keyed" in r]
    aggregate = {
        "photos": len(photos), "round_trips": len(trips),
        "failures": sum(1 for r in trips if not r["ok"]),
        "clean_covers": len(rows) - len(trips),
        "clean_rejected": sum(1 for r in rows if r.get("clean_rejected")),
        "wrong_key_checks": sum(1 for r in trips if "wrong_key_rejected" in r),
        "wrong_key_rejected": sum(1 for r in trips if r.get("wrong_key_rejected")),
        "metadata_kept": sum(1 for r in trips if r["metadata_kept"]),
        "decoded_differs_only_near_changes": sum(
            1 for r in trips if r["pixels_changed_outside_changed_blocks"] == 0),
    }
    for progressive in (False, True):
        group = [r for r in trips if r["progressive"] == progressive]
        aggregate["progressive" if progressive else "baseline"] = with_summary(
            group, ["size_ratio", "embed_seconds", "bpnzac"])
    return {"method": "jpeg-round-trips", "channel": "jpeg", "qualities": list(qualities),
            "payloads": list(sizes), "per_image": rows, "aggregate": aggregate}

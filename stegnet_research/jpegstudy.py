"""The JPEG channel's detection study: how detectable is ``stegnet``'s ``jpeg`` channel next
to the published JPEG embedders, and next to what a user had before it (the pixel channel
saved as PNG)?

Covers: photos of :func:`stegnet_research.data.split_by_package` (train-side packages:
the classifier's and thresholds' training covers; held-out packages: the reported numbers),
taken round-robin over their packages, one centre 256 x 256 crop each at offsets that are
multiples of 16 (so on the 8 x 8 grid, and on 4:2:0's 16 x 16 MCU grid, of a source JPEG
whose grid starts at the corner), decoded to pixels and compressed once more at each
study quality (75 and 95, baseline 4:2:0, :func:`stegnet.jpegio.compress`). Why decoded
pixels: the study needs every cover at each of its qualities with libjpeg's tables (one
luminance table per quality for DCTR's step and the compatibility statistics, no mix of
sources' own tables), and a pool may hold PNGs or JPEGs of any quality; recompressing the
decoded pixels gives every cover the same last compression. (The shared pool's photos
turned out all quality-95 libjpeg JPEGs, so the quality-95 covers are the same quality
re-applied on the same grid, close to a fixed point of decompression and recompression;
:mod:`stegnet_research.jpegalign` shows what that does to RJCA.)

Methods, at payloads of 0.05, 0.1, 0.2, 0.4 bits per non-zero AC coefficient (bpnzAC, all
components; ``floor(rate * nzAC / 8)`` random bytes, no key):

* ``stegnet-jpeg``: the real channel (``get("jpeg").embed``: syndrome-trellis coding under
  J-UNIWARD costs, the frame's Reed-Solomon parity and CRC on top, so its ``frame_bpnzac``
  is a little above the payload);
* ``juniward``, ``uerd``: conseal's costs (J-UNIWARD with the paper's window alignment,
  ``JUNIWARD_FIX_OFF_BY_ONE``, as stegnet's costs) over all three components at once and
  conseal's ternary payload-limited simulator (optimal coding, no framing) at the same
  payload; conseal's costs leave the DC terms embeddable, as the published methods do;
* ``nsf5``: conseal's nsF5 simulator in each component at the same bpnzAC (changes
  towards zero, non-zero AC terms only; the known answer: DCTR catches it clearly);
* ``pixel-png``: stegnet's pixel channel on the decoded JPEG (a PNG is lossless, so its
  pixels are the stego array; no file is written), same payload bytes.

Detectors: DCTR (:func:`stegnet_research.dctr.dctr`, on the luminance decompressed without
rounding; for ``pixel-png`` on the luma of the cover's and the stego's pixels, with the
cover quality's step) with the ridge-FLD classifier of :mod:`stegnet_research.jpegscore`,
one per quality, method and payload (``dctr``; ``dctr-pooled``: one per quality and method
on all payloads at once, a secondary variant); the reverse JPEG-compatibility statistic
(:func:`~stegnet_research.dctr.rjca`) for the JPEG methods, and at quality 100 as its
known answer (RJCA is published for qualities 99 and 100); the JPEG compatibility of the
PNG (:func:`~stegnet_research.dctr.jpeg_compat`) for ``pixel-png``. Not done: a CNN on
decoded pixels (too costly to train on 2 shared CPU cores within this study).

Covers too smooth for the channel to carry 0.4 bpnzAC with its frame (its overhead is fixed)
are left out for every method (listed in the JSON). Everything per cover is cached in
``WORK/covers`` (rerun the command to resume or to add covers); the results go to
``OUT/results.json``, ``OUT/table.md``, ``OUT/dctr-accuracy.png`` and
``OUT/dctr-pooled-accuracy.png``. Diagnostics: :mod:`stegnet_research.jpegcoding` (where
the channel's extra changes come from), :mod:`stegnet_research.jpegalign`.
``python -m stegnet_research.jpegstudy --data ../shared/data/train --out
results/jpeg-detection --limit 100``; ``--table OUT/results.json`` prints the table again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stegnet_research import dctr
from stegnet_research.jpegsim import juniward_distortion, simulate

METHODS = ("stegnet-jpeg", "juniward", "uerd", "nsf5", "pixel-png")
RATES = (0.05, 0.1, 0.2, 0.4)
VERSION = 1  # of the cached per-cover records
METHOD_VERSIONS = {"stegnet-jpeg": 3}
"""Versions of the methods whose code changed since a cover was cached (absent: 1): a
cached cover with an older version gets that method's entries recomputed, the rest kept.
stegnet-jpeg 2: the exact frame (ternary coding, compact frame); 3: its final position
permutation."""


@dataclass
class Settings:
    """Everything that defines a run (saved in the result JSON)."""

    data: str = "../shared/data/train"
    work: str = "runs/jpegstudy"
    out: str = "results/jpeg-detection"
    qualities: tuple[int, ...] = (75, 95)
    rjca_qualities: tuple[int, ...] = (100,)
    rjca_methods: tuple[str, ...] = ("juniward",)
    rates: tuple[float, ...] = RATES
    size: int = 256
    limit: int | None = None
    seed: int = 0

    def cache_tag(self) -> str:
        """Short hash of what a cover's record depends on."""
        key = json.dumps([VERSION, self.qualities, self.rjca_qualities, self.rjca_methods,
                          self.rates, self.size, self.seed])
        return hashlib.sha256(key.encode()).hexdigest()[:10]


# -------------------------------------------------------------------------------- covers


def select_photos(settings: Settings) -> dict[str, list[Path]]:
    """``{"train": [...], "heldout": [...]}``: every photo of each side of the package
    split whose short side is at least ``size``, in round-robin order over their packages
    (:func:`stegnet_research.data.spread_over_packages`); :func:`run` takes them in that
    order until it has its covers."""
    from PIL import Image

    from stegnet_research.data import split_by_package, spread_over_packages

    def eligible(paths: list[Path]) -> list[Path]:
        keep = []
        for path in paths:
            with Image.open(path) as image:
                if min(image.size) >= settings.size:
                    keep.append(path)
        return spread_over_packages(keep, len(keep), settings.size * settings.size)

    train, heldout = (eligible(p) for p in split_by_package(settings.data))
    return {"train": train, "heldout": heldout}


def targets(settings: Settings, photos: dict[str, list[Path]]) -> dict[str, int]:
    """Covers wanted per split: all held-out photos (at most ``limit``) and as many
    training photos."""
    held = len(photos["heldout"]) if settings.limit is None else min(
        settings.limit, len(photos["heldout"]))
    return {"heldout": held, "train": min(held, len(photos["train"]))}


def centre_crop(path: Path, size: int) -> np.ndarray:
    """The centre ``size`` x ``size`` crop (offsets multiples of 16) of a photo's pixels."""
    from stegnet_research.data import load_photo

    image = load_photo(path, size)
    top = (image.shape[0] - size) // 2 // 16 * 16
    left = (image.shape[1] - size) // 2 // 16 * 16
    return np.ascontiguousarray(image[top : top + size, left : left + size])


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


# ---------------------------------------------------------------------------- embedders


def _luma_features(cover, quality: int) -> np.ndarray:
    return dctr.dctr(dctr.decompressed_luma(cover.components[0], cover.quant_tables[0]),
                     dctr.dctr_step(quality))


def too_smooth(crop: np.ndarray, settings: Settings) -> str | None:
    """Why the jpeg channel cannot carry the largest payload in ``crop`` at some quality
    (its frame's overhead is fixed, so a cover with few non-zero AC coefficients cannot
    carry ``max(rates)`` bpnzAC), or None. Such covers are left out for every method."""
    from stegnet import jpegio
    from stegnet.channels.jpeg import capacity_bytes, nzac

    for quality in (*settings.qualities, *settings.rjca_qualities):
        cover = jpegio.compress(crop, quality)
        wanted = int(max(settings.rates) * nzac(cover) // 8)
        if capacity_bytes(cover, False) < wanted:
            return (f"quality {quality}: {nzac(cover)} nzAC, capacity "
                    f"{capacity_bytes(cover, False)} bytes < {wanted}")
    return None


def process_cover(photo: Path, settings: Settings, only: tuple[str, ...] | None = None
                  ) -> tuple[dict, dict]:
    """Covers, stegos and their statistics for one photo -> (DCTR features ``{key: (8000,)
    float32}``, record ``{key: {...}}``); keys ``q75/cover``, ``q75/cover-png``,
    ``q75/stegnet-jpeg/0.1``, ...; a cover :func:`too_smooth` gives ``({}, {"_skipped":
    reason})``. ``only``: just these methods' stego entries (no cover entries)."""
    from stegnet import jpegio
    from stegnet.channels import get
    from stegnet.channels.jpeg import nzac as count_nzac

    crop = centre_crop(photo, settings.size)
    features: dict[str, np.ndarray] = {}
    reason = too_smooth(crop, settings)
    if reason is not None:
        return features, {"_skipped": reason}
    record: dict[str, dict] = {"_source": {"quality": None, "libjpeg_table": False}}
    if jpegio.is_jpeg(photo):
        quality, exact = dctr.quality_from_table(jpegio.read_jpeg(photo).quant_tables[0])
        record["_source"] = {"quality": quality, "libjpeg_table": exact}
    for quality in (*settings.qualities, *settings.rjca_qualities):
        full = quality in settings.qualities
        cover = jpegio.compress(crop, quality)
        nzac = count_nzac(cover)
        tag = f"q{quality}"
        if only is None:
            record[f"{tag}/cover"] = {"rjca": dctr.rjca(cover.components,
                                                        cover.quant_tables), "nzac": nzac}
        if full and only is None:
            features[f"{tag}/cover"] = _luma_features(cover, quality)
            pixels = jpegio.decode_pixels(cover)
            features[f"{tag}/cover-png"] = dctr.dctr(dctr.luminance(pixels) - 128.0,
                                                     dctr.dctr_step(quality))
            record[f"{tag}/cover-png"] = {"compat": dctr.jpeg_compat(
                pixels, cover.quant_tables[0])}
        rhos: dict = {}
        for rate in settings.rates:
            size = int(rate * nzac // 8)
            payload = np.random.default_rng(_seed("payload", photo.name, quality, rate)
                                            ).bytes(size)
            for method in (METHODS if full else settings.rjca_methods):
                if only is not None and method not in only:
                    continue
                key = f"{tag}/{method}/{rate:g}"
                started = time.process_time()
                if method == "pixel-png":
                    stego_pixels = get("pixel").embed(pixels, payload, None).stego
                    features[key] = dctr.dctr(dctr.luminance(stego_pixels) - 128.0,
                                              dctr.dctr_step(quality))
                    changes = int(np.count_nonzero(stego_pixels != pixels))
                    record[key] = {"compat": dctr.jpeg_compat(stego_pixels,
                                                              cover.quant_tables[0]),
                                   "changes": changes, "bytes": size}
                    record[key]["cpu_s"] = round(time.process_time() - started, 3)
                    continue
                extra = {}
                if method == "stegnet-jpeg":
                    report = get("jpeg").embed(cover, payload, None)
                    stego = report.stego
                    extra = {"frame_bpnzac": report.details["frame_bpnzac"]}
                else:
                    stego = simulate(cover, method, 8 * size, nzac, rhos,
                                     _seed(method, photo.name, quality, rate))
                delta = stego.coefficients().astype(np.int64) - cover.coefficients()
                if method in ("stegnet-jpeg", "juniward"):
                    extra["juniward_distortion"] = juniward_distortion(cover, delta, rhos)
                record[key] = {"rjca": dctr.rjca(stego.components, stego.quant_tables),
                               "changes": int(np.count_nonzero(delta)), "bytes": size,
                               **extra}
                if full:
                    features[key] = _luma_features(stego, quality)
                record[key]["cpu_s"] = round(time.process_time() - started, 3)
    return features, record


def cache_path(settings: Settings, photo: Path) -> Path:
    digest = hashlib.sha256(photo.name.encode()).hexdigest()[:16]
    return Path(settings.work, "covers", settings.cache_tag(), f"{digest}.npz")


def _save(path: Path, features: dict, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(temp, record=np.array(json.dumps(record)), **features)
    temp.replace(path)


def ensure_cover(photo: Path, settings: Settings) -> tuple[dict, dict]:
    """The cached (features, record) of ``photo``, computed and saved first if missing;
    methods of :data:`METHOD_VERSIONS` newer than the cache's are recomputed."""
    path = cache_path(settings, photo)
    if path.exists():
        with np.load(path) as stored:
            record = json.loads(str(stored["record"]))
            features = {k: stored[k] for k in stored.files if k != "record"}
        versions = record.get("_versions", {})
        stale = tuple(m for m, v in METHOD_VERSIONS.items() if versions.get(m, 1) < v)
        if stale and "_skipped" not in record:
            started = time.time()
            new_features, new_record = process_cover(photo, settings, only=stale)
            features.update(new_features)
            record.update(new_record)
            record["_versions"] = {**versions, **{m: METHOD_VERSIONS[m] for m in stale}}
            record["_photo"]["refreshed_wall_s"] = round(time.time() - started, 2)
            _save(path, features, record)
        return features, record
    started, cpu = time.time(), time.process_time()
    features, record = process_cover(photo, settings)
    record["_photo"] = {"name": photo.name, "wall_s": round(time.time() - started, 2),
                        "cpu_s": round(time.process_time() - cpu, 2)}
    record["_versions"] = dict(METHOD_VERSIONS)
    _save(path, features, record)
    return features, record


# ---------------------------------------------------------------------------------- CLI


def run(settings: Settings, command: str = "", log=print) -> dict:
    """Select, compute (or load) every cover, score, write the outputs; -> the result."""
    from stegnet_research.jpegresult import assemble, write_outputs

    started = time.time()
    photos = select_photos(settings)
    wanted = targets(settings, photos)
    log(f"wanted: {wanted['heldout']} held-out and {wanted['train']} training covers; "
        f"cache {cache_path(settings, Path('x')).parent}")
    data: dict[str, list[tuple[str, dict, dict]]] = {"train": [], "heldout": []}
    skipped: dict[str, list[dict]] = {"train": [], "heldout": []}
    queues = {split: list(photos[split]) for split in data}
    done = 0
    while any(len(data[s]) < wanted[s] and queues[s] for s in data):
        for split in ("heldout", "train"):
            if len(data[split]) >= wanted[split] or not queues[split]:
                continue
            photo = queues[split].pop(0)
            cached = cache_path(settings, photo).exists()
            features, record = ensure_cover(photo, settings)
            if "_skipped" in record:
                skipped[split].append({"photo": photo.name, "reason": record["_skipped"]})
                continue
            data[split].append((photo.name, features, record))
            done += 1
            if not cached:
                log(f"  {done}/{sum(wanted.values())} {split} {photo.name} "
                    f"({record['_photo']['wall_s']:.1f} s; "
                    f"{(time.time() - started) / 60:.1f} min so far)")
    eligible = {split: len(photos[split]) for split in data}
    photos = {split: [Path(settings.data, n) for n, _, _ in data[split]] for split in data}
    compute_s = round(time.time() - started, 1)
    result = assemble(settings, photos, data, command)
    result["split"]["skipped"] = skipped
    result["split"]["eligible_photos"] = eligible
    result["timings"]["this_run_wall_s"] = compute_s
    result["timings"]["this_run_total_wall_s"] = round(time.time() - started, 1)
    write_outputs(result, Path(settings.out))
    return result


def main(argv: list[str] | None = None) -> None:
    import sys

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m stegnet_research.jpegstudy",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=Settings.data, help="the photo pool (train/)")
    parser.add_argument("--work", default=Settings.work, help="per-cover cache folder")
    parser.add_argument("--out", default=Settings.out, help="output folder")
    parser.add_argument("--limit", type=int, default=None,
                        help="at most N covers per split (default: all held-out photos, "
                             "as many training photos)")
    parser.add_argument("--qualities", default="75,95")
    parser.add_argument("--rjca-qualities", default="100",
                        help="qualities with only the JPEG methods and RJCA ('' for none)")
    parser.add_argument("--rjca-methods", default="juniward",
                        help="methods at the RJCA-only qualities (of " + ", ".join(METHODS[:4])
                             + ")")
    parser.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES))
    parser.add_argument("--table", default=None, metavar="RESULTS.json",
                        help="only print the markdown table of an existing result")
    args = parser.parse_args(argv)
    from stegnet_research.jpegscore import markdown_table

    if args.table:
        print(markdown_table(json.loads(Path(args.table).read_text())))
        return
    import torch

    torch.set_num_threads(1)

    def ints(text: str) -> tuple[int, ...]:
        return tuple(int(v) for v in text.split(",") if v)

    settings = Settings(data=args.data, work=args.work, out=args.out, limit=args.limit,
                        qualities=ints(args.qualities),
                        rjca_qualities=ints(args.rjca_qualities),
                        rjca_methods=tuple(m for m in args.rjca_methods.split(",") if m),
                        rates=tuple(float(v) for v in args.rates.split(",") if v))
    command = "python -m stegnet_research.jpegstudy " + shlex.join(argv)
    result = run(settings, command, log=lambda text: print(text, flush=True))
    print(markdown_table(result))
    print(f"wrote {settings.out}/results.json, table.md, dctr-accuracy.png")


if __name__ == "__main__":
    main()

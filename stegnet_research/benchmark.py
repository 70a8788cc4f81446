"""Speed and memory benchmark behind ``stegnet bench`` (prints numbers; no assertions).

For each square size it times one hide + reveal and one embed + extract of a
full-capacity payload (and of 1 KiB) in the default mode on a synthetic photo (``flow``:
also in ``--mode flow``) (model already loaded, so the times
are model + I/O-free pipeline time), and reports the process's peak resident
memory so far (sizes run in increasing order, so each row's peak is that size's
peak) and, on CUDA, the peak GPU memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stegnet.synthetic import synthetic_photo


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_benchmark(
    sizes: list[int | tuple[int, int]], device: str = "auto", methods: list[str] | None = None,
    echo: Callable[[str], None] | None = print, precision: str = "auto",
) -> list[dict]:
    """One row per size (see the module docstring); ``precision``: that of hide/reveal."""
    import torch

    from stegnet import hiding
    from stegnet.channels import pixel
    from stegnet.channels.flow import embed as bits
    from stegnet.device import resolve_device, resolve_precision
    from stegnet.zoo import load

    methods = methods or ["hide", "bits"]
    dev = resolve_device(device)
    precision = resolve_precision(precision, dev)
    rows = []
    for size in sizes:
        height, width = (size, size) if isinstance(size, int) else size
        cover, secret = synthetic_photo(height, width, 1), synthetic_photo(height, width, 2)
        row: dict = {"size": f"{width}x{height}", "device": dev,
                     "threads": torch.get_num_threads(), "hide_precision": precision}
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
        if "hide" in methods:
            net = load("hide", None, dev)
            started = time.perf_counter()
            stego = hiding.hide(cover, secret, net, precision=precision)
            row["hide_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            hiding.reveal(stego, net, precision=precision)
            row["reveal_s"] = round(time.perf_counter() - started, 3)
        if "bits" in methods:  # the default mode (adaptive): no network

            cap = pixel.capacity_bytes(height, width, False)
            payload = bytes(range(256)) * (cap // 256) + bytes(cap % 256)
            started = time.perf_counter()
            report = pixel.embed(cover, payload, None)
            embed_s = time.perf_counter() - started
            started = time.perf_counter()
            pixel.extract(report.stego, None)
            extract_s = time.perf_counter() - started
            row.update(payload_bytes=cap, embed_s=round(embed_s, 3),
                       extract_s=round(extract_s, 3), embed_bytes_per_s=round(cap / embed_s),
                       extract_bytes_per_s=round(cap / extract_s), embed_mode=report.mode)
            small = bytes(range(256)) * 4  # 1 KiB: the common case of a short message
            if len(small) <= cap:
                started = time.perf_counter()
                report = pixel.embed(cover, small, None)
                row.update(embed_1k_s=round(time.perf_counter() - started, 3),
                           embed_1k_mode=report.mode)
        if "flow" in methods:  # embed-bits --mode flow: the colour flow at its capacity
            flow = load("flow", None, dev)
            # a payload that also fits the second error-correction strength, so that flat
            # synthetic covers (hard: smooth colour) can use it if they need to
            cap = bits.capacity(height, width, False, bits.nsym_ladder(bits.ecc_nsym(flow))[1])
            payload = bytes(range(256)) * (cap // 256) + bytes(cap % 256)
            started = time.perf_counter()
            report = bits.embed(cover, payload, None, flow, mode="auto")
            embed_s = time.perf_counter() - started
            started = time.perf_counter()
            bits.extract(report.stego, None, flow)
            row.update(flow_payload_bytes=cap, flow_nsym=report.nsym,
                       flow_raw_ber=round(report.raw_ber, 4), flow_embed_s=round(embed_s, 3),
                       flow_extract_s=round(time.perf_counter() - started, 3),
                       flow_embed_mode=report.mode)
            started = time.perf_counter()
            report = bits.embed(cover, bytes(range(256)) * 4, None, flow, mode="auto")
            row.update(flow_embed_1k_s=round(time.perf_counter() - started, 3),
                       flow_embed_1k_mode=report.mode)
        if "jpeg" in methods:
            row.update(jpeg_row(cover))
        if "robust" in methods and min(height, width) >= 256:
            from stegnet.channels import robust

            channel = load("robust", None, dev)
            payload = bytes(range(256))
            # the whole layout (from 512 px) and the tiled one (its embedding includes
            # reading its own stego)
            layouts = [("robust", robust.embed, robust.extract)] * (min(height, width) >= 512)
            layouts.append(("robust_tiled", robust.embed_tiled, robust.extract_tiled))
            for prefix, embed, extract in layouts:
                started = time.perf_counter()
                stego = embed(cover, payload, None, channel).stego
                row[f"{prefix}_embed_256b_s"] = round(time.perf_counter() - started, 3)
                started = time.perf_counter()
                extract(stego, None, channel)
                row[f"{prefix}_extract_s"] = round(time.perf_counter() - started, 3)
        row["peak_rss_mib"] = round(peak_rss_mib(), 1)
        if dev == "cuda":
            row["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        rows.append(row)
        if echo is not None:
            echo("  ".join(f"{k}={v}" for k, v in row.items()))
    return rows


JPEG_QUALITY = 85  # the bench's JPEG covers: the cover photo compressed once (4:2:0)


def jpeg_row(cover_rgb) -> dict:
    """The jpeg channel from file bytes to file bytes: a cover JPEG (``cover_rgb``
    compressed at :data:`JPEG_QUALITY`) read, 1 KiB and 0.1 bit per non-zero AC coefficient
    embedded (J-UNIWARD costs, the embedder's own decode included) and written; the stego
    read back and extracted."""
    from stegnet.channels import jpeg
    from stegnet.jpegio import compress, read_jpeg, to_bytes

    data = to_bytes(compress(cover_rgb, JPEG_QUALITY))
    out: dict = {"jpeg_bytes": len(data)}
    jpeg.embed(compress(cover_rgb[:256, :256], JPEG_QUALITY), b"", None)  # warm-up (torch)
    for label, size in (("1k", 1024), ("0.1bpnzac", None)):
        started = time.perf_counter()
        cover = read_jpeg(data)
        size = size if size is not None else int(0.1 * jpeg.nzac(cover)) // 8
        if size > jpeg.capacity_bytes(cover, False):
            continue
        report = jpeg.embed(cover, bytes(range(256)) * (size // 256) + bytes(size % 256), None)
        stego = to_bytes(report.stego)
        out[f"jpeg_embed_{label}_s"] = round(time.perf_counter() - started, 3)
        out[f"jpeg_{label}_payload_bytes"] = size
        started = time.perf_counter()
        jpeg.extract(read_jpeg(stego), None)
        out[f"jpeg_extract_{label}_s"] = round(time.perf_counter() - started, 3)
    if cover_rgb.shape[0] * cover_rgb.shape[1] <= PEER_MAX_PIXELS:
        out.update(_jpeg_peer(data, out))
    return out


PEER_MAX_PIXELS = 3_000_000  # the peer (pure numpy costs) takes ~10x as long: small sizes


def _jpeg_peer(data: bytes, ours: dict) -> dict:
    """The peer, same cover and payload in the same run: conseal's J-UNIWARD costs and its
    ternary simulator (optimal coding, no file written), from the bytes, at 0.1 bpnzAC."""
    try:
        from stegnet_research.jpegsim import simulate
    except ImportError:  # conseal is a research extra
        return {}
    from stegnet.channels import jpeg
    from stegnet.jpegio import read_jpeg

    started = time.perf_counter()
    cover = read_jpeg(data)
    nzac = jpeg.nzac(cover)
    simulate(cover, "juniward", 8 * (int(0.1 * nzac) // 8), nzac, {}, 0)
    seconds = time.perf_counter() - started
    return {"peer_conseal_juniward_0.1bpnzac_s": round(seconds, 3),
            "jpeg_0.1bpnzac_speedup_vs_peer": round(seconds / ours["jpeg_embed_0.1bpnzac_s"], 2)}


def isolated_case(width: int, height: int, device: str = "auto",
                  methods: str = "hide,bits", precision: str = "auto") -> dict:
    """One size in a fresh process, so its peak RSS is its own (e.g. 6000x4000 = 24 MP)."""
    code = (
        "import json, sys; from stegnet_research.benchmark import run_benchmark; "
        f"rows = run_benchmark([({height}, {width})], {device!r}, {methods.split(',')!r}, "
        f"echo=None, precision={precision!r}); print(json.dumps(rows[0]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_times() -> dict:
    """Wall time of `stegnet --help` and of one `stegnet hide` (512 px) in fresh processes
    (the installed ``stegnet`` command beside this interpreter)."""
    script = Path(sys.executable).with_name("stegnet")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "stegnet.cli"]
    started = time.perf_counter()
    subprocess.run([*command, "--help"], capture_output=True, check=True)
    help_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        from PIL import Image

        cover, secret = Path(folder) / "c.png", Path(folder) / "s.png"
        Image.fromarray(synthetic_photo(512, 512, 1)).save(cover)
        Image.fromarray(synthetic_photo(512, 512, 2)).save(secret)
        started = time.perf_counter()
        subprocess.run([*command, "hide", str(cover), str(secret), "-o",
                        os.path.join(folder, "o.png"), "-q"], capture_output=True, check=True)
        hide_s = time.perf_counter() - started
    return {"help_s": round(help_s, 3), "hide_512_process_s": round(hide_s, 3)}


def reference_comparison(size: int = 512, repeats: int = 3, device: str = "auto") -> dict:
    """Median time of one hide + reveal by the shipped hide model (the whole pipeline,
    uint8 photos in and out) and by the HiNet-16 architecture
    (:mod:`stegnet_research.reference`, model passes only), in this process at its thread
    count, after one warm-up each.

    Both are timed in float32 and, where this device has native bfloat16
    (:func:`stegnet.device.resolve_precision` picks it), in bfloat16 too: ours with its
    subnets in bfloat16 (what ``stegnet hide`` runs by default there), HiNet-16 under
    ``torch.autocast``. ``speedup`` compares ours at its default precision with HiNet-16
    in float32 (its published form); ``speedup_same_precision`` compares both at ours;
    ``speedup_vs_fastest_reference`` compares ours with the fastest HiNet-16 of every
    precision timed, on the CPU each with contiguous and with channels-last weights (what
    :func:`stegnet.zoo.load` gives ours there).
    """
    import contextlib
    import statistics

    import torch

    from stegnet import hiding
    from stegnet.device import resolve_device, resolve_precision
    from stegnet.zoo import load
    from stegnet_research.reference import HiNet16, parameters

    dev = resolve_device(device)
    default = resolve_precision("auto", dev)
    cover, secret = synthetic_photo(size, size, 1), synthetic_photo(size, size, 2)
    net = load("hide", None, dev)

    def ours(precision: str) -> Callable[[], None]:
        def work() -> None:
            stego = hiding.hide(cover, secret, net, precision=precision)
            hiding.reveal(stego, net, precision=precision)
        return work

    reference = HiNet16().eval().to(dev)
    to_tensor = lambda image: torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255)  # noqa: E731
    cover_t, secret_t = to_tensor(cover).to(dev), to_tensor(secret).to(dev)

    def theirs(precision: str) -> Callable[[], None]:
        def work() -> None:
            cast = (torch.autocast(dev, dtype=torch.bfloat16) if precision == "bfloat16"
                    else contextlib.nullcontext())
            with torch.no_grad(), cast:
                stego, r = reference.hide(cover_t, secret_t)
                reference.reveal(stego, r)
            if dev == "cuda":
                torch.cuda.synchronize()
        return work

    def median_time(work: Callable[[], None]) -> float:
        work()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    precisions = ["float32"] + (["bfloat16"] if default == "bfloat16" else [])
    ours_s = {p: median_time(ours(p)) for p in precisions}
    theirs_s = {p: median_time(theirs(p)) for p in precisions}
    theirs_nhwc_s: dict[str, float] = {}
    if dev == "cpu":  # what zoo.load gives ours there
        reference.to(memory_format=torch.channels_last)
        theirs_nhwc_s = {p: median_time(theirs(p)) for p in precisions}
    fastest = min([*theirs_s.values(), *theirs_nhwc_s.values()])
    result = {"size": f"{size}x{size}", "device": dev, "threads": torch.get_num_threads(),
              "repeats": repeats, "model": net.name, "precision": default,
              "stegnet_hide_reveal_s": round(ours_s[default], 3),
              "hinet16_hide_reveal_s": round(theirs_s["float32"], 3),
              "speedup": round(theirs_s["float32"] / ours_s[default], 2),
              "speedup_same_precision": round(theirs_s[default] / ours_s[default], 2),
              "speedup_vs_fastest_reference": round(fastest / ours_s[default], 2),
              "hinet16_fastest_hide_reveal_s": round(fastest, 3),
              "stegnet_parameters": parameters(net.module),
              "hinet16_parameters": parameters(reference)}
    for p in precisions:
        result[f"stegnet_hide_reveal_{p}_s"] = round(ours_s[p], 3)
        result[f"hinet16_hide_reveal_{p}_s"] = round(theirs_s[p], 3)
        if p in theirs_nhwc_s:
            result[f"hinet16_hide_reveal_{p}_channels_last_s"] = round(theirs_nhwc_s[p], 3)
    return result

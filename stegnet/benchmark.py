"""Speed and memory benchmark behind ``stegnet bench`` (prints numbers; no assertions).

For each square size it times one hide + reveal and one embed + extract of a
full-capacity payload on a synthetic photo (model already loaded, so the times
are model + I/O-free pipeline time), and reports the process's peak resident
memory so far (sizes run in increasing order, so each row's peak is that size's
peak) and, on CUDA, the peak GPU memory.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable

from stegnet.synthetic import synthetic_photo


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_benchmark(
    sizes: list[int], device: str = "auto", methods: list[str] | None = None,
    echo: Callable[[str], None] | None = print,
) -> list[dict]:
    import torch

    from stegnet import bits, hiding
    from stegnet.device import resolve_device
    from stegnet.zoo import get_model_info, load_model

    methods = methods or ["hide", "bits"]
    dev = resolve_device(device)
    rows = []
    for size in sorted(sizes):
        cover, secret = synthetic_photo(size, size, 1), synthetic_photo(size, size, 2)
        row: dict = {"size": size, "device": dev, "threads": torch.get_num_threads()}
        if dev == "cuda":
            torch.cuda.reset_peak_memory_stats()
        if "hide" in methods:
            net = load_model("hide", None, dev)
            started = time.perf_counter()
            stego = hiding.hide(cover, secret, net, dev)
            row["hide_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            hiding.reveal(stego, net, dev)
            row["reveal_s"] = round(time.perf_counter() - started, 3)
        if "bits" in methods:
            info = get_model_info("bits")
            flow = load_model("bits", info.name, dev)
            cap = bits.capacity(size, size, False, bits.ecc_nsym(info.name))
            payload = bytes(range(256)) * (cap // 256) + bytes(cap % 256)
            started = time.perf_counter()
            report = bits.embed(cover, payload, None, flow, info.name, dev)
            embed_s = time.perf_counter() - started
            started = time.perf_counter()
            bits.extract(report.stego, None, flow, info.name, dev)
            extract_s = time.perf_counter() - started
            row.update(payload_bytes=cap, embed_s=round(embed_s, 3),
                       extract_s=round(extract_s, 3),
                       embed_bytes_per_s=round(cap / embed_s), extract_bytes_per_s=round(
                           cap / extract_s))
        row["peak_rss_mib"] = round(peak_rss_mib(), 1)
        if dev == "cuda":
            row["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        rows.append(row)
        if echo is not None:
            echo("  ".join(f"{k}={v}" for k, v in row.items()))
    return rows

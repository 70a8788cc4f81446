"""Figures for ``results/`` (needs the optional ``matplotlib``: ``pip install .[plots]``).

``python -m stegnet.plots [--data ../shared/data/train]`` writes:

* ``results/training-curves.png``: validation quality vs training step of every published
  model (``results/<model>/training-log.jsonl``), i.e. quality vs steps and, across hide
  models of different sizes, quality vs model size;
* ``results/examples-hide.png`` and ``results/examples-bits.png``: cover / stego /
  amplified difference (x10) / secret / revealed for a few held-out photos, after PNG.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"


def _logs() -> dict[str, list[dict]]:
    logs = {}
    for path in sorted(RESULTS.glob("*/training-log.jsonl")):
        logs[path.parent.name] = [json.loads(x) for x in path.read_text().splitlines() if x]
    return logs


def training_curves(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from stegnet.zoo import list_models

    tasks = {m.name: (m.task, m.card.get("parameters")) for m in list_models()}
    fig, (ax_hide, ax_bits) = plt.subplots(1, 2, figsize=(12, 4.5))
    twin = ax_bits.twinx()
    for name, log in _logs().items():
        task, params = tasks.get(name, (None, None))
        steps = [r["step"] for r in log]
        if task == "hide":
            label = f"{name} ({params:,} params)" if params else name
            line, = ax_hide.plot(steps, [r["val_stego_psnr"] for r in log], label=f"{label}: "
                                 "cover/stego")
            ax_hide.plot(steps, [r["val_secret_psnr"] for r in log], "--",
                         color=line.get_color(), label=f"{label}: secret/revealed")
        elif task == "bits":
            ax_bits.plot(steps, [100 * r["val_ber"] for r in log], label=f"{name}: raw BER %")
            twin.plot(steps, [r["val_psnr"] for r in log], "--", color="tab:red",
                      label=f"{name}: PSNR (dB)")
    ax_hide.set(xlabel="training step", ylabel="PSNR after 8-bit rounding (dB)",
                title="hide: held-out validation")
    ax_hide.axhline(38, color="grey", lw=0.5)
    ax_hide.axhline(32, color="grey", lw=0.5, ls="--")
    ax_hide.legend(fontsize=7)
    ax_bits.set(xlabel="training step", ylabel="raw bit error rate (%)",
                title="embed-bits: held-out validation (no refinement)")
    twin.set_ylabel("cover/stego PSNR (dB)")
    ax_bits.legend(loc="upper left", fontsize=7)
    twin.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def example_grids(data_dir: Path, count: int = 3, size: int = 256) -> None:
    from PIL import Image

    from stegnet import bits, hiding
    from stegnet.evaluate import held_out_samples
    from stegnet.imageio import decode_png_roundtrip

    samples = held_out_samples(data_dir, size, odd=False)[: count + 1]
    rows_hide, rows_bits = [], []
    for index in range(count):
        cover, secret = samples[index].image, samples[index + 1].image
        stego = decode_png_roundtrip(hiding.hide(cover, secret))
        revealed = hiding.reveal(stego)
        diff = np.clip(np.abs(stego.astype(int) - cover.astype(int)) * 10, 0, 255)
        rows_hide.append(np.concatenate([cover, stego, diff.astype(np.uint8), secret, revealed],
                                        axis=1))
        cap = bits.measured_capacity(cover, False)
        report = bits.embed(cover, bytes(np.random.default_rng(index).integers(0, 256, cap,
                                                                                dtype=np.uint8)))
        bdiff = np.clip(np.abs(report.stego.astype(int) - cover.astype(int)) * 10, 0, 255)
        rows_bits.append(np.concatenate([cover, report.stego, bdiff.astype(np.uint8)], axis=1))
    Image.fromarray(np.concatenate(rows_hide, axis=0)).save(RESULTS / "examples-hide.png")
    Image.fromarray(np.concatenate(rows_bits, axis=0)).save(RESULTS / "examples-bits.png")


def main(argv: list[str]) -> None:
    data = Path(argv[argv.index("--data") + 1]) if "--data" in argv else Path(
        "../shared/data/train")
    training_curves(RESULTS / "training-curves.png")
    if data.is_dir():
        example_grids(data)


if __name__ == "__main__":
    main(sys.argv[1:])

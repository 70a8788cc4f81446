"""Figures for ``results/`` (needs the optional ``matplotlib``: ``pip install .[plots]``).

``python -m stegnet_research.plots [--data ../shared/data/train] [--results results]
[--out results]`` reads the result JSON under ``RESULTS`` and writes into ``OUT`` (both
relative to the current directory; nothing is written anywhere else):

* ``OUT/training-curves.png``: validation quality vs training step of every published
  model (``RESULTS/<model>/training-log.jsonl``), i.e. quality vs steps and, across hide
  models of different sizes, quality vs model size;
* ``OUT/examples-hide.png`` and ``OUT/examples-bits.png``: cover / stego /
  amplified difference (x10) / secret / revealed for a few held-out photos, after PNG
  (the zoo's default models);
* ``OUT/rate-distortion.png``: embed-bits quality vs payload, LSB replacement alongside
  (``RESULTS/rate-distortion/heldout-package-256.json``);
* ``OUT/steganalysis-roc.png``: ROC curves of every detector against every method on
  the held-out covers (``RESULTS/steganalysis/heldout-256.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path("results")  # default of --results and --out, relative to the current directory


def _logs(results: Path) -> dict[str, list[dict]]:
    logs = {}
    for path in sorted(results.glob("*/training-log.jsonl")):
        logs[path.parent.name] = [json.loads(x) for x in path.read_text().splitlines() if x]
    return logs


def training_curves(out: Path, results: Path = RESULTS) -> None:
    """Validation curves of the published models (logs under ``results``) into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from stegnet.zoo import list_models

    models = {m.name: m for m in list_models()}
    fig, (ax_hide, ax_bits) = plt.subplots(1, 2, figsize=(15, 8))
    twin = ax_bits.twinx()
    for name, log in _logs(results).items():
        model = models.get(name)
        task = model.task if model else None
        params = model.card.get("parameters") if model else None
        steps = [r["step"] for r in log]
        if task == "hide":
            label = f"{name} ({params:,} params)" if params else name
            line, = ax_hide.plot(steps, [r["val_stego_psnr"] for r in log], label=f"{label}: "
                                 "cover/stego")
            ax_hide.plot(steps, [r["val_secret_psnr"] for r in log], "--",
                         color=line.get_color(), label=f"{label}: secret/revealed")
            keyed = [r for r in log if "val_keyed_secret_psnr" in r]
            if keyed:
                ax_hide.plot([r["step"] for r in keyed],
                             [r["val_keyed_secret_psnr"] for r in keyed], ":", lw=1.5,
                             color=line.get_color(), label=f"{name}: keyed secret/revealed")
            final = model.metrics.get("secret_psnr_mean")
            if final is not None:
                ax_hide.plot([steps[-1]], [final], "*", ms=11, color=line.get_color(),
                             label=f"{name}: revealed in the table ({final} dB, 512 px)")
            config = model.card.get("training", {}).get("config", {})
            keyed_note = (f", and the same {config.get('keyed_allowance', 2.0):g} dB lower "
                          "for keyed pairs" if config.get("keyed_share", 0) > 0 else "")
            ax_hide.plot([], [], " ", label=f"{name}: best checkpoint maximises min(stego - "
                         f"{config.get('target_stego', 38.0):g}, revealed - "
                         f"{config.get('target_secret', 32.0):g}){keyed_note}")
        elif task == "bits":
            ax_bits.plot(steps, [100 * r["val_ber"] for r in log], label=f"{name}: raw BER %")
            twin.plot(steps, [r["val_psnr"] for r in log], "--", color="tab:red",
                      label=f"{name}: PSNR (dB)")
            final = model.metrics.get("psnr_mean")
            if final is not None:
                twin.axhline(final, color="tab:red", lw=1.2, ls=":",
                             label=f"{name}: shipped pipeline, table ({final} dB)")
                twin.set_ylim(top=final + 2)
    ax_hide.set(xlabel="training step", ylabel="PSNR after 8-bit rounding (dB)",
                title="hide: validation, 8 pairs of 256 px crops (each model's validation photos)")
    ax_hide.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax_bits.set(xlabel="training step", ylabel="raw bit error rate (%)",
                title="embed-bits: validation (fresh latents at T=1, no refinement)")
    twin.set_ylabel("cover/stego PSNR (dB)")
    ax_bits.legend(loc="upper left", fontsize=7)
    twin.legend(loc="lower right", fontsize=7)
    fig.text(0.5, 0.01, "Validation during training draws every latent afresh at temperature 1 "
             "and skips the refinement; the shipped embed-bits (temperature 0.6, refined) "
             "reaches the dotted line.", ha="center", fontsize=8, color="dimgrey")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _labelled_grid(rows: list[list[np.ndarray]], columns: list[str], row_labels: list[str],
                   title: str, path: Path) -> None:
    """Save rows of equally sized images with column titles and a label per row."""
    plt = _pyplot()
    n_rows, n_cols = len(rows), len(columns)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.4 * n_cols, 2.5 * n_rows + 0.6),
                             squeeze=False)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r][c]
            ax.imshow(image)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=9)
        axes[r][0].set_ylabel(row_labels[r], fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def example_grids(data_dir: Path, out: Path = RESULTS, count: int = 3, size: int = 256) -> None:
    """``out/examples-hide.png`` and ``out/examples-bits.png`` from held-out photos."""

    from stegnet import hiding
    from stegnet.channels.flow import embed as bits  # the colour flow, as the figure says
    from stegnet.imageio import decode_png_roundtrip
    from stegnet.zoo import load
    from stegnet_research.evaluate import held_out_samples

    net, flow = load("hide"), load("flow")
    samples = held_out_samples(data_dir, size, odd=False)[: count + 1]
    from stegnet.metrics import psnr

    rows_hide, rows_bits, labels_hide, labels_bits = [], [], [], []
    for index in range(count):
        cover, secret = samples[index].image, samples[index + 1].image
        stego = decode_png_roundtrip(hiding.hide(cover, secret, net))
        revealed = hiding.reveal(stego, net)
        diff = np.clip(np.abs(stego.astype(int) - cover.astype(int)) * 10, 0, 255)
        rows_hide.append([cover, stego, diff.astype(np.uint8), secret, revealed])
        labels_hide.append(f"stego {psnr(cover, stego):.1f} dB\n"
                           f"revealed {psnr(secret, revealed):.1f} dB")
        cap = bits.measured_capacity(cover, False, flow)
        payload = np.random.default_rng(index).integers(0, 256, cap, dtype=np.uint8)
        report = bits.embed(cover, payload.tobytes(), model=flow)
        bdiff = np.clip(np.abs(report.stego.astype(int) - cover.astype(int)) * 10, 0, 255)
        rows_bits.append([cover, report.stego, bdiff.astype(np.uint8)])
        labels_bits.append(f"{cap} bytes\n{psnr(cover, report.stego):.1f} dB")
    out.mkdir(parents=True, exist_ok=True)
    _labelled_grid(rows_hide, ["cover", "stego (after PNG)", "|stego - cover| x10", "secret",
                               "revealed"], labels_hide,
                   f"hide / reveal with {net.name} on held-out photos ({size} px)",
                   out / "examples-hide.png")
    _labelled_grid(rows_bits, ["cover", "stego (after PNG)", "|stego - cover| x10"],
                   labels_bits, f"embed-bits at measured capacity with {flow.name} ({size} px)",
                   out / "examples-bits.png")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def rate_distortion(source: Path, out: Path, flow: Path | None = None) -> None:
    """Three panels vs net payload (log axis): PSNR (mean, worst, LSB replacement with the
    same bits), the share of pixels changed, and the mean CIEDE2000; ``flow``: the same
    study of the colour flow's mode (``--channel flow``), drawn alongside for comparison."""
    plt = _pyplot()

    def usable(path: Path) -> list[dict]:
        curve = json.loads(path.read_text())["curve"]
        return [p for p in curve if "psnr" in p and p["net_bpp"]["mean"] > 0]

    points = usable(source)
    bpp = [p["net_bpp"]["mean"] for p in points]
    other = usable(flow) if flow is not None and flow.exists() else []
    other_bpp = [p["net_bpp"]["mean"] for p in other]
    fig, (ax_psnr, ax_changed, ax_de) = plt.subplots(1, 3, figsize=(15, 4.2))
    ax_psnr.plot(bpp, [p["psnr"]["mean"] for p in points], "o-", color="tab:blue",
                 label="pixel channel (default), mean")
    ax_psnr.plot(bpp, [p["psnr"]["min"] for p in points], "o--", color="tab:blue", alpha=0.5,
                 label="pixel channel (default), worst image")
    lsb = [p for p in points if p.get("lsb_psnr", {}).get("mean") is not None]
    ax_psnr.plot([p["net_bpp"]["mean"] for p in lsb], [p["lsb_psnr"]["mean"] for p in lsb],
                 "s-", color="tab:grey", label="LSB replacement, same bits (reference)")
    ax_psnr.set(xscale="log", xlabel="net payload (bit/pixel, log scale)",
                ylabel="cover vs stego PSNR (dB)",
                title="Quality vs payload (held-out, after 8-bit PNG)")
    if other:
        ax_psnr.plot(other_bpp, [p["psnr"]["mean"] for p in other], "^:", color="tab:green",
                     label="colour flow (-c flow), mean")
    ax_psnr.legend(fontsize=8)
    ax_changed.plot(bpp, [100 * p["changed_pixels"]["mean"] for p in points], "o-",
                    color="tab:orange", label="pixel channel (default), mean")
    ax_changed.plot(bpp, [100 * p["changed_pixels"]["max"] for p in points], "o--",
                    color="tab:orange", alpha=0.5, label="pixel channel (default), worst image")
    ax_changed.set(xscale="log", xlabel="net payload (bit/pixel, log scale)",
                   ylabel="pixels changed (%)", title="Share of pixels changed vs payload")
    if other:
        ax_changed.plot(other_bpp, [100 * p["changed_pixels"]["mean"] for p in other], "^:",
                        color="tab:green", label="colour flow (-c flow), mean")
    ax_changed.set_ylim(0, 100)
    ax_changed.legend(fontsize=8)
    ax_de.plot(bpp, [p["delta_e00_mean"]["mean"] for p in points], "o-", color="tab:red",
               label="pixel channel (default), mean over images")
    if other:
        ax_de.plot(other_bpp, [p["delta_e00_mean"]["mean"] for p in other], "^:",
                   color="tab:green", label="colour flow (-c flow), mean")
    ax_de.set_ylim(bottom=0)
    ax_de.set(xscale="log", xlabel="net payload (bit/pixel, log scale)",
              ylabel="mean CIEDE2000 (cover vs stego)",
              title="Colour difference vs payload (lower is better)")
    ax_de.legend(fontsize=8)
    fig.text(0.5, 0.01, "last point of each curve: each cover's capacity (pixel channel: 3 bits "
             "per pixel less framing; colour flow: measured, full re-synthesis)",
             ha="center", fontsize=8, color="dimgrey")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _roc(clean: list[float], stego: list[float]) -> tuple[list[float], list[float]]:
    thresholds = sorted(set(clean) | set(stego), reverse=True)
    false_pos = [0.0] + [float(np.mean(np.asarray(clean) >= t)) for t in thresholds]
    true_pos = [0.0] + [float(np.mean(np.asarray(stego) >= t)) for t in thresholds]
    return false_pos, true_pos


def steganalysis_roc(source: Path, out: Path) -> None:
    from stegnet_research.cards import DETECTOR_NAMES

    plt = _pyplot()
    result = json.loads(source.read_text())
    per_image = result["heldout_per_image"]
    methods = list(result["detection"])
    fig, axes = plt.subplots(1, len(methods), figsize=(3.3 * len(methods), 3.5))
    for ax, method in zip(axes, methods, strict=True):
        for det, values in per_image["statistics"]["clean"].items():
            fpr, tpr = _roc(values, per_image["statistics"][method][det])
            auc = result["detection"][method][det]["auc"]
            ax.plot(fpr, tpr, label=f"{DETECTOR_NAMES[det]} {auc:.2f}")
        if method in per_image["cnn_logits"]:
            logits = per_image["cnn_logits"][method]
            fpr, tpr = _roc(logits["clean"], logits["stego"])
            ax.plot(fpr, tpr, "k-", lw=2,
                    label=f"CNN {result['detection'][method]['cnn']['auc']:.2f}")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set(title=method, xlabel="false positive rate")
        ax.legend(fontsize=7, loc="lower right", title="AUC", title_fontsize=7)
    axes[0].set_ylabel("true positive rate")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m stegnet_research.plots",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/train"),
                        help="training photos (held-out split) for the example grids; "
                             "skipped if not a folder")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the result JSON files read (default: results)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder the figures are written to (default: --results)")
    args = parser.parse_args(argv)
    results, out = args.results, args.out if args.out is not None else args.results
    out.mkdir(parents=True, exist_ok=True)
    training_curves(out / "training-curves.png", results)
    rd = results / "rate-distortion" / "heldout-package-256.json"
    if rd.exists():
        rate_distortion(rd, out / "rate-distortion.png",
                        results / "rate-distortion" / "heldout-package-256-flow.json")
    analysis = results / "steganalysis" / "heldout-256.json"
    if analysis.exists():
        steganalysis_roc(analysis, out / "steganalysis-roc.png")
    if args.data.is_dir():
        example_grids(args.data, out)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Markdown table and figure of a robust-channel study (:mod:`stegnet_research.robustbits`).

``write_report(result, out)`` writes ``OUT/robust.md`` (the README table) and
``OUT/robust.png`` (needs matplotlib): per channel, the share of photos whose whole
payload came back, and the mean bit accuracy before error correction, for stegnet and
every peer.
"""

from __future__ import annotations

from pathlib import Path

CHANNEL_LABELS = {
    "png": "PNG (lossless)", "jpeg75": "JPEG 75", "jpeg50": "JPEG 50",
    "resize50": "resize 50%", "long1600": "resize to 1600 px", "png-jpeg85-png":
    "PNG>JPEG 85>PNG", "noise2": "noise sigma 2", "resize50-jpeg75": "50% + JPEG 75",
    "jpeg30": "JPEG 30", "resize25": "resize 25%", "resize50-jpeg50": "50% + JPEG 50",
    "noise5": "noise sigma 5",
    "msg1280-jpeg80": "1280 px + JPEG 80", "crop1-msg": "crop 1% +msg",
    "crop5-msg": "crop 5% +msg", "crop10-msg": "crop 10% +msg",
    "aspect4x5-msg": "4:5 crop +msg", "aspect1x1-msg": "1:1 crop +msg",
    "rotate1-cut-msg": "turn 1 deg +msg", "rotate3-cut-msg": "turn 3 deg +msg",
    "rotate3-filled-msg": "turn 3 deg, corners filled +msg", "mirror-msg": "mirror +msg",
    "long1600-jpeg70": "1600 px + JPEG 70", "long960-jpeg71": "960 px + JPEG 71",
    "webp75": "WebP 75", "webp50": "WebP 50", "jpeg90-jpeg70": "JPEG 90 then 70",
    "jpeg444-q60": "JPEG 4:4:4 q60", "bilinear80": "80% bilinear",
    "gamma-brighter": "brighter (gamma 0.9)", "long512": "512 px",
    "long512-jpeg80": "512 px + JPEG 80",
}


def _methods(result: dict) -> list[tuple[str, str, int]]:
    """(key, label, payload bits) of every method in the study, stegnet first."""
    bits = 8 * result["payload_bytes"]
    layouts = result.get("layouts", {"stegnet": "whole"})
    methods = [(key, f"stegnet robust, {layout} layout ({result['payload_bytes']} bytes)"
                if "layouts" in result else
                f"stegnet --robust ({result['payload_bytes']} bytes)", bits)
               for key, layout in layouts.items()]
    for name in result["peers"]:
        peer, peer_bits = name.split(":")
        methods.append((name, f"{peer} ({peer_bits} bits)", int(peer_bits)))
    return methods


def table(result: dict) -> str:
    """Markdown: one row per method, one column per channel (exact share / bit accuracy)."""
    agg = result["aggregate"]
    channels = result["channels"]
    head = ["method", "payload bits", "PSNR dB (min)", "CIEDE2000"]
    head += [CHANNEL_LABELS.get(c, c) for c in channels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, bits in _methods(result):
        a = agg[key]
        cells = [label.rsplit(" (", 1)[0], str(bits), f"{a['psnr_mean']:.1f} ({a['psnr_min']:.1f})",
                 f"{a['delta_e00_mean']:.2f}"]
        for channel in channels:
            c = a["channels"][channel]
            exact = a["photos"] - c["failures"]
            cells.append(f"{exact}/{a['photos']} ({100 * c['bit_accuracy_mean']:.1f}%)")
        lines.append("| " + " | ".join(cells) + " |")
    big = result.get("big")
    note = (f"\nCells: photos whose whole payload came back exactly / photos (mean bit "
            f"accuracy before Reed-Solomon: for stegnet its channel bits, each the sum of "
            f"its repeated slots; for the peers their raw bits, which have no error "
            f"correction). {result['dataset']}; {result['peer_note']}.")
    if big:
        ok = sum(v["exact"] for v in big["channels"].values())
        read = max(v["seconds"] for v in big["channels"].values())
        note += (f" One photo at {big['width']}x{big['height']} "
                 f"({big['width'] * big['height'] / 1e6:.0f} MP): stegnet embeds in "
                 f"{big['embed_seconds']:.1f} s at {big['psnr']:.1f} dB, reads in at most "
                 f"{read:.1f} s, and reads back {ok}/{len(big['channels'])} channels exactly.")
    return "\n".join(lines) + "\n" + note + "\n"


def figure(result: dict, path: Path) -> None:
    """Two panels: exact-payload share and mean bit accuracy per channel and method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    channels = result["channels"]
    methods = _methods(result)
    agg = result["aggregate"]
    x = np.arange(len(channels))
    width = 0.8 / len(methods)
    fig, axes = plt.subplots(2, 1, figsize=(14, 7.5), sharex=True)
    for i, (key, label, _) in enumerate(methods):
        a = agg[key]
        exact = [1 - a["channels"][c]["failure_rate"] for c in channels]
        accuracy = [a["channels"][c]["bit_accuracy_mean"] for c in channels]
        label = f"{label}, {a['psnr_mean']:.1f} dB"
        axes[0].bar(x + (i - (len(methods) - 1) / 2) * width, exact, width, label=label)
        axes[1].bar(x + (i - (len(methods) - 1) / 2) * width, accuracy, width, label=label)
    axes[0].set_ylabel("photos with the whole\npayload back (share)")
    axes[0].set_ylim(0, 1.05)
    axes[1].set_ylabel("mean bit accuracy\n(before Reed-Solomon)")
    axes[1].set_ylim(0.4, 1.01)
    axes[1].set_xticks(x, [CHANNEL_LABELS.get(c, c) for c in channels], rotation=30,
                       ha="right")
    axes[1].set_xlabel("channel the stego went through")
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="method")
    photos = agg[methods[0][0]]["photos"]
    size = result["dataset"].split("resized to ")[-1]
    axes[0].set_title(f"Robust payloads after lossy channels ({photos} held-out photos, "
                      f"{size}; peers helped by undoing resizes)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: dict, out: Path, name: str = "robust") -> None:
    """``OUT/NAME.md`` (the table) and ``OUT/NAME.png`` (the figure)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(table(result))
    figure(result, out / f"{name}.png")

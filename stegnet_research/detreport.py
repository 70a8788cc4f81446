"""Figure and table of the detection-vs-payload study (:mod:`stegnet_research.detstudy`).

:func:`plot` draws held-out accuracy vs payload (one panel per detector, one line per
method, 95 % Wilson intervals); :func:`markdown_table` is the README table. Both read
only the study's result dict (``OUT.json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stegnet_research import detset
from stegnet_research.detscore import DETECTORS

LABELS = {"rs": "RS", "spa": "SPA", "spam": "SPAM-686 + ridge FLD",
          "xunet": "SRM CNN (26 k, shipped design)", "strong": "strong CNN (250 k)"}
SHORT = {"rs": "RS", "spa": "SPA", "spam": "SPAM-686 + FLD", "xunet": "SRM CNN 26k",
         "strong": "strong CNN"}
METHOD_LABELS = {"lsbm": "LSB matching", "hill": "HILL", "suniward": "S-UNIWARD",
                 "bits": "embed-bits (ours)", "hide": "hide (ours, a whole image)"}


def _curve(result: dict, method: str, det: str) -> list[tuple[float, float, list[float], str]]:
    rows = []
    for kind, entry in result["results"].get(method, {}).items():
        score_ = entry["detectors"].get(det)
        if score_ is not None:
            rows.append((entry["net_bpp"], score_["accuracy"], score_["accuracy_ci95"], kind))
    return sorted(rows)


def plot(result: dict, path: Path) -> None:
    """Held-out accuracy vs payload: one panel per detector, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    dets = [d for d in DETECTORS if any(d in e["detectors"] for m in result["results"].values()
                                         for e in m.values())]
    methods = list(result["results"])
    colours = dict(zip(detset.METHODS, ("tab:grey", "tab:orange", "tab:green", "tab:blue",
                                        "tab:purple"), strict=True))
    columns = 2 if len(dets) == 4 else 3 if len(dets) > 4 else max(1, len(dets))
    rows = -(-max(1, len(dets)) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 3.9 * rows + 0.9),
                             sharey=True, squeeze=False)
    ticks = sorted({e["net_bpp"] for m in result["results"].values() for e in m.values()
                    if e["net_bpp"] < 8})
    handles: dict[str, object] = {}
    for ax, det in zip(axes.flat, dets, strict=False):
        for method in methods:
            curve = _curve(result, method, det)
            if not curve:
                continue
            label = METHOD_LABELS.get(method, method)
            colour = colours.get(method)
            if method == "hide":  # one payload (a whole image): a level, not a curve
                accuracy = curve[0][1]
                line = ax.axhline(accuracy, color=colour, ls="-.", lw=1.5, label=label)
            else:
                x = [c[0] for c in curve]
                y = [c[1] for c in curve]
                err = np.array([[c[1] - c[2][0] for c in curve], [c[2][1] - c[1] for c in curve]])
                line = ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=2, color=colour,
                                   label=label)
                if any(c[3].endswith("capacity") for c in curve):
                    cap = [c for c in curve if c[3].endswith("capacity")][0]
                    ax.annotate("capacity", (cap[0], cap[1]), textcoords="offset points",
                                xytext=(3, -10), fontsize=7, color=colour)
            handles.setdefault(label, line)
        chance = ax.axhline(0.5, color="black", ls=":", lw=1, label="chance (50%)")
        ax.text(0.02, 0.505, "chance 50%", transform=ax.get_yaxis_transform(), fontsize=7,
                va="bottom")
        handles.setdefault("chance (50%)", chance)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_xticks(ticks, [f"{t:.2g}" for t in ticks], fontsize=7)
        ax.set_ylim(0.4, 1.02)
        ax.set_title(LABELS[det], fontsize=10)
        ax.set_xlabel("payload (net bit/pixel, log scale)")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("held-out accuracy (95% Wilson)")
    for ax in list(axes.flat)[len(dets):]:
        ax.set_visible(False)
    photos = result["split"]["photos"]
    fewer = result.get("settings", {}).get("method_photos") or {}
    note = "".join(f"; {METHOD_LABELS.get(m, m)}: {n[1]} photos" for m, n in fewer.items()
                   if n[1])  # 0: all of the split's photos
    fig.suptitle(f"Detection vs payload: held-out accuracy on {photos['heldout']} photos of "
                 f"held-out packages ({result['split']['covers']['heldout']} covers + stego"
                 f"{note})", fontsize=11)
    fig.legend(list(handles.values()), list(handles), loc="lower center",
               ncol=min(3 * columns, len(handles)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(result: dict) -> str:
    """The README table: one row per method and payload, one column per detector
    (held-out accuracy and its 95% interval), plus payload and PSNR."""
    dets = [d for d in DETECTORS if any(d in e["detectors"] for m in result["results"].values()
                                         for e in m.values())]
    header = ("| method | payload (bit/pixel) | PSNR (dB) | covers | "
              + " | ".join(SHORT[d] for d in dets) + " |")
    lines = [header, "|" + "---|" * (4 + len(dets))]
    for method, kinds in result["results"].items():
        for kind, entry in sorted(kinds.items(), key=lambda kv: kv[1]["net_bpp"]):
            payload = "image" if kind.endswith("image") else f"{entry['net_bpp']:.3g}"
            if kind.endswith("capacity"):
                payload = f"{entry['net_bpp']:.3g} (capacity)"
            cells = []
            for det in dets:
                found = entry["detectors"].get(det)
                cells.append("" if found is None else
                             f"{found['accuracy']:.2f} ({found['accuracy_ci95'][0]:.2f}-"
                             f"{found['accuracy_ci95'][1]:.2f})")
            lines.append(f"| {METHOD_LABELS.get(method, method)} | {payload} | "
                         f"{entry['psnr']:.1f} | {entry['heldout_covers']} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)

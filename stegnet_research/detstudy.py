"""Detection vs payload: how detectable is each embedding method at each payload?

One command builds the cover / stego sets (:mod:`stegnet_research.detset`: LSB matching,
HILL, S-UNIWARD, ``embed-bits`` at 0.02-0.4 bit/pixel and at capacity, ``hide`` as a
reference), trains the CNN detectors (:mod:`stegnet_research.train.detmixed`: per method, on all
its payloads at once, the shipped 26 k-parameter SRM CNN ``xunet`` and the ~250 k
``strong`` one) and scores every detector on every method and payload:

* split by source package (:func:`stegnet_research.data.split_by_package`): no package has
  photos on both sides; the ``heldout`` covers are only ever used for the numbers below;
* classic detectors (RS, SPA of :mod:`stegnet.analysis`): the threshold of each method and
  payload is fitted on the train covers (best accuracy there) and applied to held-out;
* CNNs: the threshold of each payload is fitted on the validation covers of the train
  split (every 10th training photo, never trained on); accuracy at the network's own
  decision (logit 0) is reported too;
* held-out accuracy with its 95 % Wilson interval (2 decisions per cover: clean and
  stego), AUC (threshold-free) and the best-threshold accuracy on held-out (optimistic).

Everything is resumable (run the same command again): sets keep their files, detectors
their checkpoints, the statistics and logits their caches under ``WORK``. Writes
``OUT.json`` (with the command and settings), ``OUT.png`` (held-out accuracy vs payload,
one panel per detector, one line per method) and prints a markdown table
(:func:`markdown_table`; ``--table OUT.json`` prints it again).

Full study (a few hours on 2 cores): ``python -m stegnet_research.detstudy --data
../shared/data/train --work runs/detstudy --out results/detection-vs-payload``; a quick
check (~15 minutes): add ``--quick``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from stegnet_research import detset

DETECTORS = ("rs", "spa", "xunet", "strong")
CLASSIC = {"rs": "rs_analysis", "spa": "sample_pairs"}
LABELS = {"rs": "RS", "spa": "SPA", "xunet": "SRM CNN (26 k, shipped design)",
          "strong": "strong CNN (250 k)"}
SHORT = {"rs": "RS", "spa": "SPA", "xunet": "SRM CNN 26k", "strong": "strong CNN"}
METHOD_LABELS = {"lsbm": "LSB matching", "hill": "HILL", "suniward": "S-UNIWARD",
                 "bits": "embed-bits (ours)", "hide": "hide (ours, a whole image)"}


@dataclass
class StudySettings:
    """Everything that defines a study run (saved in the result JSON)."""

    data: str = "../shared/data/train"
    work: str = "runs/detstudy"
    out: str = "results/detection-vs-payload"
    methods: tuple[str, ...] = detset.METHODS
    rates: tuple[float, ...] = detset.RATES
    capacity: bool = True
    train_photos: int = 150
    heldout_photos: int = 100
    method_photos: dict = field(default_factory=lambda: {"bits": [60, 50]})
    detectors: tuple[str, ...] = DETECTORS
    steps: dict = field(default_factory=lambda: {"strong": 900, "xunet": 1500})
    minutes: dict = field(default_factory=lambda: {"strong": 20.0, "xunet": 12.0})
    val_every: int = 150
    val_covers: int = 24
    size: int = detset.SIZE
    crop: int = 128
    workers: int = 1
    threads: int = 1

    def set_spec(self) -> detset.SetSpec:
        return detset.SetSpec(data=self.data, out=str(Path(self.work, "set")),
                              methods=tuple(self.methods), rates=tuple(self.rates),
                              capacity=self.capacity, train_photos=self.train_photos,
                              heldout_photos=self.heldout_photos, size=self.size,
                              method_photos=dict(self.method_photos))


QUICK = {"methods": ("lsbm", "hill"), "rates": (0.1, 0.4), "train_photos": 24,
         "heldout_photos": 12, "method_photos": {}, "steps": {"strong": 150, "xunet": 200},
         "minutes": {"strong": 4.0, "xunet": 2.0}, "val_every": 50, "val_covers": 8}


# ------------------------------------------------------------------------------ caches


def _load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save_json(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, indent=0, sort_keys=True))
    temp.replace(path)


def evaluation_names(set_dir: Path, kinds: list[str],
                     covers: dict[str, set[str]] | None = None) -> dict[str, dict[str, list[str]]]:
    """``{split: {kind: names}}`` of the covers with a clean and a ``kind`` image (only
    those in ``covers[split]`` if given: the set folder may hold more than this study's)."""
    return {split: {kind: [n for n in detset.names_of(set_dir, split, kind)
                           if covers is None or n in covers[split]] for kind in kinds}
            for split in detset.SPLITS}


def classic_statistics(set_dir: Path, cache: Path, names: dict[str, dict[str, list[str]]],
                       detectors: list[str],
                       progress: Callable[[int, int], None] | None = None) -> dict:
    """``{"split/kind/name": {"rs": .., "spa": ..}}`` for every image (kind ``clean`` too),
    cached in ``cache`` (saved every 100 images: resumable)."""
    from stegnet import analysis
    from stegnet_research.train.detmixed import read_image

    stats = _load_json(cache)
    todo = []
    for split, per_kind in names.items():
        for kind, kind_names in per_kind.items():
            for name in kind_names:
                for folder in ("clean", kind):
                    key = f"{split}/{folder}/{name}"
                    if any(d not in stats.get(key, {}) for d in detectors):
                        todo.append(key)
    todo = list(dict.fromkeys(todo))
    for done, key in enumerate(todo, 1):
        image = read_image(Path(set_dir, f"{key}.png"))
        row = stats.setdefault(key, {})
        for det in detectors:
            row[det] = round(float(getattr(analysis, CLASSIC[det])(image)), 6)
        if done % 100 == 0:
            _save_json(stats, cache)
        if progress is not None:
            progress(done, len(todo))
    _save_json(stats, cache)
    return stats


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def cnn_logits(set_dir: Path, weights: Path, cache: Path, keys: list[str]) -> dict[str, float]:
    """``{"split/folder/name": logit}`` of a trained detector, cached per weights file."""
    from stegnet_research.train.detmixed import load_detector, logits_of

    digest = _file_digest(weights)
    stored = _load_json(cache)
    logits = stored.get("logits", {}) if stored.get("weights") == digest else {}
    todo = [k for k in dict.fromkeys(keys) if k not in logits]
    if todo:
        model = load_detector(weights)
        for start in range(0, len(todo), 64):
            chunk = todo[start : start + 64]
            values = logits_of(model, [Path(set_dir, f"{k}.png") for k in chunk])
            logits.update({k: round(float(v), 4) for k, v in zip(chunk, values, strict=True)})
            _save_json({"weights": digest, "logits": logits}, cache)
    return logits


# ------------------------------------------------------------------------------- scores


def score(train_clean: list[float], train_stego: list[float], held_clean: list[float],
          held_stego: list[float], fixed_threshold: float | None = None) -> dict:
    """Held-out scores of "statistic >= t means stego" with t fitted on the train values.

    ``fixed_threshold`` (CNN logits: 0) adds ``accuracy_fixed`` at that threshold.
    """
    from stegnet_research.detection_stats import (
        accuracy_at,
        best_threshold,
        detection_scores,
        wilson_interval,
    )

    decisions = len(held_clean) + len(held_stego)
    threshold = best_threshold(train_clean, train_stego) if train_clean else 0.0
    accuracy = accuracy_at(held_clean, held_stego, threshold)
    optimistic = detection_scores(held_clean, held_stego)
    out = {"accuracy": accuracy, "accuracy_ci95": wilson_interval(accuracy, decisions),
           "auc": optimistic["auc"], "best_threshold_accuracy": optimistic["accuracy"],
           "threshold": round(threshold, 6) if np.isfinite(threshold) else None,
           "heldout_covers": len(held_clean), "threshold_fit_covers": len(train_clean)}
    if fixed_threshold is not None:
        # strict ">" at logit 0, as the network decides (and as the shipped detectors score)
        correct = (np.asarray(held_clean) <= fixed_threshold).sum() + (
            np.asarray(held_stego) > fixed_threshold).sum()
        fixed = round(float(correct / decisions), 4) if decisions else 0.0
        out["accuracy_logit0"] = fixed
        out["accuracy_logit0_ci95"] = wilson_interval(fixed, decisions)
    return out


# ---------------------------------------------------------------------------- the study


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def detector_config(settings: StudySettings, method: str, arch: str, covers: list[str]):
    from stegnet_research.train import detmixed

    return detmixed.MixedTrainConfig(
        data=str(Path(settings.work, "set")), method=method, arch=arch,
        out=str(Path(settings.work, "detectors", f"{arch}-{method}")),
        steps=settings.steps[arch], covers=sorted(covers), val_every=settings.val_every,
        val_covers=settings.val_covers, threads=settings.threads,
        **detmixed.recipe(arch, crop=settings.crop))


def _train_job(job: tuple) -> str:
    """Train (or resume) one detector; a process-pool job."""
    import torch

    from stegnet_research.train import detmixed

    cfg, minutes = job
    torch.set_num_threads(cfg.threads)
    if not detmixed.is_done(cfg.out, cfg.steps, minutes):
        detmixed.train(cfg, minutes=minutes)
    return cfg.out


def train_detectors(settings: StudySettings, jobs: list[tuple[str, str]], covers: list[str],
                    log: Callable[[str], None]) -> dict[str, dict[str, dict]]:
    """Train (or resume, or skip if done) the CNN detectors ``[(method, arch)]``, in
    ``settings.workers`` processes; -> ``{method: {arch: run info}}``."""
    from stegnet_research.train import detmixed

    todo = []
    for method, arch in jobs:
        cfg = detector_config(settings, method, arch, covers)
        minutes = settings.minutes.get(arch)
        if not detmixed.is_done(cfg.out, cfg.steps, minutes):
            log(f"training {arch} detector for {method} ({cfg.steps} steps, "
                f"{minutes} min budget) in {cfg.out}")
            todo.append((cfg, minutes))
    if settings.workers > 1 and len(todo) > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(settings.workers) as pool:
            for out in pool.imap_unordered(_train_job, todo):
                log(f"  trained {out}")
    else:
        for job in todo:
            log(f"  trained {_train_job(job)}")
    info: dict[str, dict[str, dict]] = {}
    for method, arch in jobs:
        out = Path(settings.work, "detectors", f"{arch}-{method}")
        records = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines() if x]
        best = [r for r in records if r.get("best")][-1]
        model = detmixed.load_detector(out / "best.safetensors")
        info.setdefault(method, {})[arch] = {
            "run": str(out), "architecture": type(model).__name__,
            "parameters": _params(model),
            "config": json.loads((out / "config.json").read_text()),
            "steps_done": records[-1]["step"], "best_step": best["step"],
            "minutes": round(detmixed.spent_minutes(out), 1),
            "validation_at_best": {k: v for k, v in best.items() if k.startswith("val_")}}
        info[method][arch]["config"].pop("covers", None)  # the names are in the manifest
    return info


def run_study(settings: StudySettings, command: str = "",
              log: Callable[[str], None] = print) -> dict:
    """Build, train, evaluate; write ``OUT.json`` and ``OUT.png``; return the result."""
    from stegnet_research.data import PACKAGE_RULE
    from stegnet_research.train.detector import split_validation

    timings: dict[str, float] = {}
    started = time.time()
    spec = settings.set_spec()
    set_dir = Path(spec.out)
    log(f"building the sets in {set_dir}")
    manifest = detset.build(spec, settings.workers, progress=lambda d, t: (
        log(f"  {d}/{t} photos") if d % 25 == 0 or d == t else None))
    timings["build_s"] = round(time.time() - started, 1)
    kinds = spec.kinds
    chosen = {split: set(manifest["covers"][split]) for split in detset.SPLITS}
    names = evaluation_names(set_dir, kinds, chosen)
    classic = [d for d in settings.detectors if d in CLASSIC]
    stats: dict = {}
    if classic:
        log("classic statistics (RS, SPA)")
        stats = classic_statistics(set_dir, Path(settings.work, "classic.json"), names,
                                   classic, progress=lambda d, t: (
                                       log(f"  {d}/{t} images") if d % 500 == 0 else None))
    timings["classic_s"] = round(time.time() - started - sum(timings.values()), 1)
    methods = []
    for method in settings.methods:
        method_kinds = [k for k in kinds if detset.parse_kind(k)[0] == method]
        if any(names["train"][k] for k in method_kinds):
            methods.append(method)
        else:
            log(f"{method}: no stego images, skipped")
    archs = [a for a in ("xunet", "strong") if a in settings.detectors]
    detectors_info = train_detectors(settings, [(m, a) for m in methods for a in archs],
                                     sorted(chosen["train"]), log)
    timings["train_s"] = round(time.time() - started - sum(timings.values()), 1)
    results: dict[str, dict] = {}
    for method in methods:
        method_kinds = [k for k in kinds if detset.parse_kind(k)[0] == method]
        info = detectors_info.get(method, {})
        # CNN threshold-fitting covers: the validation photos of the train split
        train_all = sorted(set().union(*(names["train"][k] for k in method_kinds)))
        _, val_idx = split_validation(train_all)
        validation = {train_all[i] for i in val_idx}
        logits: dict[str, dict[str, float]] = {}
        for arch in info:
            keys = [f"{split}/{folder}/{n}" for kind in method_kinds
                    for split in detset.SPLITS for n in names[split][kind]
                    if split == "heldout" or n in validation for folder in ("clean", kind)]
            logits[arch] = cnn_logits(set_dir, Path(info[arch]["run"], "best.safetensors"),
                                      Path(settings.work, "logits", f"{arch}-{method}.json"),
                                      keys)
        results[method] = {}
        for kind in method_kinds:
            held = names["heldout"][kind]
            train_names = names["train"][kind]
            if not held:
                continue
            rows = [manifest["covers"]["heldout"][n]["kinds"][kind] for n in held]
            entry: dict = {"kind": kind, "heldout_covers": len(held),
                           "net_bpp": round(float(np.mean([r["net_bpp"] for r in rows])), 5),
                           "psnr": round(float(np.mean([r["psnr"] for r in rows
                                                        if r["psnr"] is not None])), 3),
                           "changed_samples": round(float(np.mean(
                               [r["changed_samples"] for r in rows])), 6),
                           "detectors": {}}
            for det in classic:
                def values(split: str, folder: str, chosen: list[str], det: str = det) -> list:
                    return [stats[f"{split}/{folder}/{n}"][det] for n in chosen]

                entry["detectors"][det] = score(
                    values("train", "clean", train_names), values("train", kind, train_names),
                    values("heldout", "clean", held), values("heldout", kind, held))
            for arch, table in logits.items():
                fit = [n for n in train_names if n in validation]
                entry["detectors"][arch] = score(
                    [table[f"train/clean/{n}"] for n in fit],
                    [table[f"train/{kind}/{n}"] for n in fit],
                    [table[f"heldout/clean/{n}"] for n in held],
                    [table[f"heldout/{kind}/{n}"] for n in held], fixed_threshold=0.0)
            results[method][kind] = entry
    timings["evaluate_s"] = round(time.time() - started - sum(timings.values()), 1)
    result = {
        "study": "detection-vs-payload",
        "command": command,
        "settings": asdict(settings),
        "split": {"rule": PACKAGE_RULE, "function": "stegnet_research.data.split_by_package",
                  "photos": manifest["photos"],
                  "covers": {s: len(manifest["covers"][s]) for s in detset.SPLITS},
                  "packages": manifest["packages"]},
        "set_summary": manifest["summary"],
        "detectors": detectors_info,
        "results": results,
        "protocol": (
            "Covers: 2 per photo (256 px centre square, off-centre 256 px crop at 512 px). "
            "Classic detectors: threshold per method and payload fitted on the train "
            "covers. CNNs: one per method trained on all its payloads (train split minus "
            "every 10th photo); threshold per payload fitted on those validation covers; "
            "accuracy_logit0 is the network's own decision. Accuracy on the held-out "
            "packages with 95% Wilson interval over 2 decisions per cover; auc and "
            "best_threshold_accuracy are measured on held-out (optimistic)."),
        "notes": [
            "embed-bits and hide use the shipped models, trained on the every-10th-photo "
            "split: some held-out packages' photos were in their training set (this does "
            "not touch the detectors, which never saw a held-out package)."],
        "timings": timings,
    }
    json_path, png_path = Path(f"{settings.out}.json"), Path(f"{settings.out}.png")
    result["figure"] = str(png_path)
    plot(result, png_path)
    _save_json_pretty(result, json_path)
    return result


def _save_json_pretty(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, indent=1) + "\n")
    temp.replace(path)


# ------------------------------------------------------------------- figure and table


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
    columns = 2 if len(dets) == 4 else max(1, len(dets))
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
    fig.suptitle(f"Detection vs payload: held-out accuracy on {photos['heldout']} photos of "
                 f"held-out packages ({result['split']['covers']['heldout']} covers + stego)",
                 fontsize=11)
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


# ---------------------------------------------------------------------------------- CLI


def settings_from_args(args: argparse.Namespace) -> StudySettings:
    settings = StudySettings(data=args.data, work=args.work, out=args.out,
                             workers=args.workers, threads=args.threads)
    if args.quick:
        for key, value in QUICK.items():
            setattr(settings, key, value)
    if args.methods:
        settings.methods = tuple(m for m in args.methods.split(",") if m)
    if args.rates:
        settings.rates = tuple(float(r) for r in args.rates.split(",") if r)
    if args.no_capacity:
        settings.capacity = False
    if args.method_photos is not None:
        settings.method_photos = detset.parse_method_photos(args.method_photos)
    for name in ("train_photos", "heldout_photos", "val_every", "val_covers"):
        if getattr(args, name) is not None:
            setattr(settings, name, getattr(args, name))
    if args.detectors:
        settings.detectors = tuple(d for d in args.detectors.split(",") if d)
    for arch in ("strong", "xunet"):
        steps = getattr(args, f"steps_{arch}")
        minutes = getattr(args, f"minutes_{arch}")
        settings.steps = {**settings.steps, **({arch: steps} if steps is not None else {})}
        settings.minutes = {**settings.minutes,
                            **({arch: minutes} if minutes is not None else {})}
    unknown = set(settings.detectors) - set(DETECTORS)
    if unknown:
        raise SystemExit(f"unknown detectors {sorted(unknown)}; of {', '.join(DETECTORS)}")
    return settings


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/train")
    parser.add_argument("--work", default="runs/detstudy")
    parser.add_argument("--out", default="results/detection-vs-payload",
                        help="writes OUT.json and OUT.png")
    parser.add_argument("--quick", action="store_true",
                        help="small run (~15 min): lsbm and hill at 0.1 and 0.4, 24 + 12 "
                             "photos, short training")
    parser.add_argument("--methods", default="", help="of " + ", ".join(detset.METHODS))
    parser.add_argument("--rates", default="", help="bit/pixel, comma-separated")
    parser.add_argument("--no-capacity", action="store_true")
    parser.add_argument("--train-photos", type=int, default=None)
    parser.add_argument("--heldout-photos", type=int, default=None, help="0: all")
    parser.add_argument("--method-photos", default=None,
                        help="fewer photos for slow methods, METHOD=TRAIN:HELDOUT,... "
                             "(default bits=60:50; '' for none)")
    parser.add_argument("--detectors", default="", help="of " + ", ".join(DETECTORS))
    parser.add_argument("--steps-strong", type=int, default=None)
    parser.add_argument("--steps-xunet", type=int, default=None)
    parser.add_argument("--minutes-strong", type=float, default=None,
                        help="training budget per detector (summed over resumed runs)")
    parser.add_argument("--minutes-xunet", type=float, default=None)
    parser.add_argument("--val-every", type=int, default=None)
    parser.add_argument("--val-covers", type=int, default=None)
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for building the sets and training the detectors")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--table", default=None, metavar="RESULT.json",
                        help="only print the markdown table of an existing result")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(json.loads(Path(args.table).read_text())))
        return
    import torch

    torch.set_num_threads(args.threads)
    settings = settings_from_args(args)
    command = "python -m stegnet_research.detstudy " + shlex.join(argv)
    result = run_study(settings, command,
                       log=lambda text: print(text, flush=True))
    print(markdown_table(result))
    print(f"wrote {settings.out}.json and {settings.out}.png")


if __name__ == "__main__":
    main()

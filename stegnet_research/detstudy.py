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
* SPAM (:mod:`stegnet_research.spam`: 686 second-order pixel-difference co-occurrences)
  with a ridge-regularised Fisher linear discriminant
  (:func:`stegnet_research.jpegscore.fit_linear`), trained per method and payload on the
  train covers and their stegos; its ridge and threshold are chosen on out-of-fold scores
  of those covers (5 folds by cover) and applied to held-out;
* CNNs: the threshold of each payload is fitted on the validation covers of the train
  split (every 10th training photo, never trained on); accuracy at the network's own
  decision (logit 0) is reported too, and is the accuracy where fewer than 16 validation
  covers are available (:data:`~stegnet_research.detscore.MIN_FIT_COVERS`);
* held-out accuracy with its 95 % Wilson interval (2 decisions per cover: clean and
  stego), AUC (threshold-free) and the best-threshold accuracy on held-out (optimistic).

Everything is resumable (run the same command again): sets keep their files, detectors
their checkpoints, the statistics, SPAM features and logits their caches under ``WORK``. Writes
``OUT.json`` (with the command and settings), ``OUT.png`` (held-out accuracy vs payload,
one panel per detector, one line per method) and prints a markdown table
(:func:`~stegnet_research.detreport.markdown_table`; ``--table OUT.json`` prints it again).

This module is the runner and its command line; the per-image statistics, logits and
scores are :mod:`stegnet_research.detscore`, the figure and table
:mod:`stegnet_research.detreport`.

Full study (a few hours on 2 cores): ``python -m stegnet_research.detstudy --data
../shared/data/train --work runs/detstudy --out results/detection-vs-payload``; a quick
check (~15 minutes): add ``--quick``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stegnet_research import detset
from stegnet_research.detreport import markdown_table, plot
from stegnet_research.detscore import (
    CLASSIC,
    CNNS,
    DETECTORS,
    TRAINED,
    classic_statistics,
    evaluation_names,
    method_results,
    spam_features,
)


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
    from stegnet.zoo import load_weights
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
        model = load_weights(out / "best.safetensors", task="detect")
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
    features = None
    if any(d in TRAINED for d in settings.detectors):
        log("SPAM features")
        features = spam_features(set_dir, Path(settings.work, "spam.npz"), names,
                                 progress=lambda d, t: (
                                     log(f"  {d}/{t} images") if d % 500 == 0 else None))
        timings["spam_s"] = round(time.time() - started - sum(timings.values()), 1)
    methods = []
    for method in settings.methods:
        method_kinds = [k for k in kinds if detset.parse_kind(k)[0] == method]
        if any(names["train"][k] for k in method_kinds):
            methods.append(method)
        else:
            log(f"{method}: no stego images, skipped")
    archs = [a for a in CNNS if a in settings.detectors]
    detectors_info = train_detectors(settings, [(m, a) for m in methods for a in archs],
                                     sorted(chosen["train"]), log)
    timings["train_s"] = round(time.time() - started - sum(timings.values()), 1)
    results = {}
    for method in methods:
        runs = {arch: run["run"] for arch, run in detectors_info.get(method, {}).items()}
        results[method] = method_results(
            method, [k for k in kinds if detset.parse_kind(k)[0] == method], set_dir,
            Path(settings.work), names, manifest, stats, classic, runs, features)
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
            "covers. SPAM: SPAM-686 features (the 3 colour planes pooled) and a ridge-"
            "regularised Fisher linear discriminant trained per method and payload on the "
            "train covers and their stegos, ridge and threshold chosen on 5-fold "
            "out-of-fold scores by cover. CNNs: one per method trained on all its "
            "payloads (train split minus every 10th photo); threshold per payload fitted "
            "on those validation covers; "
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

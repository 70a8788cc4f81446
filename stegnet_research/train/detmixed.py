"""Train one CNN steganalyser per embedding method on all of its payloads at once.

Data: a set written by :mod:`stegnet_research.detset` (``train/clean``, ``train/<kind>``).
For ``method`` every kind ``<method>-*`` of the train split is used (e.g. ``lsbm-0.02``
... ``lsbm-0.4``): the detector answers "was this method used, at any payload?".

* Validation: the covers of every 10th training photo (both covers of a photo on the
  same side, as :func:`stegnet_research.train.detector.split_validation`) are never trained on;
  at most ``val_covers`` of them score each checkpoint (AUC and accuracy at logit 0,
  averaged over the payloads). The study fits its thresholds on them too.
* Batches are pair-constrained: ``batch`` covers and their own stego images, cropped at
  the same place with the same flip and rotation (the 8 symmetries of the square), so the
  only difference the network can learn is the embedding. Crops are random positions of
  the 256 px images, so every step sees new crops.
* Curriculum: payloads are sorted from the largest down; during the first
  ``curriculum`` fraction of the steps the smaller payloads join one by one (at the
  start only the largest is used), after it every payload is drawn equally often.
* Two architectures: ``strong`` (:class:`stegnet.models.detector.StrongDetector`, ~250 k
  parameters) and ``xunet`` (the shipped 26 k-parameter
  :class:`stegnet.models.detector.StegDetector`, with its own recipe's batch, crop and
  learning rate unless given), so both see the same data and schedule.
* Adam with warm-up and cosine decay, checkpoints, ``log.jsonl`` and ``best.safetensors``
  from :func:`stegnet_research.train.loop.run`: running the same command again resumes. The
  budget is ``steps`` and, optionally, ``--minutes`` of training in all (summed over
  resumed runs). ``best.safetensors`` names its registered architecture, so
  :func:`stegnet.zoo.load_weights` builds it like any zoo model.

Run: ``python -m stegnet_research.train.detmixed --data runs/detset --method lsbm --arch strong
--out runs/det-strong-lsbm --steps 1200``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from stegnet.zoo import build_model
from stegnet_research.train import loop

SCORE = "val-mean-auc-acc"
ARCHS = ("strong", "xunet")
#: The registered architecture (:mod:`stegnet.models.registry`) of each ``--arch``: what
#: :func:`stegnet.zoo.build_model` builds and the weight files name.
REGISTERED = {"strong": "strong-detector", "xunet": "steg-detector"}


@dataclass
class MixedTrainConfig:
    """Hyper-parameters of one run (saved in ``config.json`` and the checkpoint)."""

    data: str = "runs/detset"
    method: str = "lsbm"
    arch: str = "strong"
    out: str = "runs/det-strong-lsbm"
    kinds: list = field(default_factory=list)  # empty: every <method>-* kind of the set
    covers: list = field(default_factory=list)  # train covers to use; empty: all in the set
    steps: int = 1200
    batch: int = 12
    crop: int = 128
    lr: float = 1e-3
    warmup: int = 50
    val_every: int = 150
    val_covers: int = 24
    curriculum: float = 0.3
    seed: int = 0
    threads: int = 1
    model: dict = field(default_factory=dict)


def recipe(arch: str, **overrides) -> dict:
    """Default hyper-parameters of an architecture (``xunet``: the shipped recipe)."""
    from stegnet.models.detector import DetectorConfig, StrongDetectorConfig

    if arch == "strong":
        base = {"batch": 12, "crop": 128, "lr": 1e-3, "warmup": 50,
                "model": StrongDetectorConfig().to_dict()}
    elif arch == "xunet":
        base = {"batch": 16, "crop": 128, "lr": 2e-3, "warmup": 100,
                "model": DetectorConfig().to_dict()}
    else:
        raise ValueError(f"unknown architecture {arch!r}; one of {ARCHS}")
    base.update({k: v for k, v in overrides.items() if v is not None})
    return base


def method_kinds(data: str | Path, method: str, split: str = "train") -> list[str]:
    """Kinds of ``method`` present in a split, largest payload first (``capacity`` and
    ``image`` count as larger than any rate)."""
    from stegnet_research.detset import parse_kind

    folder = Path(data, split)
    kinds = [p.name for p in folder.iterdir() if p.is_dir()
             and parse_kind(p.name)[0] == method] if folder.is_dir() else []

    def size(kind: str) -> float:
        rate = parse_kind(kind)[1]
        return rate if isinstance(rate, float) else math.inf

    return sorted(kinds, key=lambda k: (-size(k), k))


def read_image(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


class MixedPairSampler:
    """Aligned random crops of (cover, stego) pairs over several kinds.

    ``sample(batch) -> (2 * batch, 3, crop, crop)`` float 0..255: covers first, then their
    stego images in the same order. Images are read from disk when drawn (a PNG decode
    is ~100 times cheaper than a training step), so the set may be larger than memory.
    """

    def __init__(self, data: str | Path, split: str, pairs: dict[str, list[str]],
                 crop: int, seed: int = 0, curriculum_steps: int = 0) -> None:
        self.folder = Path(data, split)
        self.kinds = [k for k, names in pairs.items() if names]  # largest payload first
        if not self.kinds:
            raise ValueError("no training pairs")
        self.pairs = pairs
        self.crop = crop
        self.rng = np.random.default_rng(seed)
        self.curriculum_steps = curriculum_steps
        self.step = 0

    def allowed(self) -> list[str]:
        """Kinds drawn at the current step (see the curriculum in the module docstring)."""
        if self.curriculum_steps <= 0 or len(self.kinds) == 1:
            return self.kinds
        count = 1 + int(self.step / self.curriculum_steps * (len(self.kinds) - 1))
        return self.kinds[:min(len(self.kinds), count)]

    def sample(self, batch: int) -> torch.Tensor:
        allowed = self.allowed()
        picks = np.empty((2, batch, self.crop, self.crop, 3), dtype=np.uint8)
        for i in range(batch):
            kind = allowed[int(self.rng.integers(len(allowed)))]
            names = self.pairs[kind]
            name = names[int(self.rng.integers(len(names)))]
            images = (read_image(self.folder / "clean" / f"{name}.png"),
                      read_image(self.folder / kind / f"{name}.png"))
            height, width = images[0].shape[:2]
            top = int(self.rng.integers(height - self.crop + 1))
            left = int(self.rng.integers(width - self.crop + 1))
            flip, turns = self.rng.random() < 0.5, int(self.rng.integers(4))
            for side, image in enumerate(images):
                patch = image[top : top + self.crop, left : left + self.crop]
                patch = patch[:, ::-1] if flip else patch
                picks[side, i] = np.rot90(patch, k=turns)
        self.step += 1
        images = torch.from_numpy(picks.reshape(2 * batch, self.crop, self.crop, 3))
        return images.permute(0, 3, 1, 2).float()


def validation_names(data: str | Path, kinds: list[str],
                     covers: list[str] | None = None) -> tuple[dict[str, list[str]],
                                                              dict[str, list[str]]]:
    """({kind: training names}, {kind: validation names}) of the train split.

    Every 10th photo (by name, both of its covers) of those with any of the kinds is
    validation (:func:`stegnet_research.train.detector.split_validation`); a cover on which a
    kind failed to embed is simply absent from that kind's lists.
    """
    from stegnet_research.detset import names_of
    from stegnet_research.train.detector import split_validation

    allowed = set(covers) if covers else None
    per_kind = {k: [n for n in names_of(data, "train", k) if allowed is None or n in allowed]
                for k in kinds}
    names = sorted(set().union(*per_kind.values()))
    if not names:
        raise FileNotFoundError(f"{data}: no train covers with any of {kinds}")
    _, val_idx = split_validation(names)
    validation = {names[i] for i in val_idx}
    return ({k: [n for n in v if n not in validation] for k, v in per_kind.items()},
            {k: [n for n in v if n in validation] for k, v in per_kind.items()})


@torch.no_grad()
def logits_of(model: torch.nn.Module, paths: list[Path], chunk: int = 8) -> np.ndarray:
    """Logits of images on disk (eval mode), in order."""
    model.eval()
    out = []
    for start in range(0, len(paths), chunk):
        stack = np.stack([read_image(p) for p in paths[start : start + chunk]])
        batch = torch.from_numpy(stack).permute(0, 3, 1, 2).float()
        out.append(model(batch.contiguous(memory_format=torch.channels_last)).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def spent_minutes(out: str | Path) -> float:
    """Training minutes logged so far in a run folder (summed over resumed runs)."""
    log = Path(out, "log.jsonl")
    if not log.exists():
        return 0.0
    total, last = 0.0, 0.0
    for line in log.read_text().splitlines():
        if not line.strip():
            continue
        seconds = json.loads(line)["time"]
        if seconds < last:  # a new run started: its clock restarted
            total += last
        last = seconds
    return (total + last) / 60


def checkpoint_step(out: str | Path) -> int:
    path = Path(out, "checkpoint.pt")
    return int(torch.load(path, weights_only=False)["step"]) if path.exists() else 0


def is_done(out: str | Path, steps: int, minutes: float | None) -> bool:
    """Has a run reached its budget (steps, or minutes of training)?"""
    if not Path(out, "best.safetensors").exists():
        return False
    if checkpoint_step(out) >= steps:
        return True
    return minutes is not None and spent_minutes(out) >= minutes


def train(cfg: MixedTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train (or resume) one run; the best weights by validation are ``best.safetensors``.

    ``minutes``: the training budget in all, summed over resumed runs.
    """
    from stegnet_research.detection_stats import detection_scores

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    kinds = list(cfg.kinds) or method_kinds(cfg.data, cfg.method)
    if not kinds:
        raise FileNotFoundError(f"{cfg.data}: no stego images of method {cfg.method!r}")
    cfg.kinds = kinds
    train_pairs, val_pairs = validation_names(cfg.data, kinds, cfg.covers)
    val_names = sorted(set().union(*val_pairs.values()))
    val_names = val_names[: cfg.val_covers] if cfg.val_covers else val_names
    sampler = MixedPairSampler(cfg.data, "train", train_pairs, cfg.crop, cfg.seed,
                               int(cfg.curriculum * cfg.steps))
    sampler.step = checkpoint_step(cfg.out)
    model = build_model(REGISTERED[cfg.arch], cfg.model).to(memory_format=torch.channels_last)
    labels = torch.cat([torch.zeros(cfg.batch), torch.ones(cfg.batch)])
    folder = Path(cfg.data, "train")

    def losses() -> dict[str, torch.Tensor]:
        images = sampler.sample(cfg.batch).contiguous(memory_format=torch.channels_last)
        logits = model(images)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        accuracy = ((logits > 0).float() == labels).float().mean()
        return {"loss": loss, "bce": loss.detach(), "acc": accuracy}

    def validate() -> dict[str, float]:
        clean_all = dict(zip(val_names, logits_of(
            model, [folder / "clean" / f"{n}.png" for n in val_names]), strict=True))
        metrics: dict[str, float] = {}
        aucs, accs = [], []
        for kind in kinds:
            names = [n for n in val_pairs[kind] if n in clean_all]
            if not names:
                continue
            clean = np.array([clean_all[n] for n in names])
            stego = logits_of(model, [folder / kind / f"{n}.png" for n in names])
            auc = detection_scores(list(clean), list(stego))["auc"]
            acc = float(((clean <= 0).sum() + (stego > 0).sum()) / (2 * len(clean)))
            metrics[f"auc_{kind}"] = auc
            aucs.append(auc)
            accs.append(acc)
        metrics["auc"], metrics["acc"] = float(np.mean(aucs)), float(np.mean(accs))
        return metrics

    remaining = None if minutes is None else max(0.0, minutes - spent_minutes(cfg.out))
    if remaining is not None and remaining <= 0 and Path(cfg.out, "best.safetensors").exists():
        return Path(cfg.out)
    return loop.run(cfg, model, sampler, losses, validate,
                    score=lambda m: m["auc"] + m["acc"], arch=REGISTERED[cfg.arch],
                    score_name=SCORE,
                    minutes=remaining, progress=progress)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="runs/detset")
    parser.add_argument("--method", default="lsbm")
    parser.add_argument("--arch", default="strong", choices=ARCHS)
    parser.add_argument("--out", default=None)
    parser.add_argument("--kinds", default="", help="comma-separated (default: all)")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--crop", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--val-every", type=int, default=150)
    parser.add_argument("--val-covers", type=int, default=24)
    parser.add_argument("--curriculum", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=None)
    args = parser.parse_args(argv)
    settings = recipe(args.arch, batch=args.batch, crop=args.crop, lr=args.lr)
    cfg = MixedTrainConfig(
        data=args.data, method=args.method, arch=args.arch,
        out=args.out or f"runs/det-{args.arch}-{args.method}",
        kinds=[k for k in args.kinds.split(",") if k], steps=args.steps,
        val_every=args.val_every, val_covers=args.val_covers, curriculum=args.curriculum,
        seed=args.seed, threads=args.threads, **settings)
    print(train(cfg, minutes=args.minutes))


if __name__ == "__main__":
    main()

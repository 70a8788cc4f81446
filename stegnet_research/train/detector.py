"""Train and evaluate the CNN steganalyser (:class:`StegDetector`) on cover/stego pairs.

Data: a folder written by :mod:`stegnet_research.stegdata` (``train/`` and ``heldout/``,
each with ``clean/`` and one folder per method). One detector is trained per method.

* Training uses the ``train`` split minus every 10th cover by name, which is kept
  aside for validation (choosing the best checkpoint); the ``heldout`` split (photos
  no network of ours was trained on) is only used for the final numbers.
* Each batch holds ``batch`` pairs: a cover and its own stego image cropped at the
  same place with the same flip / rotation ("pair constraint"), so the network has to
  learn the embedding, not the content.
* Loss: binary cross-entropy on the logit. Adam with warm-up and cosine decay
  (:func:`stegnet_research.train.loop.run`), resumable, curve in ``log.jsonl``.

Run: ``python -m stegnet_research.train.detector --method hide --out runs/detect-hide``; then
``python -m stegnet_research.train.detector --method hide --out runs/detect-hide --evaluate``
prints and writes the held-out result JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from stegnet.models.detector import DetectorConfig
from stegnet.zoo import build_model
from stegnet_research.train import loop

SCORE = "val-auc-acc"
ARCH = "steg-detector"  # the registered architecture (stegnet.models.detector.StegDetector)


@dataclass
class DetectorTrainConfig:
    """Hyper-parameters of one detector training run (saved in the checkpoint).

    The defaults are the recipe of the shipped detectors (weights/detectors).
    """

    data: str = "runs/stegdata"
    method: str = "hide"
    out: str = "runs/detect-hide"
    steps: int = 1500
    batch: int = 16
    crop: int = 128
    lr: float = 2e-3
    warmup: int = 100
    val_every: int = 250
    seed: int = 0
    threads: int = 1
    model: dict = field(default_factory=lambda: DetectorConfig().to_dict())


def _read(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


def load_pairs(data: str | Path, split: str, method: str) -> tuple[list[str], np.ndarray,
                                                                    np.ndarray]:
    """-> (names, covers (N, H, W, 3) uint8, stegos (N, H, W, 3) uint8) of one split."""
    folder = Path(data, split)
    names = sorted(p.stem for p in (folder / method).glob("*.png")
                   if (folder / "clean" / p.name).exists())
    if not names:
        raise FileNotFoundError(f"no '{method}' pairs in {folder}")
    covers = np.stack([_read(folder / "clean" / f"{n}.png") for n in names])
    stegos = np.stack([_read(folder / method / f"{n}.png") for n in names])
    return names, covers, stegos


def split_validation(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation): every 10th photo (both of its covers) is validation."""
    photos = sorted({n.rsplit("_", 1)[0] for n in names})
    val_photos = set(photos[::10])
    is_val = np.array([n.rsplit("_", 1)[0] in val_photos for n in names])
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


class PairSampler:
    """Random aligned crops of (cover, stego) pairs: ``sample(batch) -> (2*batch, 3, c, c)``.

    The first half of the batch is covers, the second half their stego images.
    """

    def __init__(self, covers: np.ndarray, stegos: np.ndarray, crop: int, seed: int = 0) -> None:
        self.covers, self.stegos, self.crop = covers, stegos, crop
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int) -> torch.Tensor:
        height, width = self.covers.shape[1:3]
        picks = np.empty((2, batch, self.crop, self.crop, 3), dtype=np.uint8)
        for i in range(batch):
            index = self.rng.integers(len(self.covers))
            top = self.rng.integers(height - self.crop + 1)
            left = self.rng.integers(width - self.crop + 1)
            flip, turns = self.rng.random() < 0.5, int(self.rng.integers(4))
            for side, source in enumerate((self.covers, self.stegos)):
                patch = source[index, top : top + self.crop, left : left + self.crop]
                patch = patch[:, ::-1] if flip else patch
                picks[side, i] = np.rot90(patch, k=turns)
        images = torch.from_numpy(picks.reshape(2 * batch, self.crop, self.crop, 3))
        return images.permute(0, 3, 1, 2).float()


@torch.no_grad()
def logits_of(model: torch.nn.Module, images: np.ndarray, chunk: int = 16,
              device: str = "cpu") -> np.ndarray:
    """Logits for a stack of uint8 images ``(N, H, W, 3)`` (eval mode; the model is on
    ``device``)."""
    model.eval()
    out = []
    for start in range(0, len(images), chunk):
        batch = torch.from_numpy(images[start : start + chunk]).permute(0, 3, 1, 2).float()
        out.append(model(batch.to(device)).cpu().numpy())
    return np.concatenate(out)


def scores(clean_logits: np.ndarray, stego_logits: np.ndarray) -> dict[str, float]:
    """AUC, accuracy at the trained threshold (logit 0) and best-threshold accuracy."""
    from stegnet_research.detection_stats import detection_scores

    best = detection_scores(list(clean_logits), list(stego_logits))
    correct = (clean_logits <= 0).sum() + (stego_logits > 0).sum()
    return {"auc": best["auc"], "accuracy": round(float(correct / (2 * len(clean_logits))), 4),
            "best_threshold_accuracy": best["accuracy"]}


def train(cfg: DetectorTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train one detector; best weights (validation AUC + accuracy) in ``best.safetensors``."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    names, covers, stegos = load_pairs(cfg.data, "train", cfg.method)
    train_idx, val_idx = split_validation(names)
    sampler = PairSampler(covers[train_idx], stegos[train_idx], cfg.crop, cfg.seed)
    model = build_model(ARCH, cfg.model)
    labels = torch.cat([torch.zeros(cfg.batch), torch.ones(cfg.batch)])

    def losses() -> dict[str, torch.Tensor]:
        logits = model(sampler.sample(cfg.batch))
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        accuracy = ((logits > 0).float() == labels).float().mean()
        return {"loss": loss, "bce": loss.detach(), "acc": accuracy}

    def validate() -> dict[str, float]:
        result = scores(logits_of(model, covers[val_idx]), logits_of(model, stegos[val_idx]))
        return {"auc": result["auc"], "acc": result["accuracy"]}

    return loop.run(cfg, model, sampler, losses, validate,
                    score=lambda m: m["auc"] + m["acc"], arch=ARCH,
                    score_name=SCORE, minutes=minutes, progress=progress)


def evaluate(data: str | Path, method: str, weights: str | Path, device: str = "cpu") -> dict:
    """Held-out detection result of a detector's weight file (any registered detector
    architecture, built by :func:`stegnet.zoo.load_weights`), run on ``device``: scores
    plus per-image logits."""
    from stegnet.zoo import load_weights

    model = load_weights(weights, task="detect").to(device)
    names, covers, stegos = load_pairs(data, "heldout", method)
    clean_logits = logits_of(model, covers, device=device)
    stego_logits = logits_of(model, stegos, device=device)
    return {"method": method, "images": len(names), **scores(clean_logits, stego_logits),
            "per_image": [{"name": n, "clean_logit": round(float(c), 3),
                           "stego_logit": round(float(s), 3)}
                          for n, c, s in zip(names, clean_logits, stego_logits, strict=True)]}


DEST = Path("weights", "detectors")  # relative to the current directory


def publish(run: str | Path, data: str | Path, dest: str | Path = DEST) -> Path:
    """Copy a run's best weights to ``DEST/xunet-<method>`` with a JSON card (the zoo
    lists it as a ``detect`` model when ``DEST`` is the weights folder's ``detectors``).

    The card holds the training recipe, the steps of the best checkpoint (from the
    run's log) and the held-out scores measured now.
    """
    import shutil

    run = Path(run)
    config = json.loads((run / "config.json").read_text())
    method = config["method"]
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"xunet-{method}.safetensors"
    shutil.copyfile(run / "best.safetensors", target)
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    best = [r for r in records if r.get("best")][-1]
    result = evaluate(data, method, target)
    card = {
        "name": target.stem, "task": "detect", "method": method,
        "architecture": "StegDetector: 30 fixed SRM residuals (R, G, B, R-G, B-G), "
                        "truncation, 4 conv blocks, global pooling",
        "config": config["model"],
        "training": {"set": str(data), "split": "train (every 10th photo kept for "
                     "validation)", "steps_total": records[-1]["step"],
                     "best_step": best["step"], "batch_pairs": config["batch"],
                     "crop": config["crop"], "lr": config["lr"],
                     "hardware": "CPU, 1 thread",
                     "minutes": round(records[-1]["time"] / 60, 1)},
        "validation": {k: v for k, v in best.items() if k.startswith("val_")},
        "note": (f"stopped at step {records[-1]['step']} of a {config['steps']}-step schedule"
                 if records[-1]["step"] < config["steps"] else ""),
        "heldout": {k: v for k, v in result.items() if k != "per_image"},
    }
    target.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    held = card["heldout"]
    train_info = card["training"]
    target.with_suffix(".md").write_text("\n".join([
        f"# {card['name']}", "",
        f"CNN steganalyser for `{method}` stego images (stegnet.models.detector).", "",
        f"- architecture: {card['architecture']}; config {card['config']}",
        f"- trained on: the train split of `{data}` ({train_info['split']}), "
        f"{train_info['steps_total']} steps (best at {train_info['best_step']}), "
        f"{train_info['batch_pairs']} cover/stego pairs x {train_info['crop']} px crops, "
        f"{train_info['hardware']}, {train_info['minutes']} min",
        f"- held-out ({held['images']} covers + their stego images): accuracy "
        f"{held['accuracy']:.4f} at logit 0, AUC {held['auc']:.4f}",
        "- use: `stegnet analyze IMAGE` (probability `cnn_" + method + "`)", ""]))
    return target


def main() -> None:
    """``python -m stegnet_research.train.detector [--evaluate | --publish] --method M
    --out RUN [--dest weights/detectors]``."""
    import argparse
    import sys

    for action in ("--evaluate", "--publish"):
        if action in sys.argv:
            sys.argv.remove(action)
            parser = argparse.ArgumentParser()
            parser.add_argument("--data", default="runs/stegdata")
            parser.add_argument("--method", default="hide")
            parser.add_argument("--out", default="runs/detect-hide")
            parser.add_argument("--dest", default=str(DEST),
                                help="--publish: folder the detector and its card go to")
            args, _ = parser.parse_known_args()
            if action == "--publish":
                print(publish(args.out, args.data, args.dest))
                return
            result = evaluate(args.data, args.method, Path(args.out, "best.safetensors"))
            Path(args.out, "heldout.json").write_text(json.dumps(result, indent=1))
            print(json.dumps({k: v for k, v in result.items() if k != "per_image"}))
            return
    loop.main(DetectorTrainConfig, DetectorConfig().to_dict(), train, __doc__)


if __name__ == "__main__":
    main()

"""Experiment: fine-tune the hiding network against a co-trained CNN steganalyser.

Starting from trained hide weights (``init``), each step

1. updates a :class:`StegDetector` on (cover, rounded stego) pairs of the batch
   (binary cross-entropy, its own Adam), then
2. updates the hiding network with its usual losses (:func:`stegnet.train.hide.losses`)
   plus ``adv_weight * BCE(detector(stego), "cover")``: the stego should look like a
   cover to the current detector.

Whether this makes the stego harder to detect is decided afterwards by a FRESH
detector trained on the new stego images (:mod:`stegnet.train.detector`): fooling
the co-trained one proves nothing. The run keeps the latest weights
(``best.safetensors`` is overwritten at every validation) and the detector state in
``detector.pt`` (resumable).

Run: ``python -m stegnet.train.adversarial --out runs/hide-adv --minutes 20``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from stegnet.models.detector import DetectorConfig, StegDetector
from stegnet.models.hinet import HideNet, HideNetConfig, quantize_8bit
from stegnet.train import loop
from stegnet.train.data import CropSampler, split_photos
from stegnet.train.hide import losses_and_stego, validation_pairs
from stegnet.train.hide import validate as hide_validate


@dataclass
class AdversarialConfig:
    """Hyper-parameters of one adversarial fine-tuning run."""

    data: str = "../shared/data/train"
    out: str = "runs/hide-adv"
    init: str = "weights/hinet-s8.safetensors"
    steps: int = 1500
    batch: int = 8
    crop: int = 64
    lr: float = 1e-4
    warmup: int = 50
    conceal_weight: float = 3.0
    recover_weight: float = 1.0
    lowfreq_weight: float = 1.0
    adv_weight: float = 1e-4
    detector_lr: float = 1e-3
    val_every: int = 250
    val_pairs: int = 8
    val_size: int = 256
    seed: int = 0
    threads: int = 1
    model: dict = field(default_factory=lambda: HideNetConfig().to_dict())


def train(cfg: AdversarialConfig, minutes: float | None = None, progress=None) -> Path:
    """Fine-tune ``cfg.init`` against a co-trained detector; returns the run folder."""
    from stegnet.zoo import read_weights

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    state, _, config = read_weights(cfg.init)
    cfg.model = config
    model = HideNet(HideNetConfig(**config))
    model.load_state_dict(state)
    train_paths, _ = split_photos(cfg.data)
    sampler = CropSampler(train_paths, cfg.crop, seed=cfg.seed)
    val_covers, val_secrets = validation_pairs(cfg.data, cfg.val_size, cfg.val_pairs)

    detector = StegDetector(DetectorConfig())
    detector_opt = torch.optim.Adam(detector.parameters(), lr=cfg.detector_lr)
    detector_path = Path(cfg.out, "detector.pt")
    if detector_path.exists():
        saved = torch.load(detector_path, weights_only=False)
        detector.load_state_dict(saved["model"])
        detector_opt.load_state_dict(saved["optimiser"])
    labels = torch.cat([torch.zeros(cfg.batch), torch.ones(cfg.batch)])

    def step_losses() -> dict[str, torch.Tensor]:
        batch = sampler.sample(2 * cfg.batch)
        cover, secret = batch[: cfg.batch], batch[cfg.batch :]
        # 1. detector step on this batch's (cover, stego) pairs
        with torch.no_grad():
            stego_now = quantize_8bit(model.hide(cover, secret)[0])
        detector.train()
        logits = detector(255 * torch.cat([cover, stego_now]))
        detector_loss = F.binary_cross_entropy_with_logits(logits, labels)
        detector_opt.zero_grad(set_to_none=True)
        detector_loss.backward()
        detector_opt.step()
        accuracy = ((logits > 0).float() == labels).float().mean()
        # 2. hiding step: usual losses plus "look like a cover" to the detector
        parts, stego_q = losses_and_stego(model, cover, secret)
        detector.eval()
        fool = F.binary_cross_entropy_with_logits(detector(255 * stego_q),
                                                  torch.zeros(cfg.batch))
        parts["loss"] = (cfg.conceal_weight * parts["conceal"]
                         + cfg.recover_weight * parts["recover"]
                         + cfg.lowfreq_weight * parts["lowfreq"] + cfg.adv_weight * fool)
        parts.update(fool=fool.detach(), detector_bce=detector_loss.detach(),
                     detector_acc=accuracy)
        return parts

    def validate() -> dict[str, float]:
        Path(cfg.out).mkdir(parents=True, exist_ok=True)
        torch.save({"model": detector.state_dict(), "optimiser": detector_opt.state_dict()},
                   detector_path)
        metrics = hide_validate(model, val_covers, val_secrets)
        metrics["time"] = time.time()  # "best" = latest, also across resumes
        return metrics

    return loop.run(cfg, model, sampler, step_losses, validate,
                    score=lambda m: m["time"], arch="hinet", score_name="latest",
                    minutes=minutes, progress=progress)


if __name__ == "__main__":
    loop.main(AdversarialConfig, {}, train, __doc__)

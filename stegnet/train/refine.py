"""Train the optional reveal refiner of a trained hiding network (blocks frozen).

The invertible blocks of ``--init`` (a hide ``.safetensors``) are frozen; only the
:class:`~stegnet.models.hinet.RevealRefiner` learns, on
``MSE(refiner(reveal(q(stego)), q(stego)), secret)`` where ``q`` is real 8-bit
rounding. Validation and the best-checkpoint score are those of the hide trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stegnet.models.hinet import HideNet, HideNetConfig, quantize_8bit
from stegnet.train import loop
from stegnet.train.data import CropSampler, center_square, load_photo, split_photos
from stegnet.train.hide import validate


@dataclass
class RefineTrainConfig:
    """Hyper-parameters of one refiner run (saved in the checkpoint)."""

    data: str = "../shared/data/train"
    out: str = "runs/refine"
    init: str = ""
    width: int = 32
    steps: int = 3000
    batch: int = 8
    crop: int = 64
    lr: float = 1e-3
    warmup: int = 100
    val_every: int = 250
    val_pairs: int = 8
    val_size: int = 256
    seed: int = 0
    threads: int = 1
    model: dict = field(default_factory=dict)


def train(cfg: RefineTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train (or resume) the refiner; ``best.safetensors`` holds blocks + refiner."""
    from stegnet.zoo import read_weights

    torch.set_num_threads(cfg.threads)
    state, _, config = read_weights(cfg.init)
    cfg.model = {**config, "refine": cfg.width}
    model = HideNet(HideNetConfig(**cfg.model))
    model.load_state_dict(state, strict=False)
    for parameter in model.blocks.parameters():
        parameter.requires_grad_(False)
    train_paths, held_out = split_photos(cfg.data)
    sampler = CropSampler(train_paths, cfg.crop, seed=cfg.seed)
    val_images = [center_square(load_photo(p, cfg.val_size), cfg.val_size) for p in held_out]
    val = torch.from_numpy(np.stack(val_images[: 2 * cfg.val_pairs])).permute(0, 3, 1, 2) / 255.0

    def step_losses() -> dict[str, torch.Tensor]:
        batch = sampler.sample(2 * cfg.batch)
        cover, secret = batch[: cfg.batch], batch[cfg.batch :]
        with torch.no_grad():
            stego = quantize_8bit(model.hide(cover, secret)[0])
            raw = model.reveal_invertible(stego)
        refined = model.refiner(raw, stego)
        recover = F.mse_loss(refined, secret)
        return {"recover": recover, "loss": recover}

    return loop.run(
        cfg, model, sampler, step_losses,
        validate=lambda: validate(model, val[0::2], val[1::2]),
        score=lambda m: m["secret_psnr"], arch="hinet", score_name="secret-psnr",
        minutes=minutes, progress=progress,
    )


if __name__ == "__main__":
    loop.main(RefineTrainConfig, {}, train, __doc__)

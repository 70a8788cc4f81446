"""Training loop for the colour flow used by ``embed-bits`` (:class:`ColourFlow`).

Two terms:

* maximum likelihood: ``NLL = 0.5 * |z|^2 - log|det J|`` per latent dimension, on the
  colour detail of real photo crops, so that ``z`` is standard normal and colours
  synthesised from random ``z`` look natural;
* robustness (stage 2, ``robust_weight > 0``): random ``z`` is synthesised into a
  stego crop, ROUNDED to 8 bits (straight-through), analysed again, and the
  recovered latent is pushed to keep the sign of ``z`` with a margin:
  ``relu(margin - sign(z) * z_rec)``. This is what makes the signs survive a saved PNG.

Checkpoints are resumable; ``log.jsonl`` keeps the curve including the raw bit
error rate measured after real rounding on held-out photos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stegnet.models.cinn import LATENT_CHANNELS, ColourFlow, ColourFlowConfig, split_colour
from stegnet.models.hinet import quantize_8bit
from stegnet_research.data import CropSampler, center_square, load_photo, split_photos
from stegnet_research.train import loop

SCORE = "ber-psnr-v2"  # name of the validation score below; a change restarts "best"


@dataclass
class BitsTrainConfig:
    """Hyper-parameters of one training run (saved in the checkpoint).

    The defaults are the final recipe of the shipped ``cinn-s6`` (its first 450 steps
    used robust_weight 2.0 / margin 0.5, then 0.5 / 0.3 until step 900; see its log).
    """

    data: str = "../shared/data/train"
    out: str = "runs/bits"
    steps: int = 2000
    batch: int = 16
    crop: int = 64
    lr: float = 5e-4
    warmup: int = 100
    robust_weight: float = 1.0
    robust_margin: float = 0.3
    val_every: int = 250
    val_images: int = 8
    val_size: int = 256
    seed: int = 0
    threads: int = 2
    init: str = ""
    model: dict = field(default_factory=lambda: ColourFlowConfig().to_dict())


def nll_per_dim(model: ColourFlow, rgb: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood per latent dimension (nats, constant term dropped)."""
    cond_input, colour_hf = split_colour(rgb)
    z, log_det = model(colour_hf, model.condition(cond_input))
    dims = z[0].numel()
    return (0.5 * z.pow(2).flatten(1).sum(1) - log_det).mean() / dims


def robust_loss(model: ColourFlow, cover: torch.Tensor, margin: float) -> torch.Tensor:
    z = torch.randn(cover.shape[0], LATENT_CHANNELS, cover.shape[2] // 2, cover.shape[3] // 2)
    stego = quantize_8bit(model.synthesise(cover, z))
    recovered = model.analyse(stego)
    return F.relu(margin - torch.sign(z) * recovered).mean()


@torch.no_grad()
def validate(model: ColourFlow, covers: torch.Tensor) -> dict:
    """NLL on held-out photos and raw BER of sign bits after real 8-bit rounding."""
    nll = float(nll_per_dim(model, covers))
    generator = torch.Generator().manual_seed(1234)
    shape = (covers.shape[0], LATENT_CHANNELS, covers.shape[2] // 2, covers.shape[3] // 2)
    z = torch.randn(shape, generator=generator)
    stego = model.synthesise(covers, z)
    stego_u8 = (stego.clamp(0, 1) * 255).round() / 255
    recovered = model.analyse(stego_u8)
    ber = float((torch.sign(recovered) != torch.sign(z)).float().mean())
    mse = float(((stego_u8 - covers) ** 2).mean())
    return {"nll": nll, "ber": ber, "psnr": 10 * math.log10(1 / max(mse, 1e-12))}


def train(cfg: BitsTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train (or resume) a run in ``cfg.out``; returns the run folder.

    ``cfg.init`` optionally names a ``.safetensors`` file to start from (stage 2
    starts from stage 1's best weights).
    """
    torch.set_num_threads(cfg.threads)
    train_paths, held_out = split_photos(cfg.data)
    sampler = CropSampler(train_paths, cfg.crop, seed=cfg.seed)
    val_images = [center_square(load_photo(p, cfg.val_size), cfg.val_size) for p in held_out]
    val = torch.from_numpy(np.stack(val_images[: cfg.val_images])).permute(0, 3, 1, 2) / 255.0
    torch.manual_seed(cfg.seed)
    model = ColourFlow(ColourFlowConfig(**cfg.model))
    if cfg.init:
        from stegnet.zoo import read_weights

        model.load_state_dict(read_weights(cfg.init)[0])

    def step_losses() -> dict[str, torch.Tensor]:
        batch = sampler.sample(cfg.batch)
        parts = {"nll": nll_per_dim(model, batch)}
        parts["loss"] = parts["nll"]
        if cfg.robust_weight > 0:
            parts["robust"] = robust_loss(model, batch, cfg.robust_margin)
            parts["loss"] = parts["loss"] + cfg.robust_weight * parts["robust"]
        return parts

    return loop.run(
        cfg, model, sampler, step_losses,
        validate=lambda: validate(model, val),
        # bits and looks both matter: 1 dB of PSNR (up to 36 dB) is worth 0.3% BER
        score=lambda m: -m["ber"] + 0.003 * min(m["psnr"], 36.0),
        arch="colour-cinn", score_name=SCORE, minutes=minutes, progress=progress,
    )


if __name__ == "__main__":
    loop.main(BitsTrainConfig, ColourFlowConfig().to_dict(), train, __doc__)

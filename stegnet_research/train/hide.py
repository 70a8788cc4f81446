"""Training loop for the image-in-image hiding network (:class:`HideNet`).

Losses (all MSE on [0, 1] images):

* concealment: ``q(stego)`` vs cover, where ``q`` rounds to 8 bits (straight-through);
* recovery: ``reveal(q(stego))`` vs secret -- the secret is recovered from the
  ROUNDED stego, exactly as from a saved PNG;
* low frequency: Haar LL band of ``q(stego)`` vs that of the cover.

Adam with linear warm-up and cosine decay; the run folder (resumable checkpoint,
curve, best weights) is managed by :mod:`stegnet_research.train.loop`. Validation: PSNR
cover/stego and secret/revealed after real 8-bit rounding on held-out photos; the
best checkpoint maximises ``min(stego_psnr - 38, secret_psnr - 32)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stegnet.layers.wavelet import haar_dwt, low_band
from stegnet.metrics import psnr
from stegnet.models.hinet import HideNet, HideNetConfig, quantize_8bit
from stegnet.tensors import tensor_to_images
from stegnet_research.data import (
    CropSampler,
    center_square,
    load_photo,
    package_balanced_weights,
    training_split,
)
from stegnet_research.train import loop


@dataclass
class HideTrainConfig:
    """Hyper-parameters of one training run (saved in the checkpoint).

    The defaults are the final recipe of the shipped ``hinet-s8`` (its first 500 steps
    used batch 16 and lr 1e-3; see its card and training log).
    """

    data: str = "../shared/data/train"
    out: str = "runs/hide"
    steps: int = 13000
    batch: int = 8
    crop: int = 64
    lr: float = 5e-4
    warmup: int = 200
    conceal_weight: float = 3.0
    recover_weight: float = 1.0
    lowfreq_weight: float = 1.0
    val_every: int = 250
    val_pairs: int = 8
    val_size: int = 256
    seed: int = 0
    threads: int = 2
    split: str = "every10"  # or "package" (stegnet_research.data.training_split)
    balance: bool = False  # sample photos package-balanced (data.package_balanced_weights)
    target_stego: float = 38.0  # best checkpoint: max min(stego - target_stego,
    target_secret: float = 32.0  # secret - target_secret), validation PSNRs in dB
    keyed_share: float = 0.0  # share of secrets scrambled as `hide --key` does (random keys)
    keyed_allowance: float = 2.0  # with keyed_share > 0, keyed pairs are validated too and
    # must reach the targets less this many dB (best-checkpoint score: the worst margin)
    init: str = ""  # weights file to start from when the run has no checkpoint yet
    seam_weight: float = 1.0  # weight of the recovery error on the pixels along the tile
    # seams of keyed secrets (the rows and columns each side of every KEY_BLOCK boundary)
    model: dict = field(default_factory=lambda: HideNetConfig().to_dict())


@torch.no_grad()
def validate(model: HideNet, covers: torch.Tensor, secrets: torch.Tensor) -> dict:
    """Mean PSNR cover/stego and secret/recovered after real 8-bit rounding."""
    stego, _ = model.hide(covers, secrets)
    stego_u8 = tensor_to_images(stego)
    revealed = model.reveal(torch.from_numpy(stego_u8).permute(0, 3, 1, 2).float() / 255)
    revealed_u8 = tensor_to_images(revealed)
    cover_u8, secret_u8 = tensor_to_images(covers), tensor_to_images(secrets)
    return {
        "stego_psnr": float(np.mean([psnr(c, s) for c, s in zip(cover_u8, stego_u8, strict=True)])),
        "secret_psnr": float(
            np.mean([psnr(c, s) for c, s in zip(secret_u8, revealed_u8, strict=True)])
        ),
    }


def losses(model: HideNet, cover: torch.Tensor, secret: torch.Tensor,
           recover_weights: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The three training losses of a batch (cover, secret: (B, 3, H, W) in [0, 1]);
    ``recover_weights`` (B, 1, H, W): per-pixel weights of the recovery error (default 1)."""
    return losses_and_stego(model, cover, secret, recover_weights)[0]


def losses_and_stego(model: HideNet, cover: torch.Tensor, secret: torch.Tensor,
                     recover_weights: torch.Tensor | None = None
                     ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """:func:`losses` and the rounded (straight-through) stego they were computed on."""
    stego, _ = model.hide(cover, secret)
    stego_q = quantize_8bit(stego)
    revealed = model.reveal(stego_q)
    recover = (F.mse_loss(revealed, secret) if recover_weights is None else
               ((revealed - secret) ** 2 * recover_weights).mean())
    return {
        "conceal": F.mse_loss(stego_q, cover),
        "recover": recover,
        "lowfreq": F.mse_loss(low_band(haar_dwt(stego_q)), low_band(haar_dwt(cover))),
    }, stego_q


def validation_pairs(data: str, size: int, pairs: int, split: str = "every10"
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(covers, secrets), each ``(pairs, 3, size, size)`` in [0, 1], from the validation
    photos of ``split`` (:func:`stegnet_research.data.training_split`)."""
    _, validation, _ = training_split(data, split)
    if len(validation) < 2:
        raise ValueError(f"{data}: need at least 2 validation photos (split {split})")
    images = [center_square(load_photo(p, size), size) for p in validation[: 2 * pairs]]
    val = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2) / 255.0
    return val[0::2], val[1::2]


def keyed_secrets(secrets: torch.Tensor, share: float, rng: np.random.Generator
                  ) -> torch.Tensor:
    """``secrets`` (B, 3, h, w) in [0, 1] with each one, with probability ``share``,
    scrambled by a random keying (:func:`stegnet.hiding.scramble`), so that the network
    learns to carry keyed secrets too. Exact: values stay multiples of 1/255."""
    return keyed_batch(secrets, share, rng)[0]


def keyed_batch(secrets: torch.Tensor, share: float, rng: np.random.Generator
                ) -> tuple[torch.Tensor, np.ndarray]:
    """:func:`keyed_secrets` and which of them were scrambled, a (B,) bool array."""
    from stegnet.hiding import scramble

    keyed = np.zeros(len(secrets), bool)
    if share <= 0:
        return secrets, keyed
    out = secrets.clone()
    keyed[rng.random(len(secrets)) < share] = True
    for index in np.flatnonzero(keyed):
        image = (secrets[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        out[index] = torch.from_numpy(scramble(image, rng)).permute(2, 0, 1).float() / 255
    return out, keyed


def seam_weights(keyed: np.ndarray, height: int, width: int, weight: float) -> torch.Tensor:
    """(B, 1, height, width) recovery weights: ``weight`` on the rows and columns each side
    of every tile boundary (:func:`stegnet.hiding.key_seams`) of the keyed secrets; 1
    elsewhere and on unkeyed secrets."""
    from stegnet.hiding import key_seams

    seam = torch.from_numpy(key_seams(height, width))
    weights = torch.ones(len(keyed), 1, height, width)
    weights[torch.from_numpy(keyed)] = 1 + (weight - 1) * seam.float()
    return weights


def train(cfg: HideTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train (or resume) a run in ``cfg.out``; returns the run folder.

    Stops after ``cfg.steps`` or after ``minutes`` of wall time (checkpointing first).
    """
    torch.set_num_threads(cfg.threads)
    train_paths, _, packages = training_split(cfg.data, cfg.split)
    weights = package_balanced_weights(train_paths, packages) if cfg.balance else None
    sampler = CropSampler(train_paths, cfg.crop, seed=cfg.seed, weights=weights)
    val_covers, val_secrets = validation_pairs(cfg.data, cfg.val_size, cfg.val_pairs,
                                               cfg.split)
    torch.manual_seed(cfg.seed)
    model = HideNet(HideNetConfig(**cfg.model))
    if cfg.init and not (Path(cfg.out) / "checkpoint.pt").exists():
        from stegnet.zoo import load_weights

        model.load_state_dict(load_weights(cfg.init, "hide").state_dict())

    key_rng = np.random.default_rng(cfg.seed + 1)

    def step_losses() -> dict[str, torch.Tensor]:
        batch = sampler.sample(2 * cfg.batch)
        secrets, keyed = keyed_batch(batch[cfg.batch :], cfg.keyed_share, key_rng)
        weights = (seam_weights(keyed, cfg.crop, cfg.crop, cfg.seam_weight)
                   if cfg.seam_weight != 1 and keyed.any() else None)
        parts = losses(model, batch[: cfg.batch], secrets, weights)
        parts["loss"] = (
            cfg.conceal_weight * parts["conceal"]
            + cfg.recover_weight * parts["recover"]
            + cfg.lowfreq_weight * parts["lowfreq"]
        )
        return parts

    keyed_val_secrets = (keyed_secrets(val_secrets, 1.0, np.random.default_rng(cfg.seed + 2))
                         if cfg.keyed_share > 0 else None)

    def validate_all() -> dict:
        metrics = validate(model, val_covers, val_secrets)
        if keyed_val_secrets is not None:
            keyed = validate(model, val_covers, keyed_val_secrets)
            metrics.update({f"keyed_{name}": value for name, value in keyed.items()})
        return metrics

    def score(m: dict) -> float:
        margins = [m["stego_psnr"] - cfg.target_stego, m["secret_psnr"] - cfg.target_secret]
        if "keyed_stego_psnr" in m:
            margins += [m["keyed_stego_psnr"] - cfg.target_stego + cfg.keyed_allowance,
                        m["keyed_secret_psnr"] - cfg.target_secret + cfg.keyed_allowance]
        return min(margins)

    return loop.run(
        cfg, model, sampler, step_losses, validate=validate_all, score=score,
        arch="hinet", score_name="keyed" if cfg.keyed_share > 0 else None,
        minutes=minutes, progress=progress,
    )


if __name__ == "__main__":
    loop.main(HideTrainConfig, HideNetConfig().to_dict(), train, __doc__)

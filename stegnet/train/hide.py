"""Training loop for the image-in-image hiding network (:class:`HideNet`).

Losses (all MSE on [0, 1] images):

* concealment: ``q(stego)`` vs cover, where ``q`` rounds to 8 bits (straight-through);
* recovery: ``reveal(q(stego))`` vs secret -- the secret is recovered from the
  ROUNDED stego, exactly as from a saved PNG;
* low frequency: Haar LL band of ``q(stego)`` vs that of the cover.

Adam with linear warm-up and cosine decay. A run folder holds ``checkpoint.pt``
(resumable: model, optimiser, step, RNG), ``log.jsonl`` (the curve: training
losses and validation PSNR after real 8-bit rounding on held-out photos) and
``best.safetensors`` (best validation score so far).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from stegnet.layers.wavelet import haar_dwt, low_band
from stegnet.metrics import psnr
from stegnet.models.hinet import HideNet, HideNetConfig, quantize_8bit
from stegnet.train.data import CropSampler, center_square, load_photo, split_photos
from stegnet.zoo import save_weights


@dataclass
class HideTrainConfig:
    """Hyper-parameters of one training run (saved in the checkpoint)."""

    data: str = "../shared/data/train"
    out: str = "runs/hide"
    steps: int = 6000
    batch: int = 16
    crop: int = 64
    lr: float = 1e-3
    warmup: int = 200
    conceal_weight: float = 4.0
    recover_weight: float = 1.0
    lowfreq_weight: float = 1.0
    val_every: int = 250
    val_pairs: int = 8
    val_size: int = 256
    seed: int = 0
    threads: int = 2
    model: dict = field(default_factory=lambda: HideNetConfig().to_dict())


def to_u8(image: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [0, 1] -> (B, H, W, 3) uint8, as written to an 8-bit PNG."""
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


@torch.no_grad()
def validate(model: HideNet, covers: torch.Tensor, secrets: torch.Tensor) -> dict:
    """Mean PSNR cover/stego and secret/recovered after real 8-bit rounding."""
    model.eval()
    stego, _ = model.hide(covers, secrets)
    stego_u8 = to_u8(stego)
    revealed = model.reveal(torch.from_numpy(stego_u8).permute(0, 3, 1, 2).float() / 255)
    revealed_u8 = to_u8(revealed)
    cover_u8, secret_u8 = to_u8(covers), to_u8(secrets)
    model.train()
    return {
        "stego_psnr": float(np.mean([psnr(c, s) for c, s in zip(cover_u8, stego_u8, strict=True)])),
        "secret_psnr": float(
            np.mean([psnr(c, s) for c, s in zip(secret_u8, revealed_u8, strict=True)])
        ),
    }


def lr_at(step: int, cfg: HideTrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def losses(model: HideNet, cover: torch.Tensor, secret: torch.Tensor) -> dict[str, torch.Tensor]:
    stego, _ = model.hide(cover, secret)
    stego_q = quantize_8bit(stego)
    revealed = model.reveal(stego_q)
    return {
        "conceal": F.mse_loss(stego_q, cover),
        "recover": F.mse_loss(revealed, secret),
        "lowfreq": F.mse_loss(low_band(haar_dwt(stego_q)), low_band(haar_dwt(cover))),
    }


def train(cfg: HideTrainConfig, minutes: float | None = None, progress=None) -> Path:
    """Train (or resume) a run in ``cfg.out``; returns the run folder.

    Stops after ``cfg.steps`` or after ``minutes`` of wall time (checkpointing first).
    """
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    train_paths, held_out = split_photos(cfg.data)
    sampler = CropSampler(train_paths, cfg.crop, seed=cfg.seed)
    val_images = [center_square(load_photo(p, cfg.val_size), cfg.val_size) for p in held_out]
    val = torch.from_numpy(np.stack(val_images[: 2 * cfg.val_pairs])).permute(0, 3, 1, 2) / 255.0
    val_covers, val_secrets = val[0::2], val[1::2]

    torch.manual_seed(cfg.seed)
    model = HideNet(HideNetConfig(**cfg.model))
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    step, best = 0, -math.inf
    checkpoint_path = out / "checkpoint.pt"
    if checkpoint_path.exists():
        state = torch.load(checkpoint_path, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step, best = state["step"], state["best"]
        sampler.rng.bit_generator.state = state["sampler_rng"]
        torch.set_rng_state(state["torch_rng"])
    (out / "config.json").write_text(json.dumps(cfg.__dict__, indent=2))

    def save_checkpoint() -> None:
        state = {
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "step": step,
            "best": best,
            "sampler_rng": sampler.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "config": cfg.__dict__,
        }
        torch.save(state, out / "checkpoint.tmp")
        (out / "checkpoint.tmp").replace(checkpoint_path)

    started = time.time()
    running: dict[str, float] = {}
    model.train()
    with (out / "log.jsonl").open("a") as log:
        while step < cfg.steps:
            for group in optimiser.param_groups:
                group["lr"] = lr_at(step, cfg)
            batch = sampler.sample(2 * cfg.batch)
            parts = losses(model, batch[: cfg.batch], batch[cfg.batch :])
            loss = (
                cfg.conceal_weight * parts["conceal"]
                + cfg.recover_weight * parts["recover"]
                + cfg.lowfreq_weight * parts["lowfreq"]
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            step += 1
            for key, value in parts.items():
                running[key] = running.get(key, 0.0) + value.item()
            if progress is not None:
                progress(step, cfg.steps)
            out_of_time = minutes is not None and time.time() - started > minutes * 60
            if step % cfg.val_every == 0 or step == cfg.steps or out_of_time:
                metrics = validate(model, val_covers, val_secrets)
                score = min(metrics["stego_psnr"] - 38.0, metrics["secret_psnr"] - 32.0)
                record = {
                    "step": step,
                    "time": round(time.time() - started, 1),
                    "lr": lr_at(step - 1, cfg),
                    **{f"train_{k}": v / cfg.val_every for k, v in running.items()},
                    **{f"val_{k}": round(v, 3) for k, v in metrics.items()},
                }
                running = {}
                if score > best:
                    best = score
                    save_weights(model, out / "best.safetensors", "hinet", cfg.model)
                    record["best"] = True
                log.write(json.dumps(record) + "\n")
                log.flush()
                save_checkpoint()
                print(json.dumps(record), flush=True)
            if out_of_time:
                break
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in HideTrainConfig().__dict__.items():
        if isinstance(value, dict):
            continue
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--minutes", type=float, default=None)
    args = vars(parser.parse_args())
    model_cfg = HideNetConfig(blocks=args.pop("blocks"), hidden=args.pop("hidden")).to_dict()
    minutes = args.pop("minutes")
    train(HideTrainConfig(**args, model=model_cfg), minutes=minutes)

"""The training loop shared by both networks: schedule, checkpoints, curve, best weights.

A run folder holds ``config.json``, ``checkpoint.pt`` (model, optimiser, step, best
score, RNG states: running the same command again resumes), ``log.jsonl`` (one
record per validation: mean training losses since the last one and the validation
metrics) and ``best.safetensors`` (the weights with the best validation score).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from stegnet.zoo import save_weights
from stegnet_research.data import CropSampler


def cosine_lr(step: int, peak: float, warmup: int, steps: int) -> float:
    """Linear warm-up to ``peak`` then cosine decay to 2% of it at ``steps``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def run(
    cfg,
    model: torch.nn.Module,
    sampler: CropSampler,
    losses: Callable[[], dict[str, torch.Tensor]],
    validate: Callable[[], dict[str, float]],
    score: Callable[[dict[str, float]], float],
    arch: str,
    score_name: str | None = None,
    minutes: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Optimise ``losses()["loss"]`` with Adam until ``cfg.steps`` or ``minutes``.

    ``cfg`` needs ``out, steps, lr, warmup, val_every, model`` (a dict saved as the
    weights' config). ``validate()`` returns metrics; the checkpoint with the highest
    ``score(metrics)`` is kept as ``best.safetensors``. ``score_name`` names the score
    definition: a checkpoint saved under another name starts its "best" afresh.
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    step, best = 0, -math.inf
    checkpoint_path = out / "checkpoint.pt"
    if checkpoint_path.exists():
        state = torch.load(checkpoint_path, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        step = state["step"]
        best = state["best"] if state.get("score") == score_name else -math.inf
        sampler.rng.bit_generator.state = state["sampler_rng"]
        torch.set_rng_state(state["torch_rng"])
    (out / "config.json").write_text(json.dumps(cfg.__dict__, indent=2))

    def save_checkpoint() -> None:
        state = {
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "step": step,
            "best": best,
            "score": score_name,
            "sampler_rng": sampler.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "config": cfg.__dict__,
        }
        torch.save(state, out / "checkpoint.tmp")
        (out / "checkpoint.tmp").replace(checkpoint_path)

    started = time.time()
    running: dict[str, float] = {}
    count = 0
    model.train()
    with (out / "log.jsonl").open("a") as log:
        while step < cfg.steps:
            for group in optimiser.param_groups:
                group["lr"] = cosine_lr(step, cfg.lr, cfg.warmup, cfg.steps)
            parts = losses()
            optimiser.zero_grad(set_to_none=True)
            parts["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            step += 1
            count += 1
            for key, value in parts.items():
                if key != "loss":
                    running[key] = running.get(key, 0.0) + value.item()
            if progress is not None:
                progress(step, cfg.steps)
            out_of_time = minutes is not None and time.time() - started > minutes * 60
            if step % cfg.val_every == 0 or step == cfg.steps or out_of_time:
                model.eval()
                with torch.no_grad():
                    metrics = validate()
                model.train()
                record = {
                    "step": step,
                    "time": round(time.time() - started, 1),
                    "lr": cosine_lr(step - 1, cfg.lr, cfg.warmup, cfg.steps),
                    **{f"train_{k}": v / count for k, v in running.items()},
                    **{f"val_{k}": round(v, 4) for k, v in metrics.items()},
                }
                running, count = {}, 0
                if score(metrics) > best:
                    best = score(metrics)
                    save_weights(model, out / "best.safetensors", arch, cfg.model)
                    record["best"] = True
                log.write(json.dumps(record) + "\n")
                log.flush()
                save_checkpoint()
                print(json.dumps(record), flush=True)
            if out_of_time:
                break
    return out


def main(config_class, model_defaults: dict, train: Callable, doc: str) -> None:
    """``python -m stegnet_research.train.X --flag value ...``: one flag per config field."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, value in config_class().__dict__.items():
        if isinstance(value, bool):
            parser.add_argument(f"--{name.replace('_', '-')}", default=value,
                                action=argparse.BooleanOptionalAction)
        elif not isinstance(value, dict):
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    for name, value in model_defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--minutes", type=float, default=None)
    args = vars(parser.parse_args())
    model_cfg = {name: args.pop(name) for name in model_defaults}
    minutes = args.pop("minutes")
    train(config_class(**args, model=model_cfg), minutes=minutes)

"""Choice of compute device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``."""

from __future__ import annotations

from stegnet.errors import UsageError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> str:
    """Map a user's device choice to a torch device string; UsageError if unavailable."""
    import torch

    if name not in DEVICES:
        raise UsageError(f"unknown device '{name}' (choose from {', '.join(DEVICES)})")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda requested but no CUDA device is available")
    return name

"""Conversions between 8-bit images (numpy) and the networks' tensors."""

from __future__ import annotations

import numpy as np


def image_to_tensor(image: np.ndarray, device: str = "cpu"):
    """HxWx3 uint8 -> (1, 3, H, W) float32 in [0, 1] on ``device`` (a copy)."""
    import torch

    tensor = torch.from_numpy(np.array(image, dtype=np.uint8, order="C")).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def tensor_to_images(tensor) -> np.ndarray:
    """(B, 3, H, W) float -> (B, H, W, 3) uint8, clamped and rounded as an 8-bit PNG stores it."""
    return tensor.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def tensor_to_image(tensor) -> np.ndarray:
    """(1, 3, H, W) float -> HxWx3 uint8 (the first image of :func:`tensor_to_images`)."""
    return tensor_to_images(tensor)[0]

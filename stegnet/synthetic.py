"""Deterministic photo-like test images (for tests and benchmarks; nothing downloaded)."""

from __future__ import annotations

import numpy as np


def synthetic_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like HxWx3 uint8 image: smooth colour gradients, soft blobs and mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), dtype=np.float32)
    for channel in range(3):
        fx, fy = rng.uniform(0.5, 3.0, 2)
        phase = rng.uniform(0, 2 * np.pi)
        image[..., channel] = 0.5 + 0.3 * np.sin(
            fx * xx / width * np.pi + fy * yy / height * np.pi + phase
        )
    for _ in range(6):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = rng.uniform(0.1, 0.3) * min(height, width)
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
        image += blob[..., None] * rng.uniform(-0.25, 0.25, 3).astype(np.float32)
    image += rng.normal(0, 0.02, image.shape).astype(np.float32)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)

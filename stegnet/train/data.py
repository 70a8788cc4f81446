"""Training photos: deterministic train / held-out split and random-crop sampling.

The split is by sorted file name: every 10th photo (index % 10 == 0) is held
out for validation and evaluation and is never used for training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
HELD_OUT_EVERY = 10


def list_photos(folder: str | Path) -> list[Path]:
    """All image files directly in ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def split_photos(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """-> (train, held_out): every 10th photo by sorted name is held out."""
    photos = list_photos(folder)
    held_out = [p for i, p in enumerate(photos) if i % HELD_OUT_EVERY == 0]
    train = [p for i, p in enumerate(photos) if i % HELD_OUT_EVERY != 0]
    return train, held_out


def load_photo(path: Path, min_side: int) -> np.ndarray:
    """Load as HxWx3 uint8, upscaling (bicubic) so that the short side is >= ``min_side``."""
    with Image.open(path) as img:
        img = img.convert("RGB")
        short = min(img.size)
        if short < min_side:
            scale = min_side / short
            size = (max(min_side, round(img.width * scale)),
                    max(min_side, round(img.height * scale)))
            img = img.resize(size, Image.Resampling.BICUBIC)
        return np.asarray(img, dtype=np.uint8).copy()


def center_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` (bicubic) and take the central ``size x size`` square."""
    img = Image.fromarray(image)
    scale = size / min(img.size)
    img = img.resize(
        (max(size, round(img.width * scale)), max(size, round(img.height * scale))),
        Image.Resampling.BICUBIC,
    )
    left, top = (img.width - size) // 2, (img.height - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8).copy()


class CropSampler:
    """Random augmented crops from photos held in memory.

    ``sample(batch)`` returns a float tensor (batch, 3, crop, crop) in [0, 1]:
    random photo, random position, random horizontal flip and 90-degree rotation.
    """

    def __init__(self, paths: list[Path], crop: int, seed: int = 0) -> None:
        if not paths:
            raise ValueError("no training photos")
        self.crop = crop
        self.photos = [load_photo(p, crop) for p in paths]
        self.rng = np.random.default_rng(seed)

    def sample(self, batch: int) -> torch.Tensor:
        crops = np.empty((batch, self.crop, self.crop, 3), dtype=np.uint8)
        for i in range(batch):
            photo = self.photos[self.rng.integers(len(self.photos))]
            top = self.rng.integers(photo.shape[0] - self.crop + 1)
            left = self.rng.integers(photo.shape[1] - self.crop + 1)
            patch = photo[top : top + self.crop, left : left + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            patch = np.rot90(patch, k=int(self.rng.integers(4)))
            crops[i] = patch
        return torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)

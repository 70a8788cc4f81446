"""Distortions a stego meets on the way: JPEG re-compression, resizing, noise, crops.

(Not to be confused with stegnet's channels, :mod:`stegnet.channels`: those are where the
bytes go; these are what happens to the file afterwards.) Each distortion maps an (H, W, 3)
uint8 image to the (H', W', 3) uint8 image a receiver reads back. JPEG is Pillow's encoder
with 4:2:0 chroma subsampling (what messengers and social sites use); resizes are Pillow's
Lanczos (antialiased). Noise is i.i.d. Gaussian per pixel and channel, rounded and clipped
to 8 bits, from a fixed seed per call.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image

Distortion = Callable[[np.ndarray], np.ndarray]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG (4:2:0) at ``quality`` and decode again."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def png(image: np.ndarray) -> np.ndarray:
    """Encode as PNG and decode again (lossless: the identity on 8-bit RGB)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Lanczos resize to ``width`` x ``height``."""
    return np.asarray(Image.fromarray(image).resize((width, height), Image.LANCZOS))


def scale(image: np.ndarray, factor: float) -> np.ndarray:
    """Resize both sides by ``factor`` (rounded, at least 1 px)."""
    height, width = image.shape[:2]
    return resize(image, max(1, round(width * factor)), max(1, round(height * factor)))


def long_side(image: np.ndarray, side: int) -> np.ndarray:
    """Resize so the longer side is ``side`` pixels, aspect kept."""
    height, width = image.shape[:2]
    return scale(image, side / max(height, width))


def noise(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``sigma`` (8-bit levels)."""
    rng = np.random.default_rng(seed)
    noisy = image.astype(np.float64) + rng.normal(0.0, sigma, image.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


# The lossy paths of the robust channel's acceptance, in the order reports list them.
DISTORTIONS: dict[str, Distortion] = {
    "png": png,
    "jpeg75": lambda im: jpeg(im, 75),
    "jpeg50": lambda im: jpeg(im, 50),
    "resize50": lambda im: scale(im, 0.5),
    "long1600": lambda im: long_side(im, 1600),
    "png-jpeg85-png": lambda im: png(jpeg(png(im), 85)),
    "noise2": lambda im: noise(im, 2.0),
    "resize50-jpeg75": lambda im: jpeg(scale(im, 0.5), 75),
}

# Harder paths, reported but not part of the acceptance.
EXTRA_DISTORTIONS: dict[str, Distortion] = {
    "jpeg30": lambda im: jpeg(im, 30),
    "resize25": lambda im: scale(im, 0.25),
    "resize50-jpeg50": lambda im: jpeg(scale(im, 0.5), 50),
    "noise5": lambda im: noise(im, 5.0),
}


def by_name(names: str | list[str]) -> dict[str, Distortion]:
    """The distortions named (comma-separated or a list); KeyError names an unknown one."""
    known = {**DISTORTIONS, **EXTRA_DISTORTIONS}
    wanted = names.split(",") if isinstance(names, str) else list(names)
    missing = [n for n in wanted if n not in known]
    if missing:
        raise KeyError(f"unknown distortion(s) {missing}; known: {sorted(known)}")
    return {n: known[n] for n in wanted}


def robustness_study() -> dict[str, Distortion]:
    """The distortions of ``stegnet eval robustness`` (the hiding network and the colour
    flow): name -> function on (H, W, 3) uint8."""

    def resize_back(image: np.ndarray) -> np.ndarray:  # down to 90% and back up
        height, width = image.shape[:2]
        small = Image.fromarray(image).resize((width * 9 // 10, height * 9 // 10),
                                              Image.Resampling.BICUBIC)
        return np.asarray(small.resize((width, height), Image.Resampling.BICUBIC))

    def shift(image: np.ndarray) -> np.ndarray:  # 8 px off the left/top, padded back
        return np.pad(image[8:, 8:], ((0, 8), (0, 8), (0, 0)), mode="edge")

    return {"png-resave": png, "jpeg-95": lambda im: jpeg(im, 95),
            "jpeg-90": lambda im: jpeg(im, 90), "jpeg-75": lambda im: jpeg(im, 75),
            "resize-90%": resize_back, "noise-1": lambda im: noise(im, 1.0), "crop-8px": shift}

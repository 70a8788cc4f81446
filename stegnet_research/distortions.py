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


def encode_decode(image: np.ndarray, file_format: str, **options) -> np.ndarray:
    """Save ``image`` in ``file_format`` with Pillow's ``options`` and read it back."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=file_format, **options)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG (4:2:0) at ``quality`` and decode again."""
    return encode_decode(image, "JPEG", quality=quality, subsampling="4:2:0")


def png(image: np.ndarray) -> np.ndarray:
    """Encode as PNG and decode again (lossless: the identity on 8-bit RGB)."""
    return encode_decode(image, "PNG")


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


def webp(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode as WebP (lossy) at ``quality`` and decode again."""
    return encode_decode(image, "WEBP", quality=quality)


def jpeg444(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode as JPEG without chroma subsampling (4:4:4) and decode again."""
    return encode_decode(image, "JPEG", quality=quality, subsampling="4:4:4")


def crop(image: np.ndarray, share: float) -> np.ndarray:
    """Cut ``share`` of the width and of the height off each side."""
    height, width = image.shape[:2]
    dy, dx = round(height * share), round(width * share)
    return np.ascontiguousarray(image[dy:height - dy, dx:width - dx])


def centre_aspect(image: np.ndarray, ratio: float) -> np.ndarray:
    """The largest centred crop with width / height == ``ratio``."""
    height, width = image.shape[:2]
    if width / height > ratio:
        new = round(height * ratio)
        return np.ascontiguousarray(image[:, (width - new) // 2:(width - new) // 2 + new])
    new = round(width / ratio)
    return np.ascontiguousarray(image[(height - new) // 2:(height - new) // 2 + new])


def rotate(image: np.ndarray, degrees: float, cut_corners: bool) -> np.ndarray:
    """Turn by ``degrees`` (bicubic) about the centre; the corners are cut away, or left
    filled with black."""
    turned = np.asarray(Image.fromarray(image).rotate(degrees, Image.Resampling.BICUBIC))
    if not cut_corners:
        return turned
    height, width = image.shape[:2]
    sine = abs(np.sin(np.radians(degrees)))
    dy, dx = int(width * sine) + 2, int(height * sine) + 2
    return np.ascontiguousarray(turned[dy:height - dy, dx:width - dx])


def gamma(image: np.ndarray, power: float, gain: float) -> np.ndarray:
    """``255 * gain * (x / 255) ** power``, rounded and clipped (a brightness edit)."""
    out = 255.0 * gain * (image.astype(np.float64) / 255.0) ** power
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _messenger(image: np.ndarray) -> np.ndarray:
    return jpeg(long_side(image, 1280), 80)


# What photos meet on the way through messengers and social sites: the robust channel's
# geometric acceptance (each edit followed by a 1,280 px resize and JPEG 80), then lossy
# paths without a crop, then small photos.
MESSENGER_DISTORTIONS: dict[str, Distortion] = {
    "msg1280-jpeg80": _messenger,
    "crop1-msg": lambda im: _messenger(crop(im, 0.01)),
    "crop5-msg": lambda im: _messenger(crop(im, 0.05)),
    "crop10-msg": lambda im: _messenger(crop(im, 0.10)),
    "aspect4x5-msg": lambda im: _messenger(centre_aspect(im, 0.8)),
    "aspect1x1-msg": lambda im: _messenger(centre_aspect(im, 1.0)),
    "rotate1-cut-msg": lambda im: _messenger(rotate(im, 1.0, True)),
    "rotate3-cut-msg": lambda im: _messenger(rotate(im, -3.0, True)),
    "rotate3-filled-msg": lambda im: _messenger(rotate(im, 3.0, False)),
    "mirror-msg": lambda im: _messenger(np.ascontiguousarray(im[:, ::-1])),
    "long1600-jpeg70": lambda im: jpeg(long_side(im, 1600), 70),
    "long960-jpeg71": lambda im: jpeg(long_side(im, 960), 71),
    "webp75": lambda im: webp(im, 75),
    "webp50": lambda im: webp(im, 50),
    "jpeg90-jpeg70": lambda im: jpeg(jpeg(im, 90), 70),
    "jpeg444-q60": lambda im: jpeg444(im, 60),
    "bilinear80": lambda im: np.asarray(Image.fromarray(im).resize(
        (round(im.shape[1] * 0.8), round(im.shape[0] * 0.8)), Image.Resampling.BILINEAR)),
    "gamma-brighter": lambda im: gamma(im, 0.9, 1.05),
    "long512": lambda im: long_side(im, 512),
    "long512-jpeg80": lambda im: jpeg(long_side(im, 512), 80),
}


def by_name(names: str | list[str]) -> dict[str, Distortion]:
    """The distortions named (comma-separated or a list); KeyError names an unknown one."""
    known = {**DISTORTIONS, **EXTRA_DISTORTIONS, **MESSENGER_DISTORTIONS}
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

"""Image-in-image hiding: the library API behind ``stegnet hide`` / ``stegnet reveal``.

Images are numpy arrays HxWx3 uint8 (what :func:`stegnet.imageio.load_rgb` gives).

How the secret is fitted to the cover: it is resized (bicubic, aspect ratio
kept) to the largest size that fits inside the cover and centred on a black
canvas of the cover's size. ``reveal`` returns that whole canvas, i.e. an image
of the stego's size; the black borders come back (approximately) black.

Odd sizes: the cover is reflect-padded to even height/width, processed, and the
stego is cropped back to the exact cover size. Large images are processed in
overlapping tiles (:mod:`stegnet.tiling`), so memory is bounded.

With a key the secret's tiles are shuffled and turned first (:mod:`stegnet.secret_tiles`);
whether a picture carries a hidden image at all is :mod:`stegnet.reveal_check` (both
re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from stegnet.imageio import require_min_side
from stegnet.reveal_check import (  # noqa: F401  (re-exported: reveal's check)
    CNN_THRESHOLD,
    DETECTOR,
    KURTOSIS_THRESHOLD,
    TAIL_THRESHOLD,
    Detection,
    colour_latent_stats,
    detect,
    detection_tiles,
    detector_logit,
)
from stegnet.secret_tiles import KEY_BLOCK, key_seams, scramble  # noqa: F401  (re-exported)
from stegnet.tensors import image_to_tensor, tensor_to_image
from stegnet.tiling import pad_to_multiple, run_tiled

if TYPE_CHECKING:
    import torch

    from stegnet.zoo import LoadedModel


def _resolve(model: LoadedModel | None) -> LoadedModel:
    """``model``, or the default shipped hiding network on the CPU."""
    from stegnet.zoo import load

    return model if model is not None else load("hide")

MIN_COVER_SIDE = 64
TILE = 512
MARGIN = 32
LATENT = "zeros"  # the fixed latent used for the dropped branch at reveal (measured choice)


def fit_secret(secret: np.ndarray, height: int, width: int) -> np.ndarray:
    """Letterbox ``secret`` (h x w x 3 uint8) into a black ``height x width`` canvas."""
    src_h, src_w = secret.shape[:2]
    scale = min(height / src_h, width / src_w)
    new_w, new_h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    new_w, new_h = min(new_w, width), min(new_h, height)
    resized = secret
    if (new_h, new_w) != (src_h, src_w):
        resized = np.asarray(
            Image.fromarray(secret).resize((new_w, new_h), Image.Resampling.BICUBIC)
        )
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def _subnet_dtype(precision: str, device: str) -> torch.dtype:
    """The torch dtype of ``precision`` (``auto``, ``float32``, ``bfloat16``) on ``device``."""
    import torch

    from stegnet.device import resolve_precision

    return getattr(torch, resolve_precision(precision, device))


def hide(
    cover: np.ndarray,
    secret: np.ndarray,
    model: LoadedModel | None = None,
    *,
    tile: int = TILE,
    progress: Callable[[int, int], None] | None = None,
    key: bytes | None = None,
    precision: str = "auto",
) -> np.ndarray:
    """Hide ``secret`` in ``cover``; returns the 8-bit stego (same size as cover).

    With ``key`` the fitted secret is scrambled (:func:`scramble`) before hiding, so
    only ``reveal`` with the same key gives it back. ``model``: a loaded hiding network
    (:func:`stegnet.zoo.load`), by default the shipped one on the CPU. ``precision``:
    the subnets' working precision (:func:`stegnet.device.resolve_precision`).
    """
    import torch

    from stegnet.layers.invertible import subnet_precision

    require_min_side(cover, MIN_COVER_SIDE, "cover")
    model = _resolve(model)
    net, device = model.module, model.device
    dtype = _subnet_dtype(precision, device)
    height, width = cover.shape[:2]
    fitted = fit_secret(secret, height, width)
    if key is not None:
        fitted = scramble(fitted, key)
    cover_even, secret_even = pad_to_multiple(cover, 2), pad_to_multiple(fitted, 2)

    def run(tiles: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode(), subnet_precision(dtype):
            cover_tile, secret_tile = (image_to_tensor(tile, device) for tile in tiles)
            stego, _ = net.hide(cover_tile, secret_tile)
        return tensor_to_image(stego)

    stego = run_tiled([cover_even, secret_even], run, tile, MARGIN, progress=progress)
    return stego[:height, :width]


def reveal(
    stego: np.ndarray,
    model: LoadedModel | None = None,
    *,
    tile: int = TILE,
    latent: str = LATENT,
    progress: Callable[[int, int], None] | None = None,
    key: bytes | None = None,
    precision: str = "auto",
) -> np.ndarray:
    """Recover the hidden image from an 8-bit ``stego``; returns an image of the stego's size.

    A wrong ``key`` (or none, for a keyed stego) gives a scrambled mosaic, not the secret.
    ``precision``: as in :func:`hide`.
    """
    import torch

    from stegnet.layers.invertible import subnet_precision

    require_min_side(stego, MIN_COVER_SIDE, "stego image")
    model = _resolve(model)
    net, device = model.module, model.device
    dtype = _subnet_dtype(precision, device)
    height, width = stego.shape[:2]

    def run(tiles: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode(), subnet_precision(dtype):
            secret = net.reveal(image_to_tensor(tiles[0], device), latent=latent)
        return tensor_to_image(secret)

    revealed = run_tiled([pad_to_multiple(stego, 2)], run, tile, MARGIN, progress=progress)
    revealed = revealed[:height, :width]
    return scramble(revealed, key, reverse=True) if key is not None else revealed

"""Image-in-image hiding: the library API behind ``stegnet hide`` / ``stegnet reveal``.

Images are numpy arrays HxWx3 uint8 (what :func:`stegnet.imageio.load_rgb` gives).

How the secret is fitted to the cover: it is resized (bicubic, aspect ratio
kept) to the largest size that fits inside the cover and centred on a black
canvas of the cover's size. ``reveal`` returns that whole canvas, i.e. an image
of the stego's size; the black borders come back (approximately) black.

Odd sizes: the cover is reflect-padded to even height/width, processed, and the
stego is cropped back to the exact cover size. Large images are processed in
overlapping tiles (:mod:`stegnet.tiling`), so memory is bounded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from stegnet.imageio import require_min_side
from stegnet.tensors import image_to_tensor, tensor_to_image
from stegnet.tiling import pad_to_multiple, run_tiled

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


KEY_BLOCK = 16  # side of the secret blocks that a key shuffles


def _key_rng(key: bytes) -> np.random.Generator:
    """A generator seeded from the key by scrypt (memory-hard, fixed application salt)."""
    import hashlib

    seed = hashlib.scrypt(key, salt=b"stegnet-hide-key-v1", n=2**14, r=8, p=1, dklen=32)
    return np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big")))


def _key_plan(height: int, width: int, key: bytes):
    """Block permutation, per-block inversion and per-pixel border inversion for a key."""
    rng = _key_rng(key)
    rows, cols = height // KEY_BLOCK, width // KEY_BLOCK
    permutation = rng.permutation(rows * cols)
    invert_blocks = rng.random(rows * cols) < 0.5
    invert_pixels = rng.random((height, width, 1)) < 0.5
    return rows, cols, permutation, invert_blocks, invert_pixels


def scramble(canvas: np.ndarray, key: bytes, reverse: bool = False) -> np.ndarray:
    """Key-seeded shuffle of the secret canvas (HxWx3 uint8), or its inverse.

    The canvas is cut into 16x16 blocks; blocks are permuted and half of them colour-
    inverted (255 - x), so each block keeps natural image statistics (the network hides
    it almost as well) while the picture as a whole is destroyed. The strips right and
    below the last whole block are inverted pixel by pixel. Without the key the revealed
    image is a mosaic of shuffled, inverted blocks.
    """
    height, width = canvas.shape[:2]
    rows, cols, permutation, invert_blocks, invert_pixels = _key_plan(height, width, key)
    block = KEY_BLOCK
    out = np.where(invert_pixels, 255 - canvas, canvas)  # borders (inner part replaced below)
    inner = canvas[: rows * block, : cols * block]
    blocks = inner.reshape(rows, block, cols, block, 3).transpose(0, 2, 1, 3, 4)
    blocks = blocks.reshape(rows * cols, block, block, 3)
    if reverse:
        blocks = np.where(invert_blocks[:, None, None, None], 255 - blocks, blocks)
        restored = np.empty_like(blocks)
        restored[permutation] = blocks
        blocks = restored
    else:
        blocks = blocks[permutation]
        blocks = np.where(invert_blocks[:, None, None, None], 255 - blocks, blocks)
    blocks = blocks.reshape(rows, cols, block, block, 3).transpose(0, 2, 1, 3, 4)
    out[: rows * block, : cols * block] = blocks.reshape(rows * block, cols * block, 3)
    return out


def hide(
    cover: np.ndarray,
    secret: np.ndarray,
    model=None,
    device: str = "cpu",
    tile: int = TILE,
    progress: Callable[[int, int], None] | None = None,
    key: bytes | None = None,
) -> np.ndarray:
    """Hide ``secret`` in ``cover``; returns the 8-bit stego (same size as cover).

    With ``key`` the fitted secret is scrambled (:func:`scramble`) before hiding, so
    only ``reveal`` with the same key gives it back.
    """
    import torch

    from stegnet.zoo import load_model

    require_min_side(cover, MIN_COVER_SIDE, "cover")
    model = model if model is not None else load_model("hide", None, device)
    height, width = cover.shape[:2]
    fitted = fit_secret(secret, height, width)
    if key is not None:
        fitted = scramble(fitted, key)
    cover_even, secret_even = pad_to_multiple(cover, 2), pad_to_multiple(fitted, 2)

    def run(tiles: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            cover_tile, secret_tile = (image_to_tensor(tile, device) for tile in tiles)
            stego, _ = model.hide(cover_tile, secret_tile)
        return tensor_to_image(stego)

    stego = run_tiled([cover_even, secret_even], run, tile, MARGIN, progress=progress)
    return stego[:height, :width]


def reveal(
    stego: np.ndarray,
    model=None,
    device: str = "cpu",
    tile: int = TILE,
    latent: str = LATENT,
    progress: Callable[[int, int], None] | None = None,
    key: bytes | None = None,
) -> np.ndarray:
    """Recover the hidden image from an 8-bit ``stego``; returns an image of the stego's size.

    A wrong ``key`` (or none, for a keyed stego) gives a scrambled mosaic, not the secret.
    """
    import torch

    from stegnet.zoo import load_model

    require_min_side(stego, MIN_COVER_SIDE, "stego image")
    model = model if model is not None else load_model("hide", None, device)
    height, width = stego.shape[:2]

    def run(tiles: list[np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            secret = model.reveal(image_to_tensor(tiles[0], device), latent=latent)
        return tensor_to_image(secret)

    revealed = run_tiled([pad_to_multiple(stego, 2)], run, tile, MARGIN, progress=progress)
    revealed = revealed[:height, :width]
    return scramble(revealed, key, reverse=True) if key is not None else revealed

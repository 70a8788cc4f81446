"""The key's plan for a secret image: its 32 px tiles shuffled and turned before hiding.

``hide --key`` scrambles the fitted secret canvas with :func:`scramble` (a permutation and
one of the 8 orientations of the square per tile, from a key-seeded generator); ``reveal``
with the same key undoes it, any other key gives a puzzle of tiles. :func:`key_seams`
marks the tile seams, where the network's error concentrates (training weights them).
Canvases are (H, W, 3) uint8 arrays.
"""

from __future__ import annotations

import numpy as np

KEY_BLOCK = 32  # side of the secret tiles that a key shuffles


def _key_rng(key: bytes) -> np.random.Generator:
    """A generator seeded from the key by scrypt (memory-hard, fixed application salt)."""
    import hashlib

    seed = hashlib.scrypt(key, salt=b"stegnet-hide-key-v2", n=2**14, r=8, p=1, dklen=32)
    return np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big")))


def key_seams(height: int, width: int) -> np.ndarray:
    """(height, width) bool: the rows and columns each side of every tile boundary of
    :func:`scramble`, where shuffled tiles meet (what a keyed reveal gets most wrong)."""
    rows = np.isin(np.arange(height) % KEY_BLOCK, (0, KEY_BLOCK - 1))
    cols = np.isin(np.arange(width) % KEY_BLOCK, (0, KEY_BLOCK - 1))
    return rows[:, None] | cols[None, :]


def _orient(tiles: np.ndarray, codes: np.ndarray, reverse: bool) -> np.ndarray:
    """Tile ``i`` of ``tiles`` (N, a, b, 3) flipped and transposed by ``codes[i]`` in 0..7
    (bit 0: upside down, bit 1: mirrored, bit 2: transposed; square tiles only), or back."""
    out = tiles.copy()
    for code in np.unique(codes):
        chosen = codes == code
        group = tiles[chosen]
        if reverse and code & 4:
            group = group.transpose(0, 2, 1, 3)
        if code & 1:
            group = group[:, ::-1]
        if code & 2:
            group = group[:, :, ::-1]
        if not reverse and code & 4:
            group = group.transpose(0, 2, 1, 3)
        out[chosen] = group
    return out


def _shuffle(tiles: np.ndarray, rng: np.random.Generator, reverse: bool) -> np.ndarray:
    """Key-drawn permutation and orientation of ``tiles`` (N, a, b, 3), or its inverse."""
    count, side_a, side_b = tiles.shape[:3]
    permutation = rng.permutation(count)
    codes = rng.integers(0, 8 if side_a == side_b else 4, count)
    if not reverse:
        return _orient(tiles[permutation], codes, reverse=False)
    restored = np.empty_like(tiles)
    restored[permutation] = _orient(tiles, codes, reverse=True)
    return restored


def _tiles(region: np.ndarray, tile_h: int, tile_w: int) -> np.ndarray:
    """``region`` (H, W, 3), H and W multiples of the tile, as (N, tile_h, tile_w, 3)."""
    rows, cols = region.shape[0] // tile_h, region.shape[1] // tile_w
    return (region.reshape(rows, tile_h, cols, tile_w, 3).transpose(0, 2, 1, 3, 4)
            .reshape(rows * cols, tile_h, tile_w, 3))


def _untiles(tiles: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Inverse of :func:`_tiles`: (rows * cols, h, w, 3) back to (rows * h, cols * w, 3)."""
    tile_h, tile_w = tiles.shape[1:3]
    return (tiles.reshape(rows, cols, tile_h, tile_w, 3).transpose(0, 2, 1, 3, 4)
            .reshape(rows * tile_h, cols * tile_w, 3))


def scramble(canvas: np.ndarray, key: bytes | np.random.Generator,
             reverse: bool = False) -> np.ndarray:
    """Key-seeded shuffle of the secret canvas (HxWx3 uint8), or its inverse.

    The canvas is cut into 32x32 tiles, which are permuted and each flipped, rotated or
    transposed (one of 8 orientations): every tile keeps natural image statistics, so the
    network carries the shuffled canvas almost as well as a photo, while the picture as a
    whole becomes a puzzle of tiles. The strips right of and below the last whole tile are
    cut into 32-long pieces, shuffled and flipped among themselves; the corner is turned
    by 180 degrees. ``key``: the user's key (stretched by scrypt), or a generator (training
    draws random keyings this way). This is scrambling, not encryption: without the key
    the revealed image is a mosaic of tiles, each recognisable on its own.
    """
    height, width = canvas.shape[:2]
    rng = key if isinstance(key, np.random.Generator) else _key_rng(key)
    block = KEY_BLOCK
    rows, cols = height // block, width // block
    inner_h, inner_w = rows * block, cols * block
    out = canvas.copy()
    if rows and cols:
        tiles = _shuffle(_tiles(canvas[:inner_h, :inner_w], block, block), rng, reverse)
        out[:inner_h, :inner_w] = _untiles(tiles, rows, cols)
    if height > inner_h and cols:  # bottom strip: (height - inner_h) x 32 pieces
        strip = canvas[inner_h:, :inner_w]
        tiles = _shuffle(_tiles(strip, height - inner_h, block), rng, reverse)
        out[inner_h:, :inner_w] = _untiles(tiles, 1, cols)
    if width > inner_w and rows:  # right strip: 32 x (width - inner_w) pieces
        strip = canvas[:inner_h, inner_w:]
        tiles = _shuffle(_tiles(strip, block, width - inner_w), rng, reverse)
        out[:inner_h, inner_w:] = _untiles(tiles, rows, 1)
    out[inner_h:, inner_w:] = canvas[inner_h:, inner_w:][::-1, ::-1]
    return out

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
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from stegnet.errors import ModelError
from stegnet.imageio import require_min_side
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


# ---------------------------------------------------------------- is there a hidden image?
DETECTOR = "xunet-hide"  # the shipped CNN steganalyser for `hide` (weights/detectors)
DETECT_TILE = 256  # both statistics are computed on tiles of this size ...
DETECT_MAX_TILES = 8  # ... at most this many, spread over the image (bounded time)
#: Mean logit above which the CNN test passes. Its trained decision is 0; 4 keeps a margin
#: of 2 to the lowest hide stego measured (held-out: 6.0 to 7.6) while refusing the
#: faint embedding noise of sparse embed-bits (measured up to 3.6) and clean photos
#: (held-out: at most -2.5).
CNN_THRESHOLD = 4.0
TAIL_LEVEL = 4.0  # |z| beyond this counts as a tail latent (Gaussian: 6e-5 of them)
TAIL_THRESHOLD = 0.01  # share of tail latents above which the noise is hide's ...
KURTOSIS_THRESHOLD = 50.0  # ... or latent kurtosis above which it is


@dataclass(frozen=True)
class Detection:
    """The evidence that a picture carries an image hidden by :func:`hide`.

    ``cnn_logit``: mean logit of the shipped ``xunet-hide`` CNN steganalyser over
    :data:`DETECT_TILE` px tiles (> 0: some kind of stego; > :data:`CNN_THRESHOLD`:
    the strong embedding noise of `hide` or of full embed-bits).
    ``latent_tail`` and ``latent_kurtosis``: how heavy-tailed the colour-detail latents of
    the embed-bits colour flow are (:func:`colour_latent_stats`; above
    :data:`TAIL_THRESHOLD` or :data:`KURTOSIS_THRESHOLD`: the noise of `hide`).
    ``detected`` needs the CNN and one of the two latent statistics.
    """

    detected: bool
    cnn_logit: float
    latent_tail: float
    latent_kurtosis: float

    def to_dict(self) -> dict:
        """JSON-friendly form (rounded)."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _hide_detector():
    """The shipped hide steganalyser in eval mode (cached); ModelError if it is missing."""
    from stegnet.zoo import get_model_info, load

    try:
        get_model_info("detect", DETECTOR)
    except ModelError:
        raise ModelError(f"the hide detector {DETECTOR} is missing (reveal --anyway skips "
                         f"the check)") from None
    return load("detect", DETECTOR).module


def _tile_starts(length: int, tile: int) -> list[int]:
    """Starts of tiles of ``tile`` px covering ``length`` (the last one flush with the end)."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, tile))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def detection_tiles(image: np.ndarray, tile: int = DETECT_TILE,
                    max_tiles: int = DETECT_MAX_TILES) -> list[np.ndarray]:
    """The ``tile`` px tiles (even-sized) both statistics look at: all of them, or
    ``max_tiles`` spread evenly over a large image."""
    height, width = image.shape[:2]
    boxes = [(top, left) for top in _tile_starts(height, tile)
             for left in _tile_starts(width, tile)]
    if len(boxes) > max_tiles:
        picks = np.linspace(0, len(boxes) - 1, max_tiles).round().astype(int)
        boxes = [boxes[i] for i in picks]
    tiles = []
    for top, left in boxes:
        crop = image[top : top + tile, left : left + tile]
        crop = crop[: crop.shape[0] // 2 * 2, : crop.shape[1] // 2 * 2]
        tiles.append(np.ascontiguousarray(crop))
    return tiles


def detector_logit(tiles: list[np.ndarray]) -> float:
    """Mean logit of the shipped hide detector over ``tiles`` (:func:`detection_tiles`).

    The detector was trained on 128 px crops of 256 px images; averaging its logits over
    256 px tiles keeps every input at the scale it knows and the memory bounded.
    """
    import torch

    model = _hide_detector()
    logits = []
    with torch.inference_mode():
        for crop in tiles:
            batch = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
            logits.append(float(model(batch)[0]))
    return float(np.mean(logits))


def colour_latent_stats(tiles: list[np.ndarray],
                        bits_model: LoadedModel | None = None) -> tuple[float, float]:
    """(tail share, kurtosis) of the latents z the embed-bits colour flow gives for the
    colour detail of ``tiles``: the share of ``|z| > TAIL_LEVEL`` and ``E[z^4] / E[z^2]^2``.

    The flow was trained to map a photo's colour detail to Gaussian latents (tail share
    6e-5, kurtosis 3). Measured on training photos: clean photos give mildly heavy tails
    (tail share up to 0.006, kurtosis 3-12), embed-bits stego images near-Gaussian ones
    (their colour detail was synthesised from Gaussian latents, or is the cover's where
    sparse embedding left it), and the noise of `hide` very heavy ones (tail share 0.02 to
    0.4, or kurtosis 100 to 10,000): this tells the two kinds of stego apart.
    """
    import torch

    from stegnet.zoo import load

    model = bits_model if bits_model is not None else load("flow")
    flow, device = model.module, model.device
    second = fourth = 0.0
    tail = count = 0
    with torch.inference_mode():
        for crop in tiles:
            z = flow.analyse(image_to_tensor(crop, device))[0].double().cpu().numpy()
            squared = z.reshape(-1) ** 2
            second += float(squared.sum())
            fourth += float((squared**2).sum())
            tail += int(np.count_nonzero(squared > TAIL_LEVEL**2))
            count += squared.size
    if count == 0 or second == 0:
        return 0.0, 0.0
    return tail / count, (fourth / count) / (second / count) ** 2


def detect(stego: np.ndarray, bits_model: LoadedModel | None = None) -> Detection:
    """Does ``stego`` carry an image hidden by :func:`hide`?

    Two measured tests must agree: the CNN steganalyser sees embedding noise (this rules
    out clean photos) and the colour latents are as heavy-tailed as hide's noise makes
    them (this rules out embed-bits stego images, which the CNN also flags, and is itself
    far from clean photos). The thresholds and their measured error rates on held-out photos:
    ``scripts/measure_reveal_detection.py`` (``results/reveal-detection.json``).
    """
    tiles = detection_tiles(stego)
    logit = detector_logit(tiles)
    tail, kurtosis = colour_latent_stats(tiles, bits_model)
    heavy = tail > TAIL_THRESHOLD or kurtosis > KURTOSIS_THRESHOLD
    return Detection(bool(logit > CNN_THRESHOLD and heavy), logit, tail, kurtosis)

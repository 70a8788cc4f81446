"""JPEG steganalysis features and statistics of the JPEG detection study
(:mod:`stegnet_research.jpegstudy`), NumPy only.

* :func:`dctr` - DCTR (Holub and Fridrich, "Low-complexity features for JPEG steganalysis
  using undecimated DCT", IEEE TIFS 2015): the decompressed luminance (unrounded, level
  shift removed) is convolved with the 64 8 x 8 DCT basis patterns; each residual is
  quantised ``min(T, round(|U| / q))`` with ``T = 4`` and ``q = 8 (2 - QF / 50)`` for
  ``QF >= 50`` (``q = 8 * 50 / QF`` below, at most 100; at least 0.2: the paper's Eq. 10,
  :func:`dctr_step`); per basis pattern, the values at each of the 64 phases of the 8 x 8
  grid go to one of 25 histograms (phases ``a`` and ``8 - a`` merged in each direction by
  the patterns' symmetry), each with ``T + 1`` bins and normalised to sum 1:
  64 x 25 x 5 = :data:`DIMENSION` features. The 64 convolutions are separable (each
  pattern is the outer product of two rows of the DCT matrix), so they are two matrix
  products over sliding windows, not 64 2-D convolutions.
* :func:`rjca` - the reverse JPEG-compatibility statistic (Butora and Fridrich, "Reverse
  JPEG compatibility attack", IEEE TIFS 2019), for qualities 95 and up: a JPEG compressed
  from integer pixels, decompressed without rounding, lies close to integers when the
  quantisation steps are small; a +-1 coefficient change adds its (quantisation step x
  DCT basis) pattern and spreads the rounding errors ``x - round(x)``. Score: the mean
  over all 8 x 8 blocks (every component) of the variance of the block's rounding errors;
  larger means stego.
* :func:`jpeg_compat` - JPEG compatibility of a pixel image (a PNG made from a decoded
  JPEG): see its docstring.
"""

from __future__ import annotations

import numpy as np

from stegnet.costs_jpeg import dct_matrix, decompress

T = 4
"""DCTR's truncation threshold (the paper's)."""
DIMENSION = 64 * 25 * (T + 1)
"""Number of DCTR features (8000)."""

_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]).reshape(8, 8)
"""The JPEG standard's (Annex K) luminance table, quality 50 in libjpeg's scale."""


def libjpeg_table(quality: int) -> np.ndarray:
    """libjpeg's luminance table at ``quality`` (1 .. 100, baseline: values 1 .. 255)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((_STD_LUMA * scale + 50) // 100, 1, 255)


def quality_from_table(qt: np.ndarray) -> tuple[int, bool]:
    """(quality, exact) of a luminance table: the libjpeg quality whose table is closest
    (sum of absolute differences); ``exact`` when it is that table."""
    qt = np.asarray(qt, dtype=np.int64)
    errors = [int(np.abs(libjpeg_table(q) - qt).sum()) for q in range(1, 101)]
    best = int(np.argmin(errors))
    return best + 1, errors[best] == 0


def dctr_step(quality: int) -> float:
    """DCTR's quantisation step ``q`` for a JPEG quality factor (the paper's Eq. 10):
    ``8 (2 - QF / 50)`` (at least 0.2) for QF >= 50, ``8 * 50 / QF`` (at most 100) below:
    4 at quality 75, 0.4 at 95."""
    if quality < 50:
        return min(8.0 * 50.0 / quality, 100.0)
    return max(8.0 * (2.0 - quality / 50.0), 0.2)


def _phase_groups() -> np.ndarray:
    """(8, 8) int: the merged histogram (0 .. 24) of each grid phase (row, col) mod 8:
    phases ``a`` and ``8 - a`` share one per direction (0, 1|7, 2|6, 3|5, 4)."""
    fold = np.minimum(np.arange(8), 8 - np.arange(8))  # 0 1 2 3 4 3 2 1
    return fold[:, None] * 5 + fold[None, :]


def dctr(plane: np.ndarray, q: float) -> np.ndarray:
    """DCTR features (:data:`DIMENSION`, float32) of a luminance ``plane`` (H, W) float
    whose 8 x 8 grid starts at (0, 0), level shift removed (values ~ -128 .. 127).

    Order: basis pattern (k, l) row-major, then merged phase (25), then bin 0 .. T; each
    (pattern, phase) histogram sums to 1.
    """
    x = np.asarray(plane, dtype=np.float64)
    height, width = x.shape
    if height < 16 or width < 16:
        raise ValueError(f"DCTR needs at least 16 x 16 pixels, got {x.shape}")
    d = dct_matrix()
    rows = np.lib.stride_tricks.sliding_window_view(x, 8, axis=0) @ d.T  # (H-7, W, 8 [k])
    cols = np.lib.stride_tricks.sliding_window_view(rows, 8, axis=1)  # (H-7, W-7, 8k, 8n)
    u = cols @ d.T  # (H-7, W-7, 8 [k], 8 [l]): window at (i, j) times pattern (k, l)
    level = np.minimum(np.floor(np.abs(u) / q + 0.5), T).astype(np.int64)  # Matlab round
    groups = _phase_groups()
    phase = groups[np.arange(height - 7) % 8][:, np.arange(width - 7) % 8]  # (H-7, W-7)
    index = (np.arange(64).reshape(1, 1, 8, 8) * 125 + phase[:, :, None, None] * 5 + level)
    counts = np.bincount(index.reshape(-1), minlength=DIMENSION).astype(np.float64)
    counts = counts.reshape(64 * 25, T + 1)
    counts /= np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    return counts.reshape(-1).astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """JFIF luma ``0.299 R + 0.587 G + 0.114 B`` of an (H, W, 3) uint8 image (float64,
    0 .. 255, unrounded)."""
    image = np.asarray(rgb, dtype=np.float64)
    return image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114


def decompressed_luma(coefficients: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """A luminance component ``(bv, bh, 8, 8)`` decompressed without rounding, level shift
    removed (DCTR's input)."""
    return decompress(coefficients, qt) - 128.0


def rjca(components: list[np.ndarray], tables: list[np.ndarray]) -> float:
    """Reverse JPEG-compatibility score of a JPEG's components and tables (see the module
    doc): mean over all blocks of the variance of ``x - round(x)`` within the block."""
    variances = []
    for coefficients, qt in zip(components, tables, strict=True):
        x = np.asarray(coefficients, np.float64) * np.asarray(qt, np.float64)
        d = dct_matrix()
        pixels = d.T @ x @ d  # (bv, bh, 8, 8), unrounded (the level shift is an integer)
        error = pixels - np.rint(pixels)
        variances.append(error.reshape(-1, 64).var(axis=1))
    return float(np.concatenate(variances).mean())


def jpeg_compat(rgb: np.ndarray, qt: np.ndarray, margin: float = 0.05) -> float:
    """How far an (H, W, 3) uint8 image is from being a decompressed JPEG with luminance
    table ``qt``: the share of unsaturated pixels whose luma is off the re-estimated
    decompression by more than ``0.5 + margin``.

    The luma ``Y' = 0.299 R + 0.587 G + 0.114 B`` of a decoded JPEG is the decoder's
    integer luma ``Y`` plus the colour conversion's rounding (the inverse transform is
    exact, so ``|Y' - Y| <= 0.5`` wherever no channel clipped). The coefficients are
    re-estimated as ``round(DCT(Y' - 128) / qt)`` (exact when the steps are large next to
    that noise, i.e. at moderate quality), decompressed and rounded to ``Y``; a +-1 change
    of G (0.587), and of R or B in part, pushes ``|Y' - Y|`` past 0.5. Pixels with a
    channel at 0 or 255 are left out (clipping breaks the bound). Larger means stego.
    Needs the grid at (0, 0) and sides that are multiples of 8.
    """
    luma = luminance(rgb)
    height, width = luma.shape
    blocks = (luma - 128.0).reshape(height // 8, 8, width // 8, 8).transpose(0, 2, 1, 3)
    d = dct_matrix()
    q = np.asarray(qt, np.float64)
    coefficients = np.rint((d @ blocks @ d.T) / q)
    decoded = np.clip(np.rint(d.T @ (coefficients * q) @ d + 128.0), 0, 255)
    decoded = decoded.transpose(0, 2, 1, 3).reshape(height, width)
    inside = ((rgb > 0) & (rgb < 255)).all(axis=2)
    off = np.abs(luma - decoded) > 0.5 + margin
    return float((off & inside).sum() / max(1, int(inside.sum())))

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
  pattern is the outer product of two rows of the DCT matrix): 8 + 64 one-dimensional
  8-tap filters (~0.07 s for 256 x 256 on one core).
* :func:`rjca` - the reverse JPEG-compatibility statistic (Butora and Fridrich, "Reverse
  JPEG compatibility attack", IEEE TIFS 2019, published for qualities 99 and 100): a JPEG
  compressed from integer pixels, decompressed without rounding, lies close to integers
  when the quantisation steps are small (all 1 at quality 100); a +-1 coefficient change
  adds its (quantisation step x DCT basis) pattern and spreads the rounding errors
  ``x - round(x)``. Score: the mean over all 8 x 8 blocks (every component) of the
  variance of the block's rounding errors; larger means stego. At quality 95 (steps up to
  ~12) a once-compressed cover's errors are already near uniform and the score is at
  chance, except for covers that are a quality-95 JPEG re-saved at 95 on the same grid
  (:mod:`stegnet_research.jpegalign`).
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
    4 at quality 75, 0.8 at 95."""
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
    (pattern, phase) histogram sums to 1. The residual at (i, j) is the window of rows
    ``i .. i + 7`` and columns ``j .. j + 7`` times the pattern (a correlation: a
    convolution flips the pattern, which changes at most its sign, and ``|U|`` is taken).
    """
    from scipy.ndimage import correlate1d

    x = np.asarray(plane, dtype=np.float64)
    height, width = x.shape
    if height < 16 or width < 16:
        raise ValueError(f"DCTR needs at least 16 x 16 pixels, got {x.shape}")
    d = dct_matrix()
    phase = _phase_groups()[np.arange(height - 7) % 8][:, np.arange(width - 7) % 8] * (T + 1)
    counts = np.empty((64, 25 * (T + 1)))
    for k in range(8):  # separable: rows with D[k], then columns with D[m]
        rows = correlate1d(x, d[k], axis=0, mode="constant", origin=-4)[: height - 7]
        for m in range(8):
            u = correlate1d(rows, d[m], axis=1, mode="constant", origin=-4)[:, : width - 7]
            level = np.minimum(np.floor(np.abs(u) / q + 0.5), T).astype(np.intp)  # Matlab round
            counts[8 * k + m] = np.bincount((phase + level).ravel(), minlength=counts.shape[1])
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


def _decoded_luma(coefficients: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """The integer luma libjpeg's decoder makes of luminance ``coefficients`` (bv, bh, 8, 8)
    with table ``qt``: a grey JPEG of these coefficients (libjpeg's table of the matching
    quality, :func:`stegnet.jpegio.compress`) decoded by Pillow, whose integer IDCT is the
    one that decoded the colour image. Where ``qt`` is no libjpeg table: the rounded float
    IDCT (off by one in ~1 % of pixels)."""
    import io

    from PIL import Image

    from stegnet import jpegio

    quality, exact = quality_from_table(qt)
    if not exact:
        return np.clip(np.rint(decompress(coefficients, qt)), 0, 255)
    bv, bh = coefficients.shape[:2]
    template = jpegio.compress(np.zeros((8 * bv, 8 * bh), np.uint8), quality)
    grey = template.with_coefficients(np.clip(coefficients, -1023, 1023).reshape(-1))
    with Image.open(io.BytesIO(jpegio.to_bytes(grey))) as image:
        return np.asarray(image, dtype=np.float64)


def jpeg_compat(rgb: np.ndarray, qt: np.ndarray) -> float:
    """How far an (H, W, 3) uint8 image is from being a decoded JPEG with luminance table
    ``qt``: the share of usable 8 x 8 blocks that do not match, i.e. with a pixel whose luma
    is more than 0.5 off the decoder's luma of the block's re-estimated coefficients (0 for
    a decoded JPEG whose coefficients were re-estimated exactly; larger means stego).

    The luma ``Y' = 0.299 R + 0.587 G + 0.114 B`` of a decoded JPEG is the decoder's
    integer luma ``Y`` plus the colour conversion's rounding: the inverse transform is
    exact, so ``|Y' - Y| <= 0.5`` wherever no channel clipped, whatever the chroma. The
    coefficients are re-estimated as ``round(DCT(Y' - 128) / qt)`` and decoded again by
    libjpeg (:func:`_decoded_luma`); a +-1 change of G (0.587), and of R or B in part,
    pushes ``|Y' - Y|`` past 0.5. Blocks with a channel at 0 or 255 or a luma below 1 or
    above 254 are not usable (clipping breaks the bound and the re-estimate). The
    re-estimate is exact at moderate quality (steps of 8 and more at quality 75); at
    quality 95 (steps 1 .. 5) the rounding of ``Y`` and ``Y'`` makes it wrong in a good
    share of blocks, so covers score well above 0 there. Sides must be multiples of 8, the
    grid at (0, 0).
    """
    luma = luminance(rgb)
    height, width = luma.shape

    def blocks(plane: np.ndarray) -> np.ndarray:  # (bv, bh, 8, 8)
        return plane.reshape(height // 8, 8, width // 8, 8).transpose(0, 2, 1, 3)

    d = dct_matrix()
    coefficients = np.rint((d @ blocks(luma - 128.0) @ d.T) / np.asarray(qt, np.float64))
    decoded = _decoded_luma(coefficients.astype(np.int64), qt)
    clipped = ((rgb == 0) | (rgb == 255)).any(axis=2) | (luma < 1.0) | (luma > 254.0)
    usable = ~blocks(clipped).any(axis=(2, 3))
    off = blocks(np.abs(luma - decoded) > 0.5 + 1e-6).any(axis=(2, 3))
    return float((off & usable).sum() / max(1, int(usable.sum())))

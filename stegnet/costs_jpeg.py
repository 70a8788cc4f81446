"""Embedding costs in the JPEG domain: what changing one quantised DCT coefficient by +-1
costs a steganographer (large where a steganalyser would notice).

Two distortions, for one component at a time (its coefficients ``(blocks_v, blocks_h, 8,
8)`` int, and its (8, 8) quantisation table ``qt``, values >= 1):

* :func:`uerd` - UERD (Guo, Ni, Su, Tang, Shi 2015): ``q_mode / (E_block + 0.25 * sum of
  the 8 neighbouring blocks' E)``, ``E`` the block's dequantised AC energy ``sum |c q|``.
  Pure NumPy.
* :func:`juniward` - J-UNIWARD (Holub, Fridrich, Denemark 2014): the change's relative
  impact on the three Daubechies-8 wavelet residuals (LH, HL, HH) of the decompressed
  component, ``sum |W_k(q B_mode)| / (|W_k(X)| + sigma)`` over the 23 x 23 window it
  touches. The footprint of a mode is separable (the DCT basis and the wavelet filters
  are outer products), so the 64 modes of all blocks are two grouped, strided 1-D
  convolutions (PyTorch) over the reciprocal residuals, not 64 x 23 x 23 per block.

Both agree with ``conseal`` (``cl.uerd.compute_cost`` and ``cl.juniward.compute_cost``,
given the same decompressed plane) to float rounding: UERD exactly in float64, DC and
zero-energy blocks (``inf``) included; J-UNIWARD to ~1e-12 relative in float64 and
~1e-4 in float32 (the default here: float64 convolutions are ~5x slower in PyTorch; the
error comes from the residuals of smooth areas, small differences of values up to 128).
:func:`juniward` follows the paper's window alignment (conseal's
``JUNIWARD_FIX_OFF_BY_ONE``) unless ``original=True`` (conseal's default
``JUNIWARD_ORIGINAL``, the Matlab code's window shifted by one pixel).

Speed (measured once, one CPU thread of a shared machine, 1600 x 1200 px 4:2:0 q75 photo,
2.9 M coefficients): UERD 0.03-0.09 s; J-UNIWARD in float32 0.5-0.6 s for the three
components (the Y plane alone: 0.44 s here, 2.1 s in float64, 7.4 s with conseal's NumPy
code), plus ~1.5 s for torch's first use in a process. J-UNIWARD is the default of the
JPEG channel: it is the less detectable of the two in the literature (UERD trades some
security for speed), and half a second is small next to the syndrome-trellis solve
(~1.5 s for 1 KiB in that photo); UERD is there for speed.

:func:`cover_costs` gives the cost of every coefficient of a
:class:`~stegnet.jpegio.JpegCover` in :meth:`~stegnet.jpegio.JpegCover.coefficients` order;
:func:`ternary` the +1 / -1 costs with wet coefficients (:data:`WET`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from stegnet.jpegio import JpegCover

__all__ = ["COSTS", "DEFAULT", "SIGMA", "WET", "cover_costs", "dct_matrix", "decompress",
           "juniward", "ternary", "uerd"]

WET = 1e13
"""Cost of a coefficient that must not change (conseal's ``wet_cost``)."""

SIGMA = 2.0**-6
"""J-UNIWARD's stabilising constant (the paper's and conseal's)."""

COSTS = ("juniward", "uerd")
"""The distortions :func:`cover_costs` knows, the default first."""
DEFAULT = COSTS[0]

_DB8_HIGH = np.array([
    -0.0544158422, +0.3128715909, -0.6756307363, +0.5853546837,
    +0.0158291053, -0.2840155430, -0.0004724846, +0.1287474266,
    +0.0173693010, -0.0440882539, -0.0139810279, +0.0087460940,
    +0.0048703530, -0.0003917404, -0.0006754494, -0.0001174768,
])
"""Daubechies-8 high-pass decomposition filter (16 taps, the J-UNIWARD reference's)."""
_DB8_LOW = (-1.0) ** np.arange(16) * _DB8_HIGH[::-1]


def dct_matrix() -> np.ndarray:
    """The orthonormal 8-point DCT-II matrix ``D`` (8, 8): a block's coefficients are
    ``D X D^T`` of its samples and the samples ``D^T Y D`` (JPEG's IDCT, unrounded)."""
    u, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    d = np.cos((2 * x + 1) * u * np.pi / 16) / 2
    d[0] /= np.sqrt(2)
    return d


def decompress(coefficients: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """One component's samples from its coefficients ``(bv, bh, 8, 8)`` and table (8, 8):
    (8 bv, 8 bh) float64, unrounded and unclipped, level-shifted (+128, so ~0 .. 255)."""
    d = dct_matrix()
    blocks = d.T @ (coefficients * np.asarray(qt, np.float64)) @ d  # (bv, bh, 8, 8)
    bv, bh = coefficients.shape[:2]
    return blocks.transpose(0, 2, 1, 3).reshape(8 * bv, 8 * bh) + 128.0


def uerd(coefficients: np.ndarray, qt: np.ndarray) -> np.ndarray:
    """UERD cost of a +-1 change of each coefficient ``(bv, bh, 8, 8)`` -> float64 of the
    same shape, > 0; ``inf`` in blocks whose neighbourhood has no AC energy at all. The DC
    mode's weight is ``(q[0, 1] + q[1, 0]) / 2`` (as in conseal)."""
    qt = np.asarray(qt, dtype=np.float64)
    energy = np.abs(coefficients * qt).reshape(*coefficients.shape[:2], 64)[..., 1:].sum(-1)
    padded = np.pad(energy, 1, mode="symmetric")
    bv, bh = energy.shape
    around = sum(padded[1 + dy : 1 + dy + bv, 1 + dx : 1 + dx + bh]
                 for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    block = energy + 0.25 * around
    mode = qt.copy()
    mode[0, 0] = 0.5 * (qt[0, 1] + qt[1, 0])
    with np.errstate(divide="ignore"):
        rho = np.where(block[..., None, None] > 0,
                       mode / np.maximum(block, 1e-300)[..., None, None], np.inf)
    return rho


@lru_cache(maxsize=4)
def _profiles(dtype_name: str) -> tuple[object, object]:
    """The separable wavelet footprint of a unit change of a mode: the footprint of mode
    (u, v) in sub-band k is ``q_uv * outer(V[k, u], H[k, v])`` (23 x 23), with ``V[k, u]``
    = |full correlation of the DCT basis row ``D[u]`` with sub-band k's vertical filter|
    and ``H`` likewise horizontally. Returns torch ``(V, H)``, each (3, 8, 23)."""
    import torch

    d = np.pad(dct_matrix(), ((0, 0), (15, 15)))  # (8, 38): each basis row, zero-padded
    windows = np.lib.stride_tricks.sliding_window_view(d, 16, axis=1)  # (8, 23, 16)
    vertical = (_DB8_LOW, _DB8_HIGH, _DB8_HIGH)  # LH, HL, HH: filter along the rows
    horizontal = (_DB8_HIGH, _DB8_LOW, _DB8_HIGH)  # ... and along the columns
    profile = [np.abs(np.stack([windows @ f for f in fs])) for fs in (vertical, horizontal)]
    dtype = getattr(torch, dtype_name)
    return tuple(torch.from_numpy(p).to(dtype).contiguous() for p in profile)


def juniward(coefficients: np.ndarray, qt: np.ndarray, spatial: np.ndarray | None = None,
             sigma: float = SIGMA, original: bool = False,
             dtype: str = "float32") -> np.ndarray:
    """J-UNIWARD cost of a +-1 change of each coefficient ``(bv, bh, 8, 8)`` -> float64 of
    the same shape, > 0 and finite.

    ``spatial``: the decompressed component (8 bv, 8 bh), default :func:`decompress` (any
    constant offset is irrelevant: the wavelet filters are high-pass). ``original``: the
    reference Matlab code's window alignment (see the module docstring). ``dtype``:
    ``"float32"`` (fast) or ``"float64"`` (for comparisons).
    """
    import torch
    import torch.nn.functional as F

    qt = np.ascontiguousarray(qt, dtype=np.float64)
    bv, bh = coefficients.shape[:2]
    if spatial is None:
        spatial = decompress(coefficients, qt)
    if spatial.shape != (8 * bv, 8 * bh):
        raise ValueError(f"spatial must be {(8 * bv, 8 * bh)}, got {spatial.shape}")
    tdtype = getattr(torch, dtype)
    padded = torch.from_numpy(np.pad(np.asarray(spatial, np.float64), 16, mode="symmetric"))
    low, high = torch.from_numpy(_DB8_LOW).to(tdtype), torch.from_numpy(_DB8_HIGH).to(tdtype)
    image = (padded - 128.0).to(tdtype)[None, None]
    with torch.no_grad():
        rows = F.conv2d(image, torch.stack([low, high])[:, None, :, None])  # (1, 2, H+17, .)
        bands = torch.cat([F.conv2d(rows[:, :1], high[None, None, None]),  # LH
                           F.conv2d(rows[:, 1:], torch.stack([low, high])[:, None, None])],
                          dim=1)  # HL, HH: (1, 3, H + 17, W + 17)
        start = 2 if original else 1  # scipy "same" output i = valid output i - 7
        bands = bands[:, :, start : start + 8 * bv + 15, start : start + 8 * bh + 15]
        reciprocal = 1.0 / (bands.abs() + sigma)
        vertical, horizontal = _profiles(dtype)
        # cost[a, b, u, v] = q_uv sum_k sum_{i,j < 23} V[k,u,i] H[k,v,j] R_k[8a + i, 8b + j]
        rows = F.conv2d(reciprocal, horizontal.reshape(24, 1, 1, 23), stride=(1, 8),
                        groups=3)  # (1, 3 * 8 [k, v], H + 15, bh)
        weight = vertical[:, None].expand(3, 8, 8, 23).reshape(192, 1, 23, 1)
        rho = F.conv2d(rows, weight, stride=(8, 1), groups=24)  # (1, 192 [k, v, u], bv, bh)
        rho = rho.reshape(3, 8, 8, bv, bh).sum(0).permute(2, 3, 1, 0)  # (bv, bh, u, v)
    return rho.double().numpy() * qt


def ternary(rho: np.ndarray, coefficients: np.ndarray,
            wet: float = WET) -> tuple[np.ndarray, np.ndarray]:
    """(cost of +1, cost of -1) per coefficient, as conseal's ``compute_cost_adjusted``:
    ``inf`` / NaN / above ``wet`` become ``wet``, and so does +1 at ``c >= 1023`` and -1
    at ``c <= -1023`` (an AC coefficient must stay within +-1023)."""
    rho = np.where(np.isfinite(rho) & (rho <= wet), rho, wet)
    return (np.where(coefficients >= 1023, wet, rho), np.where(coefficients <= -1023, wet, rho))


def cover_costs(cover: JpegCover, method: str = DEFAULT) -> np.ndarray:
    """The cost of a +-1 change of every coefficient of ``cover``, flat in
    :meth:`~stegnet.jpegio.JpegCover.coefficients` order: (n,) float64 in ``(0, WET]``,
    DC terms and ``inf`` costs set to :data:`WET`. ``method``: one of :data:`COSTS`
    (per component, each with its own table and decompressed plane)."""
    if method not in COSTS:
        raise ValueError(f"unknown cost {method!r} (one of {', '.join(COSTS)})")
    parts = []
    for coefficients, qt in zip(cover.components, cover.quant_tables, strict=True):
        rho = (juniward if method == "juniward" else uerd)(coefficients, qt)
        rho = np.where(np.isfinite(rho) & (rho <= WET), rho, WET)
        rho[..., 0, 0] = WET
        parts.append(rho.reshape(-1))
    return np.concatenate(parts)

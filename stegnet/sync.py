"""Geometric synchronisation of a periodic mark: find the period, angle, mirror and offset
of a square tile repeated over a photo that may since have been cropped, rotated, flipped
and resized.

The mark (see :mod:`stegnet.models.robust_tiled`) repeats a ``tile x tile`` pattern on a
*working grid*; it contains a public ±1 *template* of ``chip x chip`` cells. Reading a
photo::

    luma (h, w) --whiten--> x --flattened autocorrelation--> lattice candidates (period, angle)
    for each candidate: resample onto the working grid, fold into one tile (mean of every
        copy), cross-correlate with the template under the 8 symmetries of the square
    -> the best (period, angle, symmetry, offset), the offset to a fraction of a pixel

*Whitening* divides a high-pass of the luminance by its local RMS, so textured and flat
areas weigh alike. The autocorrelation is taken of the *flattened* power spectrum (each
frequency's power divided by the mean power around it): a periodic mark is a lattice of
spectral lines, the photo a smooth spectrum, so the lattice stands out. All images here are
float tensors in luminance units (0-255) on the CPU or the model's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

HIGHPASS_SIGMA = 6.0  # pixels of the grid being read
ACTIVITY_SIGMA = 8.0
ACTIVITY_FLOOR = 1.0  # luminance levels: flat areas are not divided by ~0
LATTICE_POINTS = tuple((i, j) for i in range(0, 4) for j in range(-3, 4) if i > 0 or j > 0)


@dataclass(frozen=True)
class Geometry:
    """Where the tile lies in an image being read: ``period`` (image pixels per tile),
    ``angle`` (radians, the tile's rotation), ``symmetry`` (0-7, see :func:`dihedral`),
    ``offset`` ((y, x) working-grid pixels of the tile origin in the folded tile, may be
    fractional) and ``score`` (template peak in standard deviations)."""

    period: float
    angle: float
    symmetry: int
    offset: tuple[float, float]
    score: float


def gaussian_blur(image: Tensor, sigma: float) -> Tensor:
    """(h, w) -> (h, w), separable Gaussian, edges replicated."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-t * t / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    x = F.pad(image[None, None], (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(x, kernel.view(1, 1, -1, 1))[0, 0]


def box_mean(image: Tensor, size: int) -> Tensor:
    """(h, w) -> (h, w), mean over a centred ``size x size`` box (zeros outside)."""
    kernel = torch.ones(size, dtype=image.dtype, device=image.device) / size
    x = F.pad(image[None, None], (size // 2,) * 4)
    x = F.conv2d(x, kernel.view(1, 1, 1, -1))
    return F.conv2d(x, kernel.view(1, 1, -1, 1))[0, 0]


def highpass(luma: Tensor) -> Tensor:
    """``luma`` minus its Gaussian blur (sigma :data:`HIGHPASS_SIGMA`)."""
    return luma - gaussian_blur(luma, HIGHPASS_SIGMA)


def whiten(luma: Tensor) -> Tensor:
    """High-pass divided by its local RMS (floor :data:`ACTIVITY_FLOOR`); ~unit variance."""
    detail = highpass(luma)
    activity = torch.sqrt(gaussian_blur(detail * detail, ACTIVITY_SIGMA) + ACTIVITY_FLOOR**2)
    return detail / activity


def flattened_autocorrelation(x: Tensor) -> Tensor:
    """(h, w) -> (2h, 2w) autocorrelation of the Hann-windowed ``x`` with its power
    spectrum flattened (divided by the 9x9 local mean power); lag 0 at (h, w), value 1."""
    h, w = x.shape
    window = torch.outer(torch.hann_window(h, periodic=False, device=x.device),
                         torch.hann_window(w, periodic=False, device=x.device))
    power = torch.fft.fft2((x - x.mean()) * window, s=(2 * h, 2 * w)).abs() ** 2
    local = F.avg_pool2d(F.pad(power[None, None], (4, 4, 4, 4), mode="circular"), 9, 1)[0, 0]
    flat = power / (local + 1e-9 * float(local.mean()) + 1e-30)
    acf = torch.fft.fftshift(torch.fft.ifft2(flat).real)
    return acf / acf[h, w]


def lattice_scores(acf: Tensor, periods: Tensor, angles: Tensor, reach: float = 0.8
                   ) -> Tensor:
    """Mean autocorrelation at the points ``i*a + j*b`` of the square lattice with side
    ``period`` turned by ``angle`` (|i|, |j| <= 3, within ``reach`` of the lags available),
    for every pair of ``periods`` (P,) x ``angles`` (A,) -> (P, A)."""
    cy, cx = acf.shape[0] // 2, acf.shape[1] // 2
    period, angle = torch.meshgrid(periods, angles, indexing="ij")
    cos, sin = torch.cos(angle), torch.sin(angle)
    total = torch.zeros_like(period)
    count = torch.zeros_like(period)
    height, width = acf.shape
    for i, j in LATTICE_POINTS:
        dx = period * (i * cos - j * sin)
        dy = period * (i * sin + j * cos)
        inside = ((dx.abs() < reach * cx) & (dy.abs() < reach * cy)).to(acf.dtype)
        grid = torch.stack([(cx + dx) / (width - 1) * 2 - 1, (cy + dy) / (height - 1) * 2 - 1],
                           -1)[None]
        value = F.grid_sample(acf[None, None], grid, mode="bilinear", align_corners=True)[0, 0]
        total += value * inside
        count += inside
    return total / count.clamp(min=1) * (count >= 2)


def lattice_candidates(luma: Tensor, periods: tuple[float, float], top: int = 3,
                       max_angle: float = 5.0, white: Tensor | None = None
                       ) -> list[tuple[float, float]]:
    """The ``top`` distinct (period, angle) local maxima of :func:`lattice_scores` of the
    whitened ``luma``, periods in ``periods`` (min, max) pixels, angles within
    ``max_angle`` degrees; each refined on a finer grid. Best first. ``white``: the
    whitened ``luma`` if already computed."""
    white = whiten(luma) if white is None else white
    acf = gaussian_blur(flattened_autocorrelation(white), 1.5)
    periods_t = torch.exp(torch.arange(math.log(periods[0]), math.log(periods[1]), 0.004,
                                       device=luma.device))
    angles_t = torch.deg2rad(torch.arange(-max_angle, max_angle + 1e-6, 0.2, device=luma.device))
    scores = lattice_scores(acf, periods_t, angles_t)
    peaks = torch.nonzero(scores >= F.max_pool2d(scores[None, None], 5, 1, 2)[0, 0])
    order = torch.argsort(scores[peaks[:, 0], peaks[:, 1]], descending=True)[:top]
    found = []
    for index in order:
        period, angle = float(periods_t[peaks[index, 0]]), float(angles_t[peaks[index, 1]])
        fine_p = period * torch.exp(torch.arange(-0.006, 0.0061, 0.001, device=luma.device))
        fine_a = angle + torch.deg2rad(torch.arange(-0.2, 0.201, 0.04, device=luma.device))
        fine = lattice_scores(acf, fine_p, fine_a)
        best = int(fine.argmax())
        found.append((float(fine_p[best // len(fine_a)]), float(fine_a[best % len(fine_a)])))
    return found


def interior(valid: Tensor, margin: int) -> Tensor:
    """1 where the whole ``(2 margin + 1)`` box around a pixel is valid."""
    return (box_mean(valid, 2 * margin + 1) >= 0.999).to(valid.dtype)


def fold(values: Tensor, weight: Tensor, tile: int) -> Tensor:
    """Weighted mean of ``values`` (h, w) over every copy of a ``tile``-periodic
    layout -> (tile, tile); 0 where no copy had weight."""
    h, w = values.shape
    rows = torch.arange(h, device=values.device)[:, None] % tile
    cols = torch.arange(w, device=values.device)[None, :] % tile
    index = (rows * tile + cols).reshape(-1)
    total = torch.zeros(tile * tile, dtype=values.dtype, device=values.device)
    count = torch.zeros_like(total)
    total.index_add_(0, index, (values * weight).reshape(-1))
    count.index_add_(0, index, weight.reshape(-1))
    return (total / count.clamp(min=1e-6)).view(tile, tile)


def dihedral(square: Tensor, symmetry: int) -> Tensor:
    """One of the 8 symmetries of the square on the last two axes: ``symmetry`` 0-3 turn
    by that many quarter turns, 4-7 transpose first."""
    if symmetry >= 4:
        square = square.transpose(-2, -1)
    return torch.rot90(square, symmetry % 4, (-2, -1))


def parabolic_peak(minus: float, centre: float, plus: float, limit: float = 0.5) -> float:
    """Where the parabola through three equally spaced samples peaks, in sample spacings
    from the centre one (clipped to +-``limit``; 0 if it has no maximum)."""
    denominator = minus - 2 * centre + plus
    if denominator >= 0:
        return 0.0
    return max(-limit, min(limit, 0.5 * (minus - plus) / denominator))


def correlation_z(square: Tensor, template_spectrum: Tensor) -> Tensor:
    """Cyclic cross-correlation of ``square`` (tile, tile) with the template whose
    conjugated ``rfft2`` is ``template_spectrum``, in standard deviations -> (tile, tile)."""
    tile = square.shape[0]
    corr = torch.fft.irfft2(torch.fft.rfft2(square) * template_spectrum, s=(tile, tile))
    return (corr - corr.mean()) / corr.std().clamp(min=1e-12)


def subpixel_peak(z: Tensor, y: int, x: int) -> tuple[float, float]:
    """(y, x) refined by a parabola along each axis through the cyclic neighbours."""
    tile_y, tile_x = z.shape
    centre = float(z[y, x])
    dy = parabolic_peak(float(z[(y - 1) % tile_y, x]), centre, float(z[(y + 1) % tile_y, x]))
    dx = parabolic_peak(float(z[y, (x - 1) % tile_x]), centre, float(z[y, (x + 1) % tile_x]))
    return y + dy, x + dx


def match_template(folded: Tensor, template: Tensor, symmetries: tuple[int, ...] = tuple(range(8))
                   ) -> tuple[float, int, tuple[float, float]]:
    """Cyclic cross-correlation of the folded whitened tile with the ``template`` (tile,
    tile) under each of ``symmetries`` (default: all 8) -> (peak in standard deviations,
    symmetry, (y, x) offset of the template in the symmetry-applied tile, to a fraction of
    a pixel)."""
    tile = template.shape[0]
    spectrum = torch.fft.rfft2(template).conj()
    best = (-math.inf, 0, (0.0, 0.0))
    for symmetry in symmetries:
        z = correlation_z(dihedral(folded, symmetry), spectrum)
        peak = int(z.argmax())
        score = float(z.reshape(-1)[peak])
        if score > best[0]:
            best = (score, symmetry, subpixel_peak(z, *divmod(peak, tile)))
    return best

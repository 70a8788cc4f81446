"""The robust channel's tiled layout: a mark that repeats in square tiles, so that any part
of the photo that holds a whole tile still carries the payload (crops, other aspect
ratios, small rotations, mirroring), found again by :mod:`stegnet.sync`.

Every photo is seen on a *working grid* whose short side is :data:`WORK_SHORT` pixels
(aspect kept; sides multiples of 8). The grid is cut into ``TILE x TILE`` tiles; each tile
holds the same two things:

* a *template*: a public ±1 pattern of ``CHIP x CHIP`` cells, slightly smoothed, added
  at a strength shaped by the local texture and brightness (the synchroniser finds it);
* *slots*: the ``K`` low-frequency DCT coefficients of each 8x8 block (as the whole-image
  layout, :mod:`stegnet.models.robust`), ``(TILE/8)^2 * K`` slots per tile; slot ``s``
  carries one bit by dithered quantisation with step ``steps[k] * STEP_SCALE``.

A *channel bit* is :data:`REPEAT` slots of the tile (a public permutation), and every copy
of the tile repeats them: a reader sums the soft values ``cos(2 pi (c - d) / step)`` of
every copy it sees. Shapes: luminance (h, w) float in [0, 255]; coefficients
(blocks_y, blocks_x, K).
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from stegnet import sync
from stegnet.models.robust import BLOCK, dct_matrix, luma, public_uniform

WORK_SHORT = 512  # working grid short side (pixels)
TILE = 256  # tile side on the working grid (pixels; a multiple of BLOCK and CHIP)
CHIP = 4  # template cell side (pixels)
REPEAT = 2  # slots per channel bit within one tile
STEP_SCALE = 0.8  # quantiser step relative to the whole-image layout's fitted steps
TEMPLATE_STRENGTH = 1.2  # template amplitude (luminance levels) before texture shaping
CLIP_MARGIN = 1.0  # largest slot change, in steps
ITERATIONS = 6
MIN_SCORE = 8.0  # template peak (standard deviations) below which no tile is found
_TEMPLATE_SEED, _DITHER_SEED, _LAYOUT_SEED = 0x7E3A, 0x71D17E, 0x71A0


def resize(image: Tensor, height: int, width: int) -> Tensor:
    """(h, w) -> (height, width): antialiased bilinear when shrinking, bicubic otherwise."""
    if (height, width) == tuple(image.shape):
        return image
    if height < image.shape[0]:
        return F.interpolate(image[None, None], size=(height, width), mode="bilinear",
                             align_corners=False, antialias=True)[0, 0]
    return F.interpolate(image[None, None], size=(height, width), mode="bicubic",
                         align_corners=False)[0, 0]


def working_size(height: int, width: int) -> tuple[int, int]:
    """The working grid (rows, columns) of a photo: short side WORK_SHORT, aspect kept (a
    photo being read is first resampled to its own working grid)."""
    factor = WORK_SHORT / min(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


class TiledMark:
    """The tiled layout's geometry and coding (see the module docstring); ``steps`` (K,)
    are the whole-image model's fitted quantiser steps, ``positions`` its (v, u) DCT
    frequencies."""

    def __init__(self, steps: Tensor, positions: tuple[tuple[int, int], ...],
                 device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.k = len(positions)
        self.blocks = TILE // BLOCK
        self.n_slots = self.blocks * self.blocks * self.k
        self.dct = dct_matrix().to(self.device)
        self.index = torch.tensor([v * BLOCK + u for v, u in positions], device=self.device)
        self.steps = (steps.float().to(self.device) * STEP_SCALE).repeat(self.blocks**2)
        unit = torch.from_numpy(public_uniform(self.n_slots, _DITHER_SEED)).float()
        self.dither = unit.to(self.device) * self.steps

    @property
    def channel_bits(self) -> int:
        return self.n_slots // REPEAT

    @cached_property
    def layout(self) -> np.ndarray:
        """(channel_bits, REPEAT) tile slots of each channel bit (a public permutation)."""
        order = np.argsort(public_uniform(self.n_slots, _LAYOUT_SEED), kind="stable")
        return order[: self.channel_bits * REPEAT].reshape(self.channel_bits, REPEAT)

    @cached_property
    def template_signs(self) -> Tensor:
        """(TILE/CHIP, TILE/CHIP) public ±1 cells."""
        cells = TILE // CHIP
        raw = public_uniform(cells * cells, _TEMPLATE_SEED).reshape(cells, cells)
        return torch.from_numpy(np.where(raw < 0.5, -1.0, 1.0)).float().to(self.device)

    @cached_property
    def template(self) -> Tensor:
        """(TILE, TILE) template shape: the cells, smoothed (what a reader correlates)."""
        cells = self.template_signs.repeat_interleave(CHIP, 0).repeat_interleave(CHIP, 1)
        return sync.gaussian_blur(cells, 1.0)

    def template_residual(self, work: Tensor) -> Tensor:
        """Template added to the working-grid luminance ``work`` (h, w): tiled, scaled by
        the local texture (stronger in busy areas, weaker in flat and dark ones)."""
        height, width = work.shape
        reps = (math.ceil(height / TILE), math.ceil(width / TILE))
        pattern = self.template.repeat(*reps)[:height, :width]
        return TEMPLATE_STRENGTH * self.shape_map(work) * pattern

    @staticmethod
    def shape_map(work: Tensor) -> Tensor:
        """Strength factor (h, w) in [0.25, 2.5]: local RMS of the detail, darker is less."""
        detail = sync.highpass(work)
        activity = torch.sqrt(sync.gaussian_blur(detail * detail, 8.0))
        texture = (0.5 + activity / 4).clamp(0.5, 2.5)
        brightness = (0.5 + sync.gaussian_blur(work, 8.0) / 128).clamp(0.5, 1.0)
        return texture * brightness

    # ---------------------------------------------------------------- slots
    def analyse(self, grid: Tensor) -> Tensor:
        """Aligned working-grid luminance (8 by, 8 bx) -> coefficients (by, bx, K)."""
        by, bx = grid.shape[0] // BLOCK, grid.shape[1] // BLOCK
        blocks = grid[: by * BLOCK, : bx * BLOCK].reshape(by, BLOCK, bx, BLOCK).permute(0, 2, 1, 3)
        coeffs = self.dct @ blocks @ self.dct.T
        return coeffs.reshape(by, bx, BLOCK * BLOCK)[..., self.index]

    def synthesise(self, change: Tensor) -> Tensor:
        """Coefficient change (by, bx, K) -> working-grid residual (8 by, 8 bx)."""
        by, bx, _ = change.shape
        full = torch.zeros(by, bx, BLOCK * BLOCK, dtype=change.dtype, device=change.device)
        full[..., self.index] = change
        blocks = self.dct.T @ full.reshape(by, bx, BLOCK, BLOCK) @ self.dct
        return blocks.permute(0, 2, 1, 3).reshape(by * BLOCK, bx * BLOCK)

    def slot_ids(self, by: int, bx: int) -> Tensor:
        """(by, bx, K) tile slot of every coefficient of a grid whose origin is a tile's."""
        rows = torch.arange(by, device=self.device)[:, None] % self.blocks
        cols = torch.arange(bx, device=self.device)[None, :] % self.blocks
        block = (rows * self.blocks + cols)[..., None] * self.k
        return block + torch.arange(self.k, device=self.device)

    def soft(self, coeffs: Tensor, ids: Tensor) -> Tensor:
        """Soft bits in [-1, 1] (+1: bit 0) of coefficients at tile slots ``ids``."""
        return torch.cos(2 * math.pi * (coeffs - self.dither[ids]) / self.steps[ids])

    def channel_soft(self, soft: Tensor, ids: Tensor, weight: Tensor | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Sum the soft values of every copy -> (bits (channel_bits,), reliability)."""
        values = soft if weight is None else soft * weight
        sums = torch.zeros(self.n_slots, dtype=torch.float64, device=self.device)
        sums.index_add_(0, ids.reshape(-1), values.reshape(-1).double())
        per_bit = sums.cpu().numpy()[self.layout].sum(axis=1)
        return (per_bit < 0).astype(np.uint8), np.abs(per_bit)

    def embed(self, rgb: Tensor, bit_of_slot: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Mark ``rgb`` (H, W, 3) float 0-255 -> (stego uint8 (H, W, 3), its aligned
        working-grid coefficients, their slot ids). ``bit_of_slot`` (n_slots,): 0/1 for
        the slots to set, -1 for slots left as they are."""
        height, width = rgb.shape[:2]
        rows, cols = working_size(height, width)
        ids = self.slot_ids(rows // BLOCK, cols // BLOCK)
        wanted = bit_of_slot[ids]
        used = wanted >= 0
        work = resize(luma(rgb), rows, cols)
        template = self.template_residual(work)
        start = self.analyse(work + template)
        step, dither = self.steps[ids], self.dither[ids]
        offset = dither + wanted.clamp(min=0).to(rgb.dtype) * step / 2
        target = torch.round((start - offset) / step) * step + offset
        limit = CLIP_MARGIN * step
        change = torch.where(used, target - start, torch.zeros_like(start))
        pad = (0, cols - ids.shape[1] * BLOCK, 0, rows - ids.shape[0] * BLOCK)
        for _ in range(ITERATIONS):
            residual = resize(template + F.pad(self.synthesise(change), pad), height, width)
            stego = (rgb + residual[..., None]).round().clamp(0, 255)
            coeffs = self.analyse(resize(luma(stego), rows, cols))
            error = torch.where(used, target - coeffs, torch.zeros_like(coeffs))
            if float(error.abs().max()) < 0.05 * float(limit.min()):
                break
            change = torch.maximum(torch.minimum(change + error, limit), -limit)
        return stego.to(torch.uint8), coeffs, ids

    # ---------------------------------------------------------------- reading
    def read(self, rgb: Tensor) -> tuple[np.ndarray, np.ndarray, sync.Geometry] | None:
        """Find the tiles in a photo (H, W, 3) float 0-255 and read them -> (channel bits,
        reliabilities, geometry), or None if no tile is found."""
        height, width = rgb.shape[:2]
        seen = resize(luma(rgb), *working_size(height, width))
        short = min(seen.shape)
        white = sync.whiten(seen)
        candidates = sync.lattice_candidates(seen, (0.35 * short, 1.0 * short), top=5, white=white)
        trials = [(p * half, a) for p, a in candidates for half in (1.0, 0.5)]
        best = max(((self._score(white, p, a), p, a) for p, a in trials), key=lambda t: t[0])
        score, period, angle = best
        (score, _, _), period, angle = self._refine(white, score, period, angle, 0.002, 0.0015)
        if score < MIN_SCORE:
            return None
        # read at the scale the tiles were written at (no aliasing when resampling)
        full = luma(rgb)
        ratio = TILE / period * min(seen.shape) / min(height, width)
        seen = resize(full, max(1, round(height * ratio)), max(1, round(width * ratio)))
        period *= min(seen.shape) / min(white.shape)
        white = sync.whiten(seen)
        (_, symmetry, _), period, angle = self._refine(
            white, self._score(white, period, angle), period, angle, 0.001, 0.0007)
        folded = self._folded(white, period, angle, symmetry, (0.0, 0.0))[0]
        score, _, offset = sync.match_template(folded, self.template, (0,))
        warp = self._local_warp(white, period, angle, symmetry, offset)
        grid, valid = _aligned(seen, period, angle, symmetry, offset, warp)
        by, bx = grid.shape[0] // BLOCK, grid.shape[1] // BLOCK
        coeffs = self.analyse(grid)
        whole = F.avg_pool2d(sync.interior(valid, 2)[None, None], BLOCK)[0, 0][:by, :bx] > 0.999
        ids = self.slot_ids(by, bx)
        bits, reliability = self.channel_soft(self.soft(coeffs, ids), ids,
                                              whole[..., None].to(coeffs.dtype))
        geometry = sync.Geometry(period, angle, symmetry, offset, score)
        return bits, reliability, geometry

    def _refine(self, white: Tensor, score: float, period: float, angle: float,
                scale_step: float, angle_step: float
                ) -> tuple[tuple[float, int, tuple[float, float]], float, float]:
        """Refine the period, then the angle: the peak of a parabola through the
        template scores one step either side -> (:meth:`_match` there, period, angle)."""
        minus, plus = (self._score(white, period * (1 + d), angle)
                       for d in (-scale_step, scale_step))
        period *= 1 + scale_step * sync.parabolic_peak(minus, score, plus, 1.0)
        score = self._score(white, period, angle)
        minus, plus = (self._score(white, period, angle + d) for d in (-angle_step, angle_step))
        angle += angle_step * sync.parabolic_peak(minus, score, plus, 1.0)
        return self._match(white, period, angle), period, angle

    def _local_warp(self, white: Tensor, period: float, angle: float, symmetry: int,
                    offset: tuple[float, float]) -> Tensor | None:
        """Affine correction (2, 3) of the aligned grid from the template's offset in
        each half-overlapping tile window (least squares, weighted by the peak), or None
        when fewer than 4 windows are usable."""
        grid, valid = _aligned(white, period, angle, symmetry, offset)
        spectrum = torch.fft.rfft2(self.template).conj()
        rows, weights, shifts = [], [], []  # window centres, peak heights, template shifts
        for top in range(0, grid.shape[0] - TILE + 1, TILE // 2):
            for left in range(0, grid.shape[1] - TILE + 1, TILE // 2):
                if float(valid[top:top + TILE, left:left + TILE].mean()) < 0.98:
                    continue
                z = sync.correlation_z(grid[top:top + TILE, left:left + TILE], spectrum)
                # the template origin sits at (top, left) mod TILE: look near it
                y0, x0 = (-top) % TILE, (-left) % TILE
                near = torch.roll(z, (-y0 + 2, -x0 + 2), (0, 1))[:5, :5]
                peak = int(near.argmax())
                py, px = divmod(peak, 5)
                value = float(near[py, px])
                if value < 4 or not (0 < py < 4 and 0 < px < 4):
                    continue
                dy, dx = (d - 2 for d in sync.subpixel_peak(near, py, px))
                rows.append((top + TILE / 2 - grid.shape[0] / 2,
                             left + TILE / 2 - grid.shape[1] / 2))
                shifts.append((dy, dx))
                weights.append(value)
        if len(rows) < 4:
            return None
        design = torch.tensor([[v, u, 1.0] for v, u in rows], dtype=torch.float64)
        w = torch.tensor(weights, dtype=torch.float64)[:, None]
        target = torch.tensor(shifts, dtype=torch.float64)
        solution = torch.linalg.lstsq(design * w, target * w).solution  # (3, 2)
        return solution.T.to(white.dtype)

    def _folded(self, white: Tensor, period: float, angle: float, symmetry: int,
                offset: tuple[float, float]) -> tuple[Tensor, Tensor]:
        """Fold the whitened analysis image ``white`` resampled to upright tiles."""
        grid, valid = _aligned(white, period, angle, symmetry, offset, margin=1.0)
        return sync.fold(grid, valid, TILE), valid

    def _match(self, white: Tensor, period: float, angle: float
                ) -> tuple[float, int, tuple[float, float]]:
        """:func:`sync.match_template` of the tiles folded at ``period`` and ``angle``."""
        return sync.match_template(self._folded(white, period, angle, 0, (0.0, 0.0))[0],
                                   self.template)

    def _score(self, white: Tensor, period: float, angle: float) -> float:
        return self._match(white, period, angle)[0]


def _symmetry_matrix(symmetry: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The integer matrix M with ``dihedral(x, s)[p] == x[M p]`` (about the centre)."""
    n = 5
    rows, cols = torch.meshgrid(torch.arange(n) - n // 2, torch.arange(n) - n // 2,
                                indexing="ij")
    moved_r = sync.dihedral(rows, symmetry)
    moved_c = sync.dihedral(cols, symmetry)
    centre = n // 2
    return ((int(moved_r[centre + 1, centre]), int(moved_r[centre, centre + 1])),
            (int(moved_c[centre + 1, centre]), int(moved_c[centre, centre + 1])))


def _aligned(seen: Tensor, period: float, angle: float, symmetry: int,
             offset: tuple[float, float], warp: Tensor | None = None, margin: float = 0.0
             ) -> tuple[Tensor, Tensor]:
    """Resample ``seen`` so that tiles are TILE pixels upright, mirrored/turned by
    ``symmetry`` and shifted by ``offset`` (the tile origin moves to pixel (0, 0));
    ``warp`` (2, 3): an affine correction of the output's centred (row, column). ->
    (image, valid): valid where the source point lies ``margin`` input pixels inside."""
    height, width = seen.shape
    scale = period / TILE
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    # a square that holds the turned input (a square keeps every symmetry's frame alike)
    out_h = out_w = int(math.ceil((cos + sin) * max(height, width) / scale)) + 64
    (m00, m01), (m10, m11) = _symmetry_matrix(symmetry)
    v, u = torch.meshgrid(torch.arange(out_h, dtype=seen.dtype, device=seen.device),
                          torch.arange(out_w, dtype=seen.dtype, device=seen.device),
                          indexing="ij")
    v = v - out_h / 2
    u = u - out_w / 2
    if warp is not None:
        v, u = (v + warp[0, 0] * v + warp[0, 1] * u + warp[0, 2],
                u + warp[1, 0] * v + warp[1, 1] * u + warp[1, 2])
    v = v + offset[0]
    u = u + offset[1]
    qv, qu = m00 * v + m01 * u, m10 * v + m11 * u
    cos, sin = math.cos(angle), math.sin(angle)
    x = scale * (cos * qu - sin * qv) + (width - 1) / 2
    y = scale * (sin * qu + cos * qv) + (height - 1) / 2
    grid = torch.stack([x / max(width - 1, 1) * 2 - 1, y / max(height - 1, 1) * 2 - 1], -1)
    image = F.grid_sample(seen[None, None], grid[None], mode="bicubic",
                          align_corners=True)[0, 0]
    valid = ((x >= margin) & (x <= width - 1 - margin) & (y >= margin)
             & (y <= height - 1 - margin)).to(seen.dtype)
    return image, valid

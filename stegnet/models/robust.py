"""Robust payload channel: dithered quantisation (QIM) of low-frequency luminance DCT
coefficients on a fixed internal grid, with quantiser steps fitted to a channel.

Every photo, whatever its size, is seen through the same ``size x size`` grid::

    rgb (H, W, 3) in [0, 255] --luma--> Y (H, W) --resize--> Y' (size, size)
    Y' --8x8 orthonormal DCT--> C (size/8, size/8, 8, 8)

A *slot* is one coefficient ``C[by, bx, v, u]`` at one of the ``K`` chosen frequencies
``positions[k] = (v, u)`` (low-mid band, DC excluded): ``n_slots = (size/8)^2 * K``.
A slot carries one bit by dithered quantisation with the fitted step
``steps[k]`` (``Delta``) and a public dither ``d`` in ``[0, Delta)``::

    bit b  <->  C in  Delta * (Z + b / 2) + d        (read: soft = cos(2 pi (C - d) / Delta))

``soft`` is +1 for a 0 bit and -1 for a 1 bit when the slot sits on its lattice. The change
is spread over the full-size photo by upsampling the coefficient change as a luminance
residual added equally to R, G and B (no colour change), so any later resize of the whole
photo maps back onto the same grid. JPEG (which quantises 8x8 blocks of the *full-size*
photo) and noise move the coefficients by much less than ``Delta / 4`` on average.

The "weights" of this model are the steps: ``steps[k]`` is fitted on training photos to the
coefficient noise that the target channel (JPEG, resizes, noise) causes at frequency ``k``
(``stegnet_research.train.robust``). The payload framing and error correction live in
:mod:`stegnet.robust`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stegnet.models.registry import register_model

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as JPEG's YCbCr
BLOCK = 8
DEFAULT_POSITIONS = ((0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0))
_DITHER_SEED = 0x5EED_D17E


def dct_matrix(n: int = BLOCK) -> Tensor:
    """Orthonormal DCT-II matrix (n, n): ``coeffs = D @ block @ D.T``."""
    k = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(n, dtype=torch.float64)[None, :]
    mat = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    mat[0] /= math.sqrt(2.0)
    return mat.float()


def luma(rgb: Tensor) -> Tensor:
    """(H, W, 3) float in [0, 255] -> (H, W) BT.601 luminance."""
    return rgb @ torch.tensor(LUMA, dtype=rgb.dtype, device=rgb.device)


def public_uniform(n: int, seed: int) -> np.ndarray:
    """``n`` floats in [0, 1) from the raw PCG64 stream (stable across NumPy versions)."""
    raw = np.random.PCG64(seed).random_raw(n)
    return (raw >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class RobustConfig:
    """Channel geometry and coding (stored in the weight file's metadata).

    ``size``: internal grid side (pixels, a multiple of 8); ``positions``: (v, u) DCT
    frequencies used, row then column; ``repeat``: slots per channel bit (their soft
    values are summed); ``nsym``: Reed-Solomon parity bytes per 255-byte codeword.
    """

    size: int = 512
    positions: tuple[tuple[int, int], ...] = DEFAULT_POSITIONS
    repeat: int = 6
    nsym: int = 128
    iterations: int = 6  # embedding refinement passes (re-read after 8-bit rounding)
    clip_margin: float = 1.0  # largest coefficient change, in steps

    def to_dict(self) -> dict:
        out = asdict(self)
        out["positions"] = [list(p) for p in self.positions]
        return out


@register_model("robust-qim", RobustConfig, task="robust")
class RobustCodec(nn.Module):
    """Analysis (photo -> slot coefficients) and synthesis (coefficient change ->
    full-size luminance residual) of the robust channel; ``steps`` (K,) are the fitted
    quantiser steps in DCT units (pixel values, 0-255 scale)."""

    def __init__(self, config: RobustConfig | None = None) -> None:
        super().__init__()
        config = config or RobustConfig()
        positions = tuple(tuple(int(v) for v in p) for p in config.positions)
        if config.size % BLOCK or config.size < 8 * BLOCK:
            raise ValueError(f"size must be a multiple of {BLOCK} and >= 64, got {config.size}")
        if not positions or any(not (0 <= v < BLOCK and 0 <= u < BLOCK) for v, u in positions):
            raise ValueError(f"bad DCT positions {positions}")
        self.config = RobustConfig(**{**asdict(config), "positions": positions})
        self.register_buffer("steps", torch.full((len(positions),), 20.0))
        self.register_buffer("dct", dct_matrix())
        index = torch.tensor([v * BLOCK + u for v, u in positions])
        self.register_buffer("index", index, persistent=False)
        unit = torch.from_numpy(public_uniform(self.n_slots, _DITHER_SEED)).float()
        self.register_buffer("dither_unit", unit, persistent=False)

    @property
    def blocks_per_side(self) -> int:
        return self.config.size // BLOCK

    @property
    def n_slots(self) -> int:
        return self.blocks_per_side**2 * len(self.config.positions)

    def dither(self) -> Tensor:
        """Public dither (n_slots,) in DCT units, ``[0, steps[k])`` per slot."""
        return self.dither_unit * self.slot_steps()

    def slot_steps(self) -> Tensor:
        """The step of each slot (n_slots,); slot = block * K + k, blocks row-major."""
        return self.steps.repeat(self.blocks_per_side**2)

    def luma(self, rgb: Tensor) -> Tensor:
        """(H, W, 3) float in [0, 255] -> (H, W) luminance."""
        return luma(rgb)

    def to_grid(self, luma: Tensor) -> Tensor:
        """(H, W) -> (size, size), antialiased when shrinking."""
        size = self.config.size
        return F.interpolate(luma[None, None], size=(size, size), mode="bilinear",
                             align_corners=False, antialias=True)[0, 0]

    def from_grid(self, grid: Tensor, height: int, width: int) -> Tensor:
        """(size, size) residual -> (height, width), bicubic."""
        return F.interpolate(grid[None, None], size=(height, width), mode="bicubic",
                             align_corners=False)[0, 0]

    def _blocks(self, grid: Tensor) -> Tensor:
        n = self.blocks_per_side
        return grid.reshape(n, BLOCK, n, BLOCK).permute(0, 2, 1, 3)

    def analyse(self, rgb: Tensor) -> Tensor:
        """(H, W, 3) float in [0, 255] -> slot coefficients (n_slots,)."""
        coeffs = self.dct @ self._blocks(self.to_grid(self.luma(rgb))) @ self.dct.T
        return coeffs.reshape(-1, BLOCK * BLOCK)[:, self.index].reshape(-1)

    def synthesise(self, change: Tensor, height: int, width: int) -> Tensor:
        """Slot coefficient change (n_slots,) -> luminance residual (height, width)."""
        n, k = self.blocks_per_side, len(self.config.positions)
        full = torch.zeros(n * n, BLOCK * BLOCK, dtype=change.dtype, device=change.device)
        full[:, self.index] = change.reshape(n * n, k)
        blocks = self.dct.T @ full.reshape(n, n, BLOCK, BLOCK) @ self.dct
        grid = blocks.permute(0, 2, 1, 3).reshape(n * BLOCK, n * BLOCK)
        return self.from_grid(grid, height, width)

    def soft(self, coeffs: Tensor) -> Tensor:
        """Slot coefficients (n_slots,) -> soft bits in [-1, 1] (+1: bit 0, -1: bit 1)."""
        return torch.cos(2 * math.pi * (coeffs - self.dither()) / self.slot_steps())

    def targets(self, coeffs: Tensor, bits: Tensor, slots: Tensor) -> Tensor:
        """The nearest lattice point carrying ``bits`` (m,) 0/1 for ``coeffs`` at ``slots``."""
        step = self.slot_steps()[slots]
        offset = self.dither()[slots] + bits.to(coeffs.dtype) * step / 2
        return torch.round((coeffs[slots] - offset) / step) * step + offset

    def forward(self, rgb: Tensor) -> Tensor:  # pragma: no cover - nn.Module protocol
        return self.soft(self.analyse(rgb))

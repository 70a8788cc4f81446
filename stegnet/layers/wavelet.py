"""Orthonormal Haar discrete wavelet transform (one level), exactly invertible.

The transform maps an image tensor ``(B, C, H, W)`` with even ``H`` and ``W`` to
``(B, 4C, H/2, W/2)``. Output channels are grouped by band::

    [LL_0..LL_{C-1}, LH_0..LH_{C-1}, HL_0..HL_{C-1}, HH_0..HH_{C-1}]

For a 2x2 block ``[[a, b], [c, d]]`` the orthonormal Haar coefficients are::

    LL = (a + b + c + d) / 2      (local mean x 2: range [0, 2] for inputs in [0, 1])
    LH = (a + b - c - d) / 2      (horizontal edges)
    HL = (a - b + c - d) / 2      (vertical edges)
    HH = (a - b - c + d) / 2      (diagonal)

The matrix is orthogonal and symmetric, so the inverse uses the same formulas;
the transform preserves energy (sum of squares), hence its log-determinant is 0.
"""

from __future__ import annotations

import torch
from torch import Tensor


def haar_dwt(image: Tensor) -> Tensor:
    """Forward Haar DWT. ``image`` (B, C, H, W), H and W even -> (B, 4C, H/2, W/2)."""
    if image.shape[-1] % 2 or image.shape[-2] % 2:
        raise ValueError(f"haar_dwt needs even height and width, got {tuple(image.shape[-2:])}")
    a = image[..., 0::2, 0::2]
    b = image[..., 0::2, 1::2]
    c = image[..., 1::2, 0::2]
    d = image[..., 1::2, 1::2]
    ll = (a + b + c + d) * 0.5
    lh = (a + b - c - d) * 0.5
    hl = (a - b + c - d) * 0.5
    hh = (a - b - c + d) * 0.5
    return torch.cat([ll, lh, hl, hh], dim=1)


def haar_idwt(bands: Tensor) -> Tensor:
    """Inverse Haar DWT. ``bands`` (B, 4C, h, w) -> image (B, C, 2h, 2w)."""
    if bands.shape[1] % 4:
        raise ValueError(f"haar_idwt needs a multiple of 4 channels, got {bands.shape[1]}")
    ll, lh, hl, hh = torch.chunk(bands, 4, dim=1)
    a = (ll + lh + hl + hh) * 0.5
    b = (ll + lh - hl - hh) * 0.5
    c = (ll - lh + hl - hh) * 0.5
    d = (ll - lh - hl + hh) * 0.5
    batch, channels, height, width = ll.shape
    image = bands.new_empty(batch, channels, height * 2, width * 2)
    image[..., 0::2, 0::2] = a
    image[..., 0::2, 1::2] = b
    image[..., 1::2, 0::2] = c
    image[..., 1::2, 1::2] = d
    return image


def low_band(bands: Tensor) -> Tensor:
    """The LL band of a :func:`haar_dwt` output: (B, 4C, h, w) -> (B, C, h, w)."""
    return bands[:, : bands.shape[1] // 4]

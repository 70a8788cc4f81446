"""Colour conversions between sRGB and CIELAB, and the CIEDE2000 colour difference.

The conversions are written in torch so they are differentiable and can sit inside a
training loss. All constants follow the usual definitions:

* sRGB companding (IEC 61966-2-1): ``c / 12.92`` below ``0.04045``, otherwise
  ``((c + 0.055) / 1.055) ** 2.4``.
* Linear sRGB -> CIE XYZ with the D65 matrix of IEC 61966-2-1; the reference white is
  taken as the image of RGB ``(1, 1, 1)`` so that white maps exactly to ``L = 100``,
  ``a = b = 0``.
* CIE constants ``epsilon = 216 / 24389`` and ``kappa = 24389 / 27``.

Every branchy function evaluates the non-linear branch on a clamped argument before
``torch.where`` picks a branch, so gradients stay finite everywhere (no ``0 ** (1/3)`` or
``0 ** (1 / 2.4)`` derivatives, and no pow of negative numbers).

:func:`ciede2000` follows G. Sharma, W. Wu and E. N. Dalal, "The CIEDE2000 color-difference
formula: implementation notes, supplementary test data, and mathematical observations",
Color Research & Application 30(1), 2005.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["rgb_to_lab", "lab_to_rgb", "ciede2000", "delta_e00_rgb"]

# CIE constants (exact rationals).
_EPSILON = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0
# f(t) at t = epsilon: 6/29, the threshold used by the inverse.
_F_EPSILON = 6.0 / 29.0

# sRGB companding thresholds.
_SRGB_DECODE_THRESHOLD = 0.04045
_SRGB_ENCODE_THRESHOLD = 0.0031308

# Linear sRGB -> XYZ (D65), IEC 61966-2-1, rows are X, Y, Z.
_RGB_TO_XYZ = torch.tensor(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=torch.float64,
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)
# D65 reference white as the XYZ of RGB (1, 1, 1): (0.95047, 1.0000001, 1.08883).
_WHITE = _RGB_TO_XYZ.sum(dim=1)


def _check_image(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating point tensor, got {x.dtype}")
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (..., 3, H, W), got {tuple(x.shape)}")


def _mix(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 matrix over the channel dimension of a (..., 3, H, W) tensor."""
    m = matrix.to(device=x.device, dtype=x.dtype)
    return torch.einsum("ij,...jhw->...ihw", m, x)


def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """sRGB decoding (gamma expansion). Any real input; output has the same shape."""
    high = ((c.clamp(min=_SRGB_DECODE_THRESHOLD) + 0.055) / 1.055) ** 2.4
    return torch.where(c <= _SRGB_DECODE_THRESHOLD, c / 12.92, high)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """sRGB encoding (gamma compression). Any real input; output has the same shape."""
    high = 1.055 * c.clamp(min=_SRGB_ENCODE_THRESHOLD) ** (1.0 / 2.4) - 0.055
    return torch.where(c <= _SRGB_ENCODE_THRESHOLD, c * 12.92, high)


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    """CIE ``f``: cube root above epsilon, linear segment below (safe gradient at 0)."""
    cube_root = t.clamp(min=_EPSILON) ** (1.0 / 3.0)
    return torch.where(t > _EPSILON, cube_root, (_KAPPA * t + 16.0) / 116.0)


def _lab_f_inv(f: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_lab_f`."""
    return torch.where(f > _F_EPSILON, f**3, (116.0 * f - 16.0) / _KAPPA)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """Convert sRGB to CIELAB (D65).

    Args:
        rgb: tensor of shape ``(..., 3, H, W)``, floating point, gamma-encoded sRGB with
            values in ``[0, 1]`` (values outside are converted by the same formulas).

    Returns:
        Tensor of shape ``(..., 3, H, W)`` in the input dtype and device: channel 0 is
        ``L`` in ``[0, 100]``, channels 1 and 2 are ``a`` and ``b``, roughly in
        ``[-128, 127]`` for in-gamut colours. Differentiable with finite gradients for all
        inputs in ``[0, 1]``, including exact black and white.
    """
    _check_image(rgb, "rgb")
    xyz = _mix(_RGB_TO_XYZ, _srgb_to_linear(rgb))
    white = _WHITE.to(device=rgb.device, dtype=rgb.dtype).view(3, 1, 1)
    f = _lab_f(xyz / white)
    fx, fy, fz = f.unbind(dim=-3)
    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack((lightness, a, b), dim=-3)


def lab_to_rgb(lab: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """Convert CIELAB (D65) to sRGB; the inverse of :func:`rgb_to_lab`.

    Args:
        lab: tensor of shape ``(..., 3, H, W)``, floating point, with ``L`` in ``[0, 100]``
            and ``a``, ``b`` roughly in ``[-128, 127]``.
        clamp: clamp the result to ``[0, 1]`` (default). Out-of-gamut colours otherwise
            come back outside ``[0, 1]``.

    Returns:
        Gamma-encoded sRGB tensor of shape ``(..., 3, H, W)`` in the input dtype, in
        ``[0, 1]`` when ``clamp`` is true.
    """
    _check_image(lab, "lab")
    lightness, a, b = lab.unbind(dim=-3)
    fy = (lightness + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    white = _WHITE.to(device=lab.device, dtype=lab.dtype).view(3, 1, 1)
    xyz = _lab_f_inv(torch.stack((fx, fy, fz), dim=-3)) * white
    rgb = _linear_to_srgb(_mix(_XYZ_TO_RGB, xyz))
    return rgb.clamp(0.0, 1.0) if clamp else rgb


def ciede2000(
    lab1: np.ndarray,
    lab2: np.ndarray,
    k_l: float = 1.0,
    k_c: float = 1.0,
    k_h: float = 1.0,
) -> np.ndarray:
    """CIEDE2000 colour difference, per colour (Sharma, Wu & Dalal 2005).

    Args:
        lab1: array of shape ``(..., 3)`` of CIELAB colours (L, a, b); converted to float64.
        lab2: array broadcastable against ``lab1``, same layout.
        k_l, k_c, k_h: parametric weighting factors (1 for the reference conditions).

    Returns:
        float64 array of shape ``broadcast(lab1, lab2).shape[:-1]`` with ``Delta E00 >= 0``;
        symmetric in its arguments and zero for identical colours.
    """
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    if lab1.shape[-1:] != (3,) or lab2.shape[-1:] != (3,):
        raise ValueError(
            f"Lab arrays must end with a dimension of 3, got {lab1.shape}, {lab2.shape}"
        )
    l1, a1, b1 = np.moveaxis(lab1, -1, 0)
    l2, a2, b2 = np.moveaxis(lab2, -1, 0)

    # Step 1: C'_i and h'_i.
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    c_mean7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p = (1.0 + g) * a1
    a2p = (1.0 + g) * a2
    c1p = np.hypot(a1p, b1)
    c2p = np.hypot(a2p, b2)
    # atan2(0, 0) == 0, which is the convention of the paper (eq. 7).
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0

    # Step 2: Delta L', Delta C', Delta H'.
    chroma_product = c1p * c2p
    achromatic = chroma_product == 0.0
    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(achromatic, 0.0, dh)
    dh_big = 2.0 * np.sqrt(chroma_product) * np.sin(np.radians(dh) / 2.0)

    # Step 3: means and weighting functions.
    l_mean = (l1 + l2) / 2.0
    c_mean = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180.0,
        h_sum / 2.0,
        np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0),
    )
    h_mean = np.where(achromatic, h_sum, h_mean)

    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    c_mean_p7 = c_mean**7
    r_c = 2.0 * np.sqrt(c_mean_p7 / (c_mean_p7 + 25.0**7))
    l_off2 = (l_mean - 50.0) ** 2
    s_l = 1.0 + 0.015 * l_off2 / np.sqrt(20.0 + l_off2)
    s_c = 1.0 + 0.045 * c_mean
    s_h = 1.0 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c

    term_l = dl / (k_l * s_l)
    term_c = dc / (k_c * s_c)
    term_h = dh_big / (k_h * s_h)
    squared = term_l**2 + term_c**2 + term_h**2 + r_t * term_c * term_h
    # Mathematically >= 0; guard against -0.0 / tiny negative rounding.
    return np.sqrt(np.maximum(squared, 0.0))


def _u8_to_lab(rgb_u8: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(rgb_u8)
    if arr.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 array, got {arr.dtype}")
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {arr.shape}")
    rgb = torch.from_numpy(arr.astype(np.float64) / 255.0).permute(2, 0, 1)
    with torch.no_grad():
        lab = rgb_to_lab(rgb)
    return lab.permute(1, 2, 0).numpy()


def delta_e00_rgb(rgb1_u8: np.ndarray, rgb2_u8: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 between two 8-bit sRGB images.

    Args:
        rgb1_u8: uint8 array of shape ``(H, W, 3)``, values in ``[0, 255]``.
        rgb2_u8: uint8 array of the same shape.

    Returns:
        float64 array of shape ``(H, W)`` with ``Delta E00 >= 0`` per pixel.
    """
    if np.shape(rgb1_u8) != np.shape(rgb2_u8):
        raise ValueError(f"shape mismatch: {np.shape(rgb1_u8)} vs {np.shape(rgb2_u8)}")
    return ciede2000(_u8_to_lab(rgb1_u8, "rgb1_u8"), _u8_to_lab(rgb2_u8, "rgb2_u8"))

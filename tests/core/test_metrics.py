"""Tests for stegnet.metrics: PSNR, SSIM and summary statistics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from stegnet.metrics import psnr, ssim, summary


def _image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Smooth-ish uint8 test image (gradient + texture) of the given shape."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    base = 100 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    if len(shape) == 3:
        base = base[..., None] + np.arange(shape[2]) * 20.0
    return np.clip(base + rng.normal(0, 10, shape), 0, 255).astype(np.uint8)


def _add_noise(img: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def _reference_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """Direct float64 SSIM with full 11x11 windows (no separable filtering)."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    window = np.outer(g, g) / g.sum() ** 2
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    means = []
    for ch in range(a.shape[2]):
        wa = sliding_window_view(a[..., ch], (11, 11))
        wb = sliding_window_view(b[..., ch], (11, 11))
        mx = (wa * window).sum(axis=(-1, -2))
        my = (wb * window).sum(axis=(-1, -2))
        vx = (wa * wa * window).sum(axis=(-1, -2)) - mx**2
        vy = (wb * wb * window).sum(axis=(-1, -2)) - my**2
        cxy = (wa * wb * window).sum(axis=(-1, -2)) - mx * my
        smap = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        means.append(smap.mean())
    return float(np.mean(means))


# ---------------------------------------------------------------------------- PSNR


def test_psnr_constant_offset() -> None:
    img = _image((32, 40, 3))
    img = np.clip(img, 0, 254).astype(np.uint8)
    shifted = img + np.uint8(1)
    expected = 10 * math.log10(255.0**2)
    assert expected == pytest.approx(48.1308, abs=1e-4)
    assert psnr(img, shifted) == pytest.approx(expected, abs=1e-9)
    assert psnr(shifted, img) == pytest.approx(expected, abs=1e-9)


def test_psnr_no_uint8_wraparound() -> None:
    a = np.zeros((4, 4), dtype=np.uint8)
    b = np.full((4, 4), 255, dtype=np.uint8)
    assert psnr(a, b) == pytest.approx(0.0, abs=1e-12)
    assert psnr(b, a) == pytest.approx(0.0, abs=1e-12)


def test_psnr_identical_and_float_range() -> None:
    img = _image((16, 16, 3))
    assert psnr(img, img) == math.inf
    f = img.astype(np.float64) / 255.0
    g = _add_noise(img, 5.0).astype(np.float64) / 255.0
    assert psnr(f, g, data_range=1.0) == pytest.approx(psnr(img, _add_noise(img, 5.0)), abs=1e-9)


def test_psnr_grayscale_and_shape_mismatch() -> None:
    img = _image((20, 30))
    assert 20 < psnr(img, _add_noise(img, 5.0)) < 40
    with pytest.raises(ValueError):
        psnr(img, img[:10])
    with pytest.raises(ValueError):
        psnr(np.zeros(5), np.zeros(5))


# ---------------------------------------------------------------------------- SSIM


@pytest.mark.parametrize("shape", [(48, 40), (48, 40, 3)])
def test_ssim_identical_is_one(shape: tuple[int, ...]) -> None:
    img = _image(shape)
    assert ssim(img, img) == 1.0


@pytest.mark.parametrize("shape", [(48, 40), (48, 40, 3)])
def test_ssim_decreases_with_noise(shape: tuple[int, ...]) -> None:
    img = _image(shape)
    values = [ssim(img, _add_noise(img, sigma)) for sigma in (2.0, 8.0, 20.0, 50.0)]
    assert all(0.0 < v < 1.0 for v in values)
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


# (150, 37, 3) spans several row strips of the implementation (last one partial).
@pytest.mark.parametrize("shape", [(40, 52), (40, 52, 3), (23, 11, 2), (150, 37, 3)])
def test_ssim_matches_direct_float64(shape: tuple[int, ...]) -> None:
    img = _image(shape, seed=5)
    noisy = _add_noise(img, 15.0, seed=6)
    assert ssim(img, noisy) == pytest.approx(_reference_ssim(img, noisy), abs=1e-10)
    # Flat image with one changed pixel: hardest case for E[x^2] - E[x]^2 cancellation.
    flat = np.full(shape, 200, dtype=np.uint8)
    dot = flat.copy()
    dot[shape[0] // 2, shape[1] // 2] = 201
    assert ssim(flat, dot) == pytest.approx(_reference_ssim(flat, dot), abs=1e-10)


def test_ssim_constant_shift_and_symmetry() -> None:
    img = _image((40, 40, 3))
    img = np.clip(img, 0, 235).astype(np.uint8)
    shifted = img + np.uint8(20)
    value = ssim(img, shifted)
    assert 0.9 < value < 1.0
    assert ssim(shifted, img) == pytest.approx(value, abs=1e-9)


def test_ssim_float_inputs_and_data_range() -> None:
    img = _image((32, 32, 3))
    noisy = _add_noise(img, 10.0)
    f_img = img.astype(np.float32) / 255.0
    f_noisy = noisy.astype(np.float32) / 255.0
    assert ssim(f_img, f_noisy, data_range=1.0) == pytest.approx(ssim(img, noisy), abs=1e-6)


def test_ssim_validation() -> None:
    img = _image((32, 32, 3))
    with pytest.raises(ValueError):
        ssim(img, img[:, :31])
    with pytest.raises(ValueError):
        ssim(img[:10], img[:10])


def test_ssim_large_image() -> None:
    """A large image works (its speed is measured by the benchmark, not asserted here)."""
    img = _image((1024, 1536, 3))
    noisy = _add_noise(img, 5.0)
    assert 0.0 < ssim(img, noisy) < 1.0


# ---------------------------------------------------------------------------- summary


def test_summary_basic() -> None:
    values = [float(v) for v in range(1, 101)]
    s = summary(values)
    assert s["count"] == 100 and s["n_finite"] == 100 and s["n_inf"] == 0 and s["n_nan"] == 0
    assert s["mean"] == pytest.approx(50.5)
    assert s["min"] == 1.0 and s["max"] == 100.0
    assert s["p50"] == pytest.approx(50.5)
    assert s["p5"] == pytest.approx(np.percentile(values, 5))
    assert s["p95"] == pytest.approx(np.percentile(values, 95))
    assert all(isinstance(s[k], float) for k in ("mean", "min", "max", "p5", "p50", "p95"))


def test_summary_with_inf_is_strict_json() -> None:
    s = summary([30.0, math.inf, 40.0, math.inf, float("nan")])
    assert s["count"] == 5 and s["n_finite"] == 2 and s["n_inf"] == 2 and s["n_nan"] == 1
    assert s["mean"] == pytest.approx(35.0)
    assert s["max"] == 40.0
    json.dumps(s, allow_nan=False)


@pytest.mark.parametrize("values", [[], [math.inf, math.inf]])
def test_summary_without_finite_values(values: list[float]) -> None:
    s = summary(values)
    assert s["count"] == len(values) and s["n_finite"] == 0
    assert s["mean"] is None and s["p95"] is None
    json.dumps(s, allow_nan=False)

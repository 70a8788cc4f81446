"""Tests for stegnet.color: sRGB <-> CIELAB conversions and CIEDE2000."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stegnet.color import ciede2000, delta_e00_rgb, lab_to_rgb, rgb_to_lab


def _grid_u8(step: int = 5) -> np.ndarray:
    """All 8-bit colours on a grid of the given step (0..255 inclusive), shape (N, 3)."""
    levels = np.arange(0, 256, step, dtype=np.uint8)
    return np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)


def _u8_to_tensor(colours: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """(N, 3) uint8 -> (3, 1, N) float tensor in [0, 1]."""
    return torch.from_numpy(colours.T.copy()).to(dtype).div(255.0).unsqueeze(1)


def test_grid_has_52_cubed_colours() -> None:
    assert _grid_u8().shape == (52**3, 3)


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_round_trip_random(dtype: torch.dtype, tol: float) -> None:
    gen = torch.Generator().manual_seed(0)
    rgb = torch.rand((4, 3, 32, 32), generator=gen, dtype=torch.float64).to(dtype)
    lab = rgb_to_lab(rgb)
    assert lab.dtype == dtype and lab.shape == rgb.shape
    back = lab_to_rgb(lab)
    assert back.dtype == dtype
    assert torch.max(torch.abs(back - rgb)).item() < tol


def test_round_trip_grid_float64() -> None:
    rgb = _u8_to_tensor(_grid_u8(), torch.float64)
    back = lab_to_rgb(rgb_to_lab(rgb))
    assert torch.max(torch.abs(back - rgb)).item() < 1e-5


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_round_trip_grid_uint8_exact(dtype: torch.dtype) -> None:
    colours = _grid_u8()
    back = lab_to_rgb(rgb_to_lab(_u8_to_tensor(colours, dtype)))
    back_u8 = torch.round(back.to(torch.float64) * 255.0).to(torch.uint8)
    back_u8 = back_u8.squeeze(1).T.numpy()
    np.testing.assert_array_equal(back_u8, colours)


def test_lab_ranges_on_grid() -> None:
    lab = rgb_to_lab(_u8_to_tensor(_grid_u8(), torch.float64))
    lightness, a, b = lab
    assert lightness.min().item() >= -1e-9 and lightness.max().item() <= 100.0 + 1e-9
    assert a.min().item() >= -128.0 and a.max().item() <= 127.0
    assert b.min().item() >= -128.0 and b.max().item() <= 127.0


def _single(r: float, g: float, b: float) -> torch.Tensor:
    return torch.tensor([r, g, b], dtype=torch.float64).view(3, 1, 1)


def test_known_values() -> None:
    white = rgb_to_lab(_single(1.0, 1.0, 1.0)).flatten()
    assert torch.allclose(white, torch.tensor([100.0, 0.0, 0.0], dtype=torch.float64), atol=1e-4)
    black = rgb_to_lab(_single(0.0, 0.0, 0.0)).flatten()
    assert torch.allclose(black, torch.zeros(3, dtype=torch.float64), atol=1e-12)
    red = rgb_to_lab(_single(1.0, 0.0, 0.0)).flatten()
    expected = torch.tensor([53.24, 80.09, 67.20], dtype=torch.float64)
    assert torch.allclose(red, expected, atol=0.01)
    # Grey levels are neutral.
    grey = rgb_to_lab(_single(0.5, 0.5, 0.5)).flatten()
    assert abs(grey[1].item()) < 1e-4 and abs(grey[2].item()) < 1e-4


def test_batch_shapes_and_validation() -> None:
    rgb = torch.rand(2, 5, 3, 4, 6, dtype=torch.float32)
    assert rgb_to_lab(rgb).shape == rgb.shape
    single = rgb[0, 0]
    assert torch.allclose(rgb_to_lab(single), rgb_to_lab(rgb)[0, 0], atol=1e-4)  # float32
    with pytest.raises(ValueError):
        rgb_to_lab(torch.rand(4, 4, 3))
    with pytest.raises(TypeError):
        rgb_to_lab(torch.zeros(3, 2, 2, dtype=torch.uint8))


def test_lab_to_rgb_clamp() -> None:
    # Very saturated Lab colour, outside the sRGB gamut.
    lab = torch.tensor([50.0, 120.0, -120.0], dtype=torch.float64).view(3, 1, 1)
    clamped = lab_to_rgb(lab)
    raw = lab_to_rgb(lab, clamp=False)
    assert clamped.min().item() >= 0.0 and clamped.max().item() <= 1.0
    assert raw.min().item() < 0.0 or raw.max().item() > 1.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_finite(dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(1)
    rand = torch.rand((3, 4, 4), generator=gen, dtype=torch.float64).to(dtype)
    for base in (torch.zeros(3, 4, 4, dtype=dtype), torch.ones(3, 4, 4, dtype=dtype), rand):
        rgb = base.clone().requires_grad_(True)
        lab = rgb_to_lab(rgb)
        lab.sum().backward()
        assert rgb.grad is not None and torch.isfinite(rgb.grad).all()

        lab_in = lab.detach().clone().requires_grad_(True)
        for clamp in (True, False):
            lab_in.grad = None
            lab_to_rgb(lab_in, clamp=clamp).sum().backward()
            assert lab_in.grad is not None and torch.isfinite(lab_in.grad).all()

    # Also for Lab values that decode to negative linear RGB (pow of negatives).
    lab = torch.tensor([5.0, 60.0, -90.0], dtype=dtype).view(3, 1, 1).requires_grad_(True)
    lab_to_rgb(lab, clamp=False).sum().backward()
    assert lab.grad is not None and torch.isfinite(lab.grad).all()


def test_gradcheck_float64() -> None:
    gen = torch.Generator().manual_seed(2)
    rgb = torch.rand((3, 2, 3), generator=gen, dtype=torch.float64) * 0.9 + 0.05
    assert torch.autograd.gradcheck(rgb_to_lab, (rgb.requires_grad_(True),))
    lab = rgb_to_lab(rgb.detach()).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: lab_to_rgb(t, clamp=False), (lab,))


# Sharma, Wu & Dalal (2005), supplementary test data: (Lab1, Lab2, Delta E00).
SHARMA_PAIRS = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_PAIRS)
def test_ciede2000_sharma(lab1: tuple, lab2: tuple, expected: float) -> None:
    value = ciede2000(np.array(lab1), np.array(lab2))
    assert value.shape == ()
    assert abs(float(value) - expected) < 5e-5
    # Symmetry.
    assert abs(float(ciede2000(np.array(lab2), np.array(lab1))) - expected) < 5e-5


def test_ciede2000_vectorised_symmetric_zero() -> None:
    lab1 = np.array([p[0] for p in SHARMA_PAIRS], dtype=np.float64)
    lab2 = np.array([p[1] for p in SHARMA_PAIRS], dtype=np.float64)
    expected = np.array([p[2] for p in SHARMA_PAIRS])
    np.testing.assert_allclose(ciede2000(lab1, lab2), expected, atol=5e-5)
    np.testing.assert_array_equal(ciede2000(lab1, lab2), ciede2000(lab2, lab1))

    rng = np.random.default_rng(3)
    lab = np.stack(
        [
            rng.uniform(0, 100, (5, 7)),
            rng.uniform(-100, 100, (5, 7)),
            rng.uniform(-100, 100, (5, 7)),
        ],
        axis=-1,
    )
    np.testing.assert_array_equal(ciede2000(lab, lab), np.zeros((5, 7)))
    other = lab[::-1]
    np.testing.assert_allclose(ciede2000(lab, other), ciede2000(other, lab), atol=1e-12)
    assert (ciede2000(lab, other) >= 0).all()
    # Broadcasting against a single colour.
    assert ciede2000(lab, np.array([50.0, 0.0, 0.0])).shape == (5, 7)
    with pytest.raises(ValueError):
        ciede2000(np.zeros((4, 2)), np.zeros((4, 2)))


def test_delta_e00_rgb() -> None:
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)
    zero = delta_e00_rgb(img, img)
    assert zero.shape == (8, 9) and zero.dtype == np.float64
    np.testing.assert_array_equal(zero, 0.0)

    # Black vs white: Delta L = 100 at mean L = 50 (S_L = 1), no chroma -> exactly 100.
    black = np.zeros((2, 3, 3), dtype=np.uint8)
    white = np.full((2, 3, 3), 255, dtype=np.uint8)
    np.testing.assert_allclose(delta_e00_rgb(black, white), 100.0, atol=1e-4)

    # A one-level change is a small, positive difference.
    bumped = img.copy()
    bumped[..., 1] = np.where(bumped[..., 1] < 255, bumped[..., 1] + 1, 254)
    diff = delta_e00_rgb(img, bumped)
    assert (diff > 0).all() and (diff < 2.0).all()

    with pytest.raises(ValueError):
        delta_e00_rgb(img, img[:4])
    with pytest.raises(TypeError):
        delta_e00_rgb(img.astype(np.float32), img.astype(np.float32))

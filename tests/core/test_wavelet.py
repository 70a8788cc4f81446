import pytest
import torch

from stegnet.layers.wavelet import haar_dwt, haar_idwt, low_band


def test_haar_is_invertible_and_orthonormal() -> None:
    image = torch.rand(2, 3, 16, 24, dtype=torch.float64)
    bands = haar_dwt(image)
    assert bands.shape == (2, 12, 8, 12)
    assert torch.allclose(haar_idwt(bands), image, atol=1e-12)
    assert torch.allclose(bands.pow(2).sum(), image.pow(2).sum())  # energy preserved
    assert (haar_idwt(haar_dwt(image.float())) - image.float()).abs().max() < 1e-5


def test_haar_bands_of_constant_image() -> None:
    image = torch.full((1, 1, 4, 4), 0.5)
    bands = haar_dwt(image)
    assert torch.allclose(low_band(bands), torch.full((1, 1, 2, 2), 1.0))
    assert bands[:, 1:].abs().max() == 0


def test_haar_horizontal_edge_goes_to_lh() -> None:
    image = torch.zeros(1, 1, 2, 2)
    image[..., 0, :] = 1.0  # top row bright
    ll, lh, hl, hh = haar_dwt(image).flatten()
    assert ll == 1.0 and lh == 1.0 and hl == 0.0 and hh == 0.0


def test_haar_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError):
        haar_dwt(torch.rand(1, 3, 5, 4))
    with pytest.raises(ValueError):
        haar_idwt(torch.rand(1, 6, 2, 2))

"""Grey-scale cover detection (stegnet.greyscale), used by embed-bits."""

from __future__ import annotations

import numpy as np
import pytest

from stegnet.greyscale import GREY_FRACTION, grey_fraction, is_grey
from stegnet.synthetic import synthetic_photo


def _grey(height: int = 60, width: int = 80) -> np.ndarray:
    luma = synthetic_photo(height, width, 3).mean(axis=2).astype(np.uint8)
    return np.repeat(luma[..., None], 3, axis=2)


def test_exactly_grey_and_colour() -> None:
    assert grey_fraction(_grey()) == 1.0 and is_grey(_grey())
    assert not is_grey(synthetic_photo(60, 80, 3))


def test_rounding_noise_of_one_level_is_still_grey() -> None:
    rng = np.random.default_rng(0)
    noisy = np.clip(_grey().astype(int) + rng.integers(0, 2, (60, 80, 3)), 0, 255)
    assert is_grey(noisy.astype(np.uint8))
    noisier = np.clip(_grey().astype(int) + rng.integers(0, 3, (60, 80, 3)), 0, 255)
    assert not is_grey(noisier.astype(np.uint8))  # 2 levels apart: colour


@pytest.mark.parametrize(("coloured", "grey"), [(0.005, True), (0.02, False)])
def test_nearly_grey_threshold(coloured: float, grey: bool) -> None:
    image = _grey(100, 100)
    count = round(coloured * image.shape[0] * image.shape[1])
    flat = image.reshape(-1, 3)
    flat[:count] = (200, 40, 40)
    assert (grey_fraction(image) >= GREY_FRACTION) == grey
    assert is_grey(image) == grey


def test_large_image_in_chunks_and_bad_shape() -> None:
    big = np.zeros((1300, 7, 3), dtype=np.uint8)
    big[1200:, :, 0] = 255  # the coloured rows fall in the last chunk
    assert grey_fraction(big) == pytest.approx(1200 / 1300)
    with pytest.raises(ValueError):
        grey_fraction(np.zeros((4, 4), dtype=np.uint8))

"""The robust channel's tiled layout and the synchroniser it relies on (stegnet.sync)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

from stegnet import sync
from stegnet.channels import robust
from stegnet.errors import (
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    WrongKeyOrCorrupted,
)
from stegnet.models import robust_tiled
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load

KEY = b"tiled key"


@pytest.fixture(scope="module")
def shipped():
    return load("robust", device="cpu")


@pytest.fixture(scope="module")
def cover() -> np.ndarray:
    return synthetic_photo(720, 1080, seed=11)


@pytest.fixture(scope="module")
def stego(cover, shipped):
    return robust.embed_tiled(cover, b"through any crop", KEY, shipped)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def _rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turn about the centre and cut away the filled corners."""
    turned = np.asarray(Image.fromarray(image).rotate(degrees, Image.BICUBIC))
    height, width = image.shape[:2]
    angle = math.radians(abs(degrees))
    dy, dx = int(width * math.sin(angle)) + 2, int(height * math.sin(angle)) + 2
    return turned[dy:height - dy, dx:width - dx]


# ---------------------------------------------------------------- the synchroniser
@pytest.mark.parametrize("symmetry", range(8))
def test_symmetry_matrix_matches_the_tensor_symmetry(symmetry):
    image = torch.arange(49.0).reshape(7, 7)
    moved = sync.dihedral(image, symmetry)
    (a, b), (c, d) = robust_tiled._symmetry_matrix(symmetry)
    for row in range(-3, 4):
        for col in range(-3, 4):
            source = (a * row + b * col + 3, c * row + d * col + 3)
            assert moved[row + 3, col + 3] == image[source]


def test_parabolic_peak_finds_the_vertex():
    samples = [-(x - 0.3) ** 2 for x in (-1.0, 0.0, 1.0)]
    assert sync.parabolic_peak(*samples) == pytest.approx(0.3)
    assert sync.parabolic_peak(0.0, 0.0, 0.0) == 0.0  # no maximum
    assert sync.parabolic_peak(-9.0, 0.0, 1.0, limit=0.5) == 0.5


def test_fold_averages_the_copies_of_a_tile():
    tile = torch.randn(8, 8)
    image = tile.repeat(3, 4)[:20, :29]
    assert torch.allclose(sync.fold(image, torch.ones_like(image), 8), tile, atol=1e-5)


@pytest.mark.parametrize("symmetry", [0, 1, 3, 4, 6])
def test_match_template_finds_the_symmetry_and_offset(symmetry):
    template = torch.randn(64, 64, generator=torch.Generator().manual_seed(1))
    moved = torch.roll(template, (5, 17), (0, 1))
    inverse = next(t for t in range(8)
                   if torch.equal(sync.dihedral(sync.dihedral(moved, t), symmetry), moved))
    score, found, offset = sync.match_template(sync.dihedral(moved, inverse), template)
    assert score > 20
    assert (found, round(offset[0]), round(offset[1])) == (symmetry, 5, 17)


def test_lattice_candidates_find_a_periodic_pattern():
    generator = torch.Generator().manual_seed(0)
    tile = torch.randn(40, 40, generator=generator)
    photo = torch.from_numpy(synthetic_photo(300, 400, seed=2).mean(axis=2)).float()
    marked = photo + 6 * tile.repeat(8, 10)[:300, :400]
    period, angle = sync.lattice_candidates(marked, (30.0, 150.0), top=1)[0]
    assert period == pytest.approx(40.0, abs=0.2)
    assert abs(angle) < math.radians(0.2)


# ---------------------------------------------------------------- the tiled channel
def test_round_trip_and_report(stego, cover, shipped):
    assert stego.mode == "tiled" and stego.stego.shape == cover.shape
    assert stego.raw_bit_errors == 0
    assert robust.extract(stego.stego, KEY, shipped) == b"through any crop"


@pytest.mark.parametrize("damage", [
    pytest.param(lambda im: _jpeg(im[72:-72, 108:-108], 80), id="crop10-jpeg80"),
    pytest.param(lambda im: _jpeg(np.ascontiguousarray(im[:, 180:900]), 80), id="square-crop"),
    pytest.param(lambda im: _rotate(im, 2.0), id="rotate2"),
    pytest.param(lambda im: np.ascontiguousarray(im[:, ::-1]), id="mirror"),
    pytest.param(lambda im: np.asarray(Image.fromarray(im).resize((540, 360), Image.LANCZOS)),
                 id="half-size"),
])
def test_survives_crops_turns_and_mirrors(stego, shipped, damage):
    assert robust.extract(damage(stego.stego), KEY, shipped) == b"through any crop"


def test_wrong_key_and_clean_photo_rejected(stego, cover, shipped):
    with pytest.raises(WrongKeyOrCorrupted):
        robust.extract(stego.stego, b"another key", shipped)
    with pytest.raises(PayloadNotFound):
        robust.extract(cover, None, shipped)
    with pytest.raises(PayloadError):  # with a key "not found" and "wrong key" look alike
        robust.extract(cover, KEY, shipped)


def test_capacity_is_enforced_and_small_payloads_change_less(cover, shipped):
    capacity = robust.capacity_bytes(shipped, False, "tiled")
    assert capacity > 256
    with pytest.raises(PayloadTooLarge):
        robust.embed_tiled(cover, bytes(capacity + 1), None, shipped)
    small = robust.embed_tiled(cover, b"hi", None, shipped).stego
    large = robust.embed_tiled(cover, bytes(capacity), None, shipped).stego
    change = [np.abs(s.astype(int) - cover).mean() for s in (small, large)]
    assert change[0] < change[1]


def test_grey_cover_stays_grey(shipped):
    grey = synthetic_photo(300, 400, seed=4).mean(axis=2).round().astype(np.uint8)
    stego = robust.embed_tiled(np.repeat(grey[..., None], 3, 2), b"grey", None, shipped).stego
    assert np.array_equal(stego[..., 0], stego[..., 1])
    assert np.array_equal(stego[..., 1], stego[..., 2])

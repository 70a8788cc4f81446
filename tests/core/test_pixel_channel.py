"""The pixel channel (the default of embed-bits): +-1 at the cheapest pixel samples,
syndrome-coded."""

import numpy as np
import pytest

from stegnet.channels import pixel as adaptive
from stegnet.channels.pixel import CHANNEL as bits
from stegnet.costs import hill_costs
from stegnet.errors import PayloadNotFound, PayloadTooLarge, WrongKeyOrCorrupted
from stegnet.imageio import decode_png_roundtrip
from stegnet.payload import exact
from stegnet.synthetic import synthetic_photo


@pytest.fixture(scope="module")
def cover() -> np.ndarray:
    return synthetic_photo(96, 128, 5)


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("size", ["0", "1", "1024", "capacity"])
def test_round_trip_through_png(cover: np.ndarray, size: str, keyed: bool) -> None:
    key = b"k3y" if keyed else None
    cap = adaptive.capacity_bytes(96, 128, keyed)
    n = cap if size == "capacity" else int(size)
    payload = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    report = bits.embed(cover, payload, key)
    assert report.mode == "pixel" and report.decodable and report.raw_bit_errors == 0
    stego = decode_png_roundtrip(report.stego)
    assert bits.extract(stego, key) == payload
    assert adaptive.extract(stego, key) == payload
    difference = stego.astype(int) - cover
    assert np.abs(difference).max() == 1  # every change is one level of one sample


def test_capacity_is_exact_and_stated(cover: np.ndarray) -> None:
    cap = adaptive.capacity_bytes(96, 128, False)
    # 3 bits per pixel less framing; the header's code takes up to a quarter of a small
    # image (64 samples per header bit from 400x400 px on, 3 % of a 512 px photo)
    assert 2.0 < 8 * cap / (96 * 128) < 3.0
    assert 2.8 < 8 * adaptive.capacity_bytes(512, 512, False) / 512**2 < 3.0
    assert adaptive.capacity_bytes(96, 128, True) < cap  # salt, nonce and tag
    with pytest.raises(PayloadTooLarge, match=str(cap)):
        bits.embed(cover, bytes(cap + 1), None)


def test_small_payloads_change_few_samples_and_more_with_more_payload(cover) -> None:
    """Several frame bits per change at low payloads; changes grow with the payload."""
    changed = []
    for size in (16, 160, 1600):
        report = adaptive.embed(cover, bytes(size), None)
        frame_bits = exact.needed_bits(size, False)
        changes = int((report.stego != cover).sum())
        changed.append(changes)
        if size <= 160:
            assert changes < frame_bits / 3  # an uncoded frame flips half its bits
    assert changed[0] < changed[1] < changed[2]


def test_changes_go_to_texture_not_to_smooth_areas() -> None:
    """HILL costs: a half-flat, half-noisy cover receives its changes in the noisy half."""
    rng = np.random.default_rng(3)
    cover = np.full((96, 96, 3), 128, np.uint8)
    cover[:, 48:] = rng.integers(40, 216, (96, 48, 3))
    report = adaptive.embed(cover, bytes(100), None)
    changed = (report.stego != cover).any(axis=-1)
    assert changed[:, 56:].sum() > 10 * max(1, changed[:, :40].sum())
    costs = hill_costs(cover)
    assert costs.shape == (96, 96, 3) and np.all(costs > 0)
    assert costs[:, :40].mean() > 10 * costs[:, 56:].mean()


def test_saturated_samples_move_inwards() -> None:
    cover = np.zeros((64, 64, 3), np.uint8)
    cover[::2] = 255
    report = adaptive.embed(cover, bytes(range(200)), None)
    assert np.all(report.stego[1::2] <= 1) and np.all(report.stego[::2] >= 254)
    assert adaptive.extract(report.stego, None) == bytes(range(200))


def test_wrong_key_clean_cover_and_flow_stego(cover: np.ndarray) -> None:
    stego = bits.embed(cover, b"secret", b"right").stego
    with pytest.raises(WrongKeyOrCorrupted):
        bits.extract(stego, b"wrong")
    with pytest.raises(PayloadNotFound):  # the key also decides where the frame is
        adaptive.extract(stego, None)
    with pytest.raises(PayloadNotFound):
        adaptive.extract(cover, None)
    with pytest.raises(PayloadNotFound):
        bits.extract(cover, None)


def test_key_decides_the_positions(cover: np.ndarray) -> None:
    """With a key the changed samples are elsewhere than without one (and than another
    key's), so the public positions tell nothing about a keyed stego."""
    places = []
    for key in (None, b"one", b"two"):
        stego = adaptive.embed(cover, bytes(200), key).stego
        places.append(set(np.flatnonzero(stego != cover)))
    for i in range(3):
        for j in range(i + 1, 3):
            overlap = len(places[i] & places[j]) / min(len(places[i]), len(places[j]))
            assert overlap < 0.5


def test_damaged_stego_is_detected_not_garbage(cover: np.ndarray) -> None:
    stego = adaptive.embed(cover, b"x" * 300, None).stego.copy()
    stego[:, :64] ^= 1  # half the picture's LSBs flipped
    with pytest.raises((PayloadNotFound, WrongKeyOrCorrupted)):
        adaptive.extract(stego, None)


def test_odd_sizes_and_the_smallest_cover() -> None:
    odd = synthetic_photo(33, 35, 7)
    payload = b"odd sizes work"
    assert adaptive.extract(adaptive.embed(odd, payload, None).stego, None) == payload
    assert adaptive.capacity_bytes(32, 32, True) > 0


def test_a_grey_cover_stays_grey_and_reads_back() -> None:
    grey = np.repeat(synthetic_photo(64, 80, 9)[..., :1], 3, axis=2)
    cap = bits.capacity(grey, True)
    assert cap == adaptive.capacity_bytes(64, 80, True, grey=True) > 0
    report = bits.embed(grey, bytes(i % 256 for i in range(cap)), b"k")
    stego = decode_png_roundtrip(report.stego)
    assert adaptive.is_exact_grey(stego) and not np.array_equal(stego, grey)
    assert bits.extract(stego, b"k") == bytes(i % 256 for i in range(cap))
    with pytest.raises(WrongKeyOrCorrupted):
        bits.extract(stego, b"other")

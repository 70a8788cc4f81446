"""The exact channels' frame format 5: spread syndrome-trellis codes (stegnet.payload.trellis),
ternary double-layered coding (stegnet.payload.ternary) and the compact frame
(stegnet.payload.exact)."""

from __future__ import annotations

import numpy as np
import pytest

from stegnet.errors import PayloadNotFound, PayloadTooLarge, WrongKeyOrCorrupted
from stegnet.payload import exact, ternary, trellis

MAGIC = b"TST5"


def test_spread_uses_every_column() -> None:
    starts = trellis.spread(103, 10)
    widths = np.diff(starts)
    assert starts[0] == 0 and starts[-1] == 103 and set(widths) == {10, 11}
    with pytest.raises(ValueError):
        trellis.spread(5, 6)


@pytest.mark.parametrize(("n", "m", "h"), [(50, 50, 3), (1000, 37, 7), (20_000, 3000, 9)])
def test_trellis_meets_the_syndrome_cheaply(n, m, h) -> None:
    rng = np.random.default_rng(n)
    x = rng.integers(0, 2, n).astype(np.uint8)
    rho = rng.random(n)
    message = rng.integers(0, 2, m).astype(np.uint8)
    y, cost = trellis.embed(x, rho, message, h)
    np.testing.assert_array_equal(trellis.syndrome(y, m, h), message)
    assert cost == pytest.approx(rho[y != x].sum())
    flips = np.count_nonzero(trellis.embed(x, np.ones(n), message, h)[0] != x)
    if m < n // 4:  # a real code: far fewer flips than writing the bits directly (m / 2)
        assert flips < 0.3 * m


def test_trellis_lanes_and_wet_columns() -> None:
    rng = np.random.default_rng(3)
    n, m, h = 60_000, 5000, 6
    assert len(trellis.lanes(m)) - 1 == 4  # several lanes, cut at their bounds
    x = rng.integers(0, 2, n).astype(np.uint8)
    rho = np.where(rng.random(n) < 0.3, np.inf, rng.random(n))
    message = rng.integers(0, 2, m).astype(np.uint8)
    y, _ = trellis.embed(x, rho, message, h)
    np.testing.assert_array_equal(trellis.syndrome(y, m, h), message)
    assert not (y != x)[np.isinf(rho)].any()  # wet bits never flip
    assert trellis.embed(np.zeros(40, np.uint8), np.full(40, np.inf), np.ones(4, np.uint8),
                         4) is None  # all wet: no solution, said so


def test_height_follows_the_work_budget() -> None:
    assert trellis.height(1000) == 10
    assert trellis.height(50_000_000) == 4
    assert trellis.height(3_000_000) < trellis.height(100_000)


def test_ternary_layers_round_trip_and_beat_parity_coding() -> None:
    rng = np.random.default_rng(5)
    n = 40_000
    values = rng.integers(-30, 30, n)
    rho = rng.random(n) ** 3 * 10 + 0.01
    bits = 8000
    message = rng.integers(0, 2, bits).astype(np.uint8)
    m2, layer2_costs = ternary.split(values, rho, rho, bits)
    assert 0 < m2 < bits
    change = ternary.embed(values, rho, rho, message, m2, layer2_costs, 8, 8)
    assert set(np.unique(change)) <= {-1, 0, 1}
    np.testing.assert_array_equal(ternary.read(values + change, m2, bits - m2, 8, 8), message)
    y, _ = trellis.embed((values & 1).astype(np.uint8), rho, message, 8)
    binary = rho[y != (values & 1)].sum()
    assert rho[change != 0].sum() < 0.85 * binary  # the direction carries information


def test_ternary_respects_forbidden_directions() -> None:
    rng = np.random.default_rng(6)
    n = 20_000
    values = rng.integers(-3, 4, n)
    rho = rng.random(n) + 0.1
    rho_plus = np.where(values >= 3, np.inf, rho)
    rho_minus = np.where(values <= -3, np.inf, rho)
    message = rng.integers(0, 2, 3000).astype(np.uint8)
    m2, costs = ternary.split(values, rho_plus, rho_minus, message.size)
    change = ternary.embed(values, rho_plus, rho_minus, message, m2, costs, 7, 7)
    assert np.abs(values + change).max() <= 3
    np.testing.assert_array_equal(ternary.read(values + change, m2, message.size - m2, 7, 7),
                                  message)


def test_permutation_is_a_stable_bijection() -> None:
    for n in (1, 2, 3, 1000, 12_345):
        perm = exact.permutation(b"\x01" * 32, n)
        assert sorted(perm.tolist()) == list(range(n))
    # pure integer arithmetic: the same positions on every platform and NumPy version
    assert exact.permutation(bytes(32), 10).tolist() == exact.permutation(bytes(32), 10).tolist()
    assert exact.permutation(bytes(32), 1000)[:5].tolist() != list(range(5))


def _channel(n: int = 30_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(-40, 40, n), rng.random(n) * 5 + 0.01


@pytest.mark.parametrize("key", [None, b"k"])
def test_frame_round_trips_and_rejects(key) -> None:
    values, rho = _channel()
    capacity = exact.capacity_bytes(values.size, key is not None)
    assert capacity == (values.size - 64 * exact.HEADER_BITS) // 8 - (32 if key else 4)
    for size in (0, 1, 700):
        payload = bytes(range(256)) * 3
        payload = payload[:size]
        change, facts = exact.embed(values, rho, rho, payload, key, MAGIC)
        assert facts["frame_bits"] == exact.needed_bits(size, key is not None)
        assert exact.extract(values + change, key, MAGIC) == payload
        with pytest.raises(WrongKeyOrCorrupted):
            exact.extract(values + change, b"other", MAGIC)
    with pytest.raises(PayloadNotFound if key is None else WrongKeyOrCorrupted):
        exact.extract(values, key, MAGIC)  # a clean channel
    with pytest.raises(PayloadTooLarge, match=f"capacity is {capacity} bytes"):
        exact.embed(values, rho, rho, bytes(capacity + 1), key, MAGIC)


def test_frame_damage_is_detected() -> None:
    values, rho = _channel(seed=1)
    change, _ = exact.embed(values, rho, rho, b"important words" * 10, None, MAGIC)
    stego = values + change
    rng = np.random.default_rng(2)
    for _ in range(20):  # every position is read (header or parity layer): always caught
        damaged = stego.copy()
        damaged[rng.integers(0, stego.size, 3)] += 1
        with pytest.raises((WrongKeyOrCorrupted, PayloadNotFound)):  # body / header hit
            exact.extract(damaged, None, MAGIC)
    keyed = values + exact.embed(values, rho, rho, b"x", b"k", MAGIC)[0]
    with pytest.raises(PayloadNotFound):  # its positions are secret without the key
        exact.extract(keyed, None, MAGIC)


def test_too_small_channels() -> None:
    assert exact.capacity_bytes(100, False) == 0
    with pytest.raises(PayloadTooLarge, match="too small"):
        exact.embed(np.zeros(100, np.int64), np.ones(100), np.ones(100), b"", None, MAGIC)
    with pytest.raises(PayloadNotFound):
        exact.extract(np.zeros(100, np.int64), None, MAGIC)

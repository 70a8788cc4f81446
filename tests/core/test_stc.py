"""Syndrome-trellis coder and syndrome-coded frames: exact syndromes, few flips, errors."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from stegnet.errors import PayloadNotFound, PayloadTooLarge, WrongKeyOrCorrupted
from stegnet.payload import container as ct
from stegnet.payload import stc


@pytest.mark.parametrize(("m", "w"), [(1, 1), (1, 5), (7, 3), (97, 1), (500, 4), (3000, 8)])
def test_embed_gives_the_message_as_syndrome(m: int, w: int) -> None:
    rng = np.random.default_rng(m * 31 + w)
    x = rng.integers(0, 2, m * w).astype(np.uint8)
    message = rng.integers(0, 2, m).astype(np.uint8)
    y = stc.embed(x, rng.random(m * w), message, w)
    assert y.shape == x.shape and set(np.unique(y)) <= {0, 1}
    assert np.array_equal(stc.syndrome(y, m, w), message)


def test_embed_is_optimal_on_a_small_code() -> None:
    """Brute force over all y: the Viterbi search finds the cheapest one."""
    rng = np.random.default_rng(5)
    m, w = 4, 3
    for _ in range(5):
        x = rng.integers(0, 2, m * w).astype(np.uint8)
        rho = rng.random(m * w)
        message = rng.integers(0, 2, m).astype(np.uint8)
        y = stc.embed(x, rho, message, w)
        best = min(rho[np.array(c) != x].sum()
                   for c in itertools.product((0, 1), repeat=m * w)
                   if np.array_equal(stc.syndrome(np.array(c, np.uint8), m, w), message))
        assert rho[y != x].sum() == pytest.approx(best)


@pytest.mark.parametrize(("w", "at_least"), [(2, 3.5), (4, 4.0), (8, 5.0)])
def test_far_fewer_flips_than_writing_bits_directly(w: int, at_least: float) -> None:
    """Direct writing flips half the bits (2 message bits per flip); STC does better."""
    rng = np.random.default_rng(w)
    m = 3000
    x = rng.integers(0, 2, m * w).astype(np.uint8)
    y = stc.embed(x, np.ones(m * w), rng.integers(0, 2, m).astype(np.uint8), w)
    assert m / np.count_nonzero(y != x) >= at_least


def test_costly_bits_are_avoided() -> None:
    rng = np.random.default_rng(9)
    m, w = 2000, 4
    x = rng.integers(0, 2, m * w).astype(np.uint8)
    rho = np.ones(m * w)
    rho[::2] = 1e6  # every other bit is "wet"
    y = stc.embed(x, rho, rng.integers(0, 2, m).astype(np.uint8), w)
    assert not np.any(y[::2] != x[::2])


def _channel(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    z = np.random.default_rng(seed).standard_normal(n)
    return (z > 0).astype(np.uint8), np.abs(z)


@pytest.mark.parametrize("key", [None, b"secret"])
@pytest.mark.parametrize("length", [0, 13, 400])
def test_syndrome_frame_round_trip(key: bytes | None, length: int) -> None:
    cover, cost = _channel(60_000)
    payload = os.urandom(length)
    positions, bits = ct.pack_syndrome(payload, cover, cost, key, 64)
    assert len(np.unique(positions)) == len(positions)
    stego = cover.copy()
    stego[positions] = bits
    assert ct.unpack(stego, None, key) == payload
    direct_positions, direct_bits = ct.pack(payload, cover.size, key, 64)
    flips = stego != cover
    direct_flips = direct_positions[cover[direct_positions] != direct_bits]
    assert cost[flips].sum() < 0.5 * cost[direct_flips].sum()  # cheaper flips, and fewer


def test_syndrome_frame_survives_a_few_wrong_bits_and_rejects_wrong_key() -> None:
    cover, cost = _channel(60_000, 1)
    payload = os.urandom(200)
    positions, bits = ct.pack_syndrome(payload, cover, cost, b"k1", 64)
    stego = cover.copy()
    stego[positions] = bits
    stego[np.random.default_rng(2).choice(positions, 4, replace=False)] ^= 1
    assert ct.unpack(stego, None, b"k1") == payload
    with pytest.raises(WrongKeyOrCorrupted):
        ct.unpack(stego, None, b"k2")
    with pytest.raises(PayloadNotFound):
        ct.unpack(cover, None, None)


def test_direct_frames_still_read_and_layouts_do_not_mix() -> None:
    cover, cost = _channel(60_000, 3)
    payload = b"format version 2 frame"
    positions, bits = ct.pack(payload, cover.size, None, 64)
    stego = cover.copy()
    stego[positions] = bits
    assert ct.unpack(stego, None, None) == payload
    s_pos, s_bits = ct.pack_syndrome(payload, cover, cost, None, 64)
    stego = cover.copy()
    stego[s_pos] = s_bits
    perm, keystream = ct._scramblers(ct._derive_seed(None), stego.size)
    assert ct._read_syndrome(stego, perm, keystream, 0, ct.HEADER_BITS)[:4].tobytes() == (
        ct.MAGIC_SYNDROME)
    assert np.packbits(stego[perm[:32]] ^ keystream[:32]).tobytes() != ct.MAGIC
    assert ct.unpack(stego, None, None) == payload


def test_syndrome_frame_too_large_and_bad_costs() -> None:
    cover, cost = _channel(5_000)
    with pytest.raises(PayloadTooLarge):
        ct.pack_syndrome(os.urandom(10_000), cover, cost)
    with pytest.raises(Exception, match="costs"):
        ct.pack_syndrome(b"x", cover, -cost)

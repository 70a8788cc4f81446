"""Syndrome-trellis coder and syndrome-coded frames: exact syndromes, few flips, errors."""

from __future__ import annotations

import dataclasses
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


def test_one_wrong_bit_spoils_neighbouring_message_bits_only() -> None:
    """Lanes hold consecutive message bits: a wrong stego bit spoils message bits within
    the constraint height of each other (at most two bytes), not spread over the frame."""
    rng = np.random.default_rng(11)
    m, w = 4000, 2
    y = rng.integers(0, 2, m * w).astype(np.uint8)
    clean = stc.syndrome(y, m, w)
    for column in rng.choice(m * w, 20, replace=False):
        damaged = y.copy()
        damaged[column] ^= 1
        spoiled = np.flatnonzero(stc.syndrome(damaged, m, w) != clean)
        assert 1 <= spoiled.size and spoiled.max() - spoiled.min() < stc.HEIGHT
        assert len(set(spoiled // 8)) <= 2


_EMBED = stc.embed


def _interleaved_embed(x, rho, message, w, h=stc.HEIGHT):
    """Format version 3's embedder (round-robin lanes), built from today's one by
    reordering the blocks (m a multiple of the lane count)."""
    m, n_lanes = len(message), stc.lanes(len(message))
    assert m % n_lanes == 0
    order = np.arange(m).reshape(m // n_lanes, n_lanes).T.reshape(-1)  # lane-major
    blocks = lambda a: np.asarray(a).reshape(m, w)  # noqa: E731
    y = _EMBED(blocks(x)[order].reshape(-1), blocks(rho)[order].reshape(-1),
                  np.asarray(message)[order], w, h)
    out = np.empty((m, w), np.uint8)
    out[order] = y.reshape(m, w)
    return out.reshape(-1)


def test_version_3_frames_still_read(monkeypatch) -> None:
    """Stego images written by format version 3 (round-robin lanes, magic SGN3) decode."""
    rng = np.random.default_rng(12)
    n_bits = 60_000
    length = next(n for n in range(20, 200) if (ct.needed_bits(n, True, 64) - ct.HEADER_BITS)
                  % stc.lanes(ct.needed_bits(n, True, 64) - ct.HEADER_BITS) == 0)
    payload = os.urandom(length)
    cover = rng.integers(0, 2, n_bits).astype(np.uint8)
    with monkeypatch.context() as patch:
        patch.setattr(ct, "LATENT", dataclasses.replace(ct.LATENT, magic=ct.MAGIC_SYNDROME_V3))
        patch.setattr(stc, "embed", _interleaved_embed)
        positions, bits = ct.pack_syndrome(payload, cover, np.ones(n_bits), b"k", 64)
    stego = cover.copy()
    stego[positions] = bits
    assert (stego != cover).sum() < 0.5 * len(ct.pack(payload, n_bits, b"k", 64)[0])
    assert ct.unpack(stego, key=b"k") == payload
    with pytest.raises(WrongKeyOrCorrupted):
        ct.unpack(stego, key=b"other")

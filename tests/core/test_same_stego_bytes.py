"""Shipped weights and outputs unchanged by the channel interface: with the randomness
fixed, every channel writes the very stego bytes the code before the interface wrote.

The expected SHA-256 were printed by the same calls on the last commit before
``stegnet.channels`` existed (a git worktree of it, its own weights), through the API
spellings both versions accept (``mode=`` and ``robust=``). A change here means a channel
now writes different stegos for the same inputs: fine only on purpose, with a new
container version or a note, never by accident of a refactor.

The pixel channel changed on purpose after the interface: its frames became the exact
frame (``SGN8``, :mod:`stegnet.payload.exact`: ternary codes, compact header), so its two
hashes are those the commit that introduced ``SGN8`` printed (the ``SGN5`` frames it wrote
before stay readable: ``tests/golden``).
"""

from __future__ import annotations

import hashlib
import os
import secrets

import numpy as np
import pytest

from stegnet import api
from stegnet.synthetic import synthetic_photo

BEFORE_THE_INTERFACE = {
    "pixel": "cfe4d05b325bcd9239e6008173fbee231132e72c670268578bbd06b672699cf4",
    "pixel-keyed": "8e79ecc532ab164e8bdfc97b6eccc0d980447303f8f54ae3134a2cf4d5b753a2",
    "flow-sparse": "a3144e80246d1d7aed2492989a182843f78bf31cc2826f37d7dd67c668e90715",
    "flow-full": "e409825d2c8710edb40620482b5dfa853810c6d81a27ee5caf19c658e43a541e",
    "robust-keyed": "3ed189eda5b9e8110d759478b17fc2012906b8dc2bead6e4adf6a3052f90ceec",
}
PAYLOAD = bytes(range(200))


@pytest.fixture
def fixed_randomness(monkeypatch) -> None:
    """The embedders' random draws (+-1 directions, filler signs, magnitudes, AEAD salt and
    nonce) made repeatable."""
    monkeypatch.setattr(secrets, "randbits", lambda k: 0x5EED5EED5EED5EED % (1 << k))
    monkeypatch.setattr(secrets, "token_bytes",
                        lambda n=32: bytes((i * 13 + 1) % 256 for i in range(n)))
    monkeypatch.setattr(os, "urandom", lambda n: bytes((i * 7 + 3) % 256 for i in range(n)))


def _case(name: str):
    small = synthetic_photo(96, 128, 21)
    return {
        "pixel": lambda: api.embed(small, PAYLOAD, device="cpu"),
        "pixel-keyed": lambda: api.embed(small, PAYLOAD, key="k", device="cpu"),
        "flow-sparse": lambda: api.embed(small, b"short note", mode="sparse", device="cpu"),
        "flow-full": lambda: api.embed(small, PAYLOAD, mode="full", device="cpu"),
        "robust-keyed": lambda: api.embed(synthetic_photo(512, 512, 7), b"robust bytes",
                                          key="k", robust=True, layout="whole",
                                          device="cpu"),
    }[name]


@pytest.mark.parametrize("name", sorted(BEFORE_THE_INTERFACE))
def test_the_same_stego_bytes_as_before_the_channel_interface(name: str,
                                                              fixed_randomness) -> None:
    done = _case(name)()
    digest = hashlib.sha256(np.ascontiguousarray(done.stego).tobytes()).hexdigest()
    assert digest == BEFORE_THE_INTERFACE[name]
    assert done.channel == name.split("-")[0]


def test_the_jpeg_channel_is_repeatable(fixed_randomness) -> None:
    from stegnet.jpegio import compress, to_bytes

    cover = compress(synthetic_photo(96, 128, 21), 85)
    first, second = (to_bytes(api.embed(cover, PAYLOAD[:60], channel="jpeg").stego)
                     for _ in range(2))
    assert first == second and first != to_bytes(cover)

"""Whitening and permutation of a frame's stream (:mod:`stegnet.payload.container`).

Stream bit ``i`` is XOR-ed with keystream bit ``i`` and carried by channel position
``perm[i]``, ``perm`` a permutation of all channel positions. Both come from a seed that
is public without a key and derived from the key by scrypt with a fixed application salt
with one. They are built from the raw PCG64 output only (not from ``Generator`` methods,
whose streams NumPy does not promise to keep across versions), so images stay readable
after a NumPy upgrade.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
"""scrypt cost parameters (positions seed and payload encryption key)."""

_POSITIONS_SALT = b"stegnet-positions-v2"
_PUBLIC_SEED = hashlib.sha256(b"stegnet-public").digest()


@lru_cache(maxsize=8)  # scrypt; the embedder decodes its own stego every round
def derive_seed(key: bytes | None) -> bytes:
    """The 32-byte seed of the positions and keystream: public without a key."""
    if key is None:
        return _PUBLIC_SEED
    return hashlib.scrypt(key, salt=_POSITIONS_SALT, **SCRYPT)


@lru_cache(maxsize=8)
def _scramblers_cached(seed: bytes, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(seed, "big")))
    perm_keys = bitgen.random_raw(n_bits).astype(np.uint64)
    perm = np.argsort(perm_keys, kind="stable")
    words = bitgen.random_raw((n_bits + 63) // 64).astype("<u8")
    keystream = np.unpackbits(words.view(np.uint8))[:n_bits]
    perm.flags.writeable = False
    keystream.flags.writeable = False
    return perm, keystream


def scramblers(seed: bytes, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (channel positions in stream order: a permutation of range(n_bits), keystream
    bits (n_bits,) uint8) for a seed (read-only arrays, cached)."""
    return _scramblers_cached(seed, n_bits)

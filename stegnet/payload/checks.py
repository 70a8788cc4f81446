"""Argument checks of the payload container's public functions (one-line UsageErrors)."""

from __future__ import annotations

import numpy as np

from stegnet.errors import UsageError
from stegnet.payload.rs import RS_N


def check_nsym(nsym: int) -> int:
    """``nsym`` as an int in 1..254 (Reed-Solomon parity bytes per codeword)."""
    if isinstance(nsym, bool) or not isinstance(nsym, (int, np.integer)):
        raise UsageError(f"nsym must be an integer, got {type(nsym).__name__}")
    if not 1 <= int(nsym) <= RS_N - 1:
        raise UsageError(f"nsym must be between 1 and {RS_N - 1}, got {nsym}")
    return int(nsym)


def check_n_bits(n_bits: int) -> int:
    """``n_bits`` as an int >= 0 (a channel's size)."""
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise UsageError(f"n_bits must be an integer, got {type(n_bits).__name__}")
    if n_bits < 0:
        raise UsageError(f"n_bits must be >= 0, got {n_bits}")
    return int(n_bits)


def check_key(key: bytes | None) -> bytes | None:
    """A non-empty bytes key, or None."""
    if key is None:
        return None
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise UsageError(f"key must be bytes, got {type(key).__name__}")
    key = bytes(key)
    if not key:
        raise UsageError("key must not be empty")
    return key


def check_channel(bits: np.ndarray, reliability: np.ndarray | None):
    """-> (bits (n,) uint8 0/1, reliabilities (n,) float64 >= 0 or None)."""
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise UsageError(f"bits must be a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"bits must be numeric 0/1, got dtype {arr.dtype}")
    if arr.size and not np.all((arr == 0) | (arr == 1)):
        raise UsageError("bits must contain only 0 and 1")
    rel = None
    if reliability is not None:
        rel = np.asarray(reliability)
        if rel.shape != arr.shape:
            raise UsageError(f"reliability shape {rel.shape} does not match bits shape {arr.shape}")
        if rel.dtype.kind not in "biuf":
            raise UsageError(f"reliability must be numeric, got dtype {rel.dtype}")
        rel = rel.astype(np.float64)
        if rel.size and not (np.all(np.isfinite(rel)) and rel.min() >= 0):
            raise UsageError("reliability must be finite and >= 0")
    return arr.astype(np.uint8), rel

"""The exact frame: the compact, ternary-coded frame of the exact channels (magic ``SGN8``
for the pixel channel, ``SGN7`` for the jpeg channel).

An exact channel (an 8-bit PNG's samples, a JPEG's coefficients passed on unchanged) reads
back every value it wrote, so the frame needs no Reed-Solomon parity and no header
protection; the CRC32 or the AEAD tag still rejects anything that is not a stegnet frame
for this key. Against the
syndrome-coded frames of :mod:`stegnet.payload.container` (format version 4) this one is
shorter (13 header bytes instead of a 50-byte Reed-Solomon block; no parity; no nonce),
codes the body with +-1 as two layers (:mod:`stegnet.payload.ternary`), and its codes read
every position (:mod:`stegnet.payload.trellis`). The stream::

    header (13 bytes):  MAGIC(4) | flags(1) | length(4) | layer-2 bits m2 (4), big-endian
    body:   unkeyed: payload | CRC32(header + payload)
            keyed:   salt(16) | ChaCha20-Poly1305(payload, nonce 0, associated data =
                     header + salt) (+ 16-byte tag); the AEAD key is scrypt(key, salt), a
                     fresh key per frame, so the nonce need not vary

Layout over the ``n`` positions of a channel (values: ints, e.g. quantised DCT
coefficients), in the order of a key-seeded permutation (:func:`permutation`; public
without a key): the first ``104 * w_h`` positions carry the header, one binary syndrome
code over their parities (``w_h`` = :func:`header_width`, up to 64 positions per header
bit); all the others carry the body, whose first ``m2`` bits are the second-bit layer's
syndrome and the rest the parity layer's. Stream bits are XOR-ed with a keystream first.
Code heights come from the number of positions (:func:`stegnet.payload.trellis.height`),
so the extractor knows them.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from functools import lru_cache

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from stegnet.errors import (
    PayloadNotFound,
    PayloadTooLarge,
    StegnetError,
    UsageError,
    WrongKeyOrCorrupted,
)
from stegnet.payload import ternary, trellis
from stegnet.payload.checks import check_key
from stegnet.payload.scramble import SCRYPT, derive_seed

__all__ = ["HEADER_BITS", "capacity_bytes", "needed_bits", "permutation", "embed", "extract"]

_HEADER = struct.Struct(">4sBII")  # magic, flags, payload length, layer-2 bits
HEADER_BITS = 8 * _HEADER.size  # 104
HEADER_WIDTH = 64
"""Positions per header bit, at most (a quarter of the channel at least stays for the body)."""
FLAG_ENCRYPTED = 0x01
SALT_LEN = 16
TAG_LEN = 16
CRC_LEN = 4
_NONCE = bytes(12)
_CHUNK = 1 << 22
_NOT_FOUND = "no payload found (if it was hidden with a key, the same key is needed)"


def _overhead(keyed: bool) -> int:
    return SALT_LEN + TAG_LEN if keyed else CRC_LEN


def header_width(n: int) -> int:
    """Positions per header bit in a channel of ``n`` positions (0: too small)."""
    return int(min(HEADER_WIDTH, n // (4 * HEADER_BITS)))


def needed_bits(length: int, keyed: bool) -> int:
    """Stream bits of a frame with ``length`` payload bytes (header + body)."""
    return HEADER_BITS + 8 * (length + _overhead(keyed))


def capacity_bytes(n: int, keyed: bool) -> int:
    """Largest payload (bytes) a channel of ``n`` positions carries: the body stream takes
    at most one bit per body position (0 if not even the framing fits)."""
    width = header_width(n)
    if width < 1:
        return 0
    return max(0, (n - width * HEADER_BITS) // 8 - _overhead(keyed))


@lru_cache(maxsize=4)  # the embedder reads its own stego back
def permutation(seed: bytes, n: int) -> np.ndarray:
    """A permutation of ``range(n)`` (int32, int64 past 2^31) from a 32-byte seed: a 4-round
    (unbalanced) Feistel network over the smallest power-of-two domain that holds ``n``,
    cycle-walked into ``[0, n)`` (a value outside is enciphered again: fewer than 2 rounds
    of walking on average). The round function is MurmurHash3's 32-bit finaliser of the
    half and a round key. Pure integer arithmetic, so it never changes with a NumPy
    version; O(n), computed in chunks."""
    if n <= 1:
        return np.zeros(max(n, 0), dtype=np.int64)
    bits = max(2, (n - 1).bit_length())
    if bits > 62:
        raise ValueError("too many positions")
    wide = bits > 32
    kind = np.uint64 if wide else np.uint32
    low_bits = bits // 2
    high_bits = bits - low_bits
    keys = np.frombuffer(hashlib.shake_256(b"stegnet-perm-v7" + seed).digest(32), "<u4")

    def mix(v: np.ndarray, key: np.uint32) -> np.ndarray:  # murmur3 fmix32 of v ^ key
        z = (v.astype(np.uint32) ^ key)
        z ^= z >> np.uint32(16)
        z *= np.uint32(0x85EBCA6B)
        z ^= z >> np.uint32(13)
        z *= np.uint32(0xC2B2AE35)
        z ^= z >> np.uint32(16)
        return z.astype(kind)

    low_mask = kind((1 << low_bits) - 1)
    high_mask = kind((1 << high_bits) - 1)

    def rounds(v: np.ndarray) -> np.ndarray:
        high, low = v >> kind(low_bits), v & low_mask
        for r in range(4):  # alternate: the low half keys the high half, then back
            if r % 2 == 0:
                high = high ^ (mix(low, keys[r]) & high_mask)
            else:
                low = low ^ (mix(high, keys[r]) & low_mask)
        return (high << kind(low_bits)) | low

    out = np.empty(n, dtype=np.int64 if n > 2**31 else np.int32)
    for first in range(0, n, _CHUNK):  # in chunks: the rounds' temporaries stay small
        part = rounds(np.arange(first, min(n, first + _CHUNK), dtype=kind))
        outside = np.flatnonzero(part >= n)
        while outside.size:
            part[outside] = rounds(part[outside])
            outside = outside[part[outside] >= n]
        out[first : first + part.size] = part
    out.flags.writeable = False
    return out


def _keystream(seed: bytes, bits: int) -> np.ndarray:
    raw = hashlib.shake_256(b"stegnet-keystream-v5" + seed).digest((bits + 7) // 8)
    return np.unpackbits(np.frombuffer(raw, np.uint8))[:bits]


def _body(header: bytes, payload: bytes, key: bytes | None) -> bytes:
    if key is None:
        return payload + (zlib.crc32(header + payload) & 0xFFFFFFFF).to_bytes(CRC_LEN, "big")
    salt = os.urandom(SALT_LEN)
    aead = ChaCha20Poly1305(hashlib.scrypt(key, salt=salt, **SCRYPT))
    return salt + aead.encrypt(_NONCE, payload, header + salt)


def _check_fits(n: int, length: int, keyed: bool) -> None:
    if length <= capacity_bytes(n, keyed) and header_width(n) >= 1:
        return
    if capacity_bytes(n, keyed) == 0 and (header_width(n) < 1 or length > 0):
        raise PayloadTooLarge(f"the cover is too small to carry any payload (the "
                              f"{_overhead(keyed)}-byte framing alone needs "
                              f"{needed_bits(0, keyed)} stream bits)")
    raise PayloadTooLarge(f"payload is {length} bytes but the capacity is "
                          f"{capacity_bytes(n, keyed)} bytes")


def embed(values: np.ndarray, rho_plus: np.ndarray, rho_minus: np.ndarray, payload: bytes,
          key: bytes | None, magic: bytes) -> tuple[np.ndarray, dict]:
    """The +-1 changes (n,) int8 that make ``values`` (n,) int carry ``payload`` in a frame
    with ``magic``, cheapest under the costs of +1 / -1 (n,) float >= 0 (``inf``: not
    allowed), and a few facts about the coding (``layer2_bits``, ``frame_bits``).
    Raises PayloadTooLarge (stating the capacity), UsageError for bad arguments."""
    key = check_key(key)
    values = np.asarray(values).reshape(-1)
    n = values.size
    payload = bytes(payload)
    _check_fits(n, len(payload), key is not None)
    rho_plus = np.asarray(rho_plus, dtype=np.float32).reshape(-1)
    rho_minus = np.asarray(rho_minus, dtype=np.float32).reshape(-1)
    if rho_plus.shape != values.shape or rho_minus.shape != values.shape:
        raise UsageError("costs must be (n,) like the values")
    seed = derive_seed(key)
    order = permutation(seed, n)
    width = header_width(n)
    head, body_at = order[: width * HEADER_BITS], order[width * HEADER_BITS :]
    body_bits = 8 * (len(payload) + _overhead(key is not None))
    body = values[body_at], rho_plus[body_at], rho_minus[body_at]  # gathered once
    m2, layer2_costs = ternary.split(*body, body_bits)
    change = np.zeros(n, dtype=np.int8)
    h = trellis.height(body_at.size)
    for attempt in (m2, 0):  # two layers; if a layer's code has no solution, parity only
        header = _HEADER.pack(magic, 1 if key is not None else 0, len(payload), attempt)
        stream = np.unpackbits(np.frombuffer(header + _body(header, payload, key), np.uint8))
        stream ^= _keystream(seed, stream.size)
        body_change = ternary.embed(*body, stream[HEADER_BITS:], attempt, layer2_costs, h, h)
        if body_change is not None:
            m2 = attempt
            break
    else:  # pragma: no cover - parity alone fails only if whole code blocks are wet
        raise StegnetError("no syndrome-trellis solution; please report this")
    change[body_at] = body_change
    cheaper_up = rho_plus[head] <= rho_minus[head]
    rho_head = np.where(cheaper_up, rho_plus[head], rho_minus[head])
    parity = (values[head] & 1).astype(np.uint8)
    solved = trellis.embed(parity, rho_head, stream[:HEADER_BITS],
                           trellis.height(head.size))
    if solved is None:  # pragma: no cover - only if both directions of many are wet
        raise PayloadTooLarge("the cover has too few changeable positions for the header")
    flip = solved[0] != parity
    change[head[flip]] = np.where(cheaper_up[flip], 1, -1)
    return change, {"layer2_bits": int(m2), "frame_bits": int(stream.size),
                    "code_height": h}


def extract(values: np.ndarray, key: bytes | None, magic: bytes) -> bytes:
    """The payload of a frame with ``magic`` in ``values`` (n,) int; PayloadNotFound
    (no key) or WrongKeyOrCorrupted (a key, or a damaged / encrypted frame) otherwise."""
    key = check_key(key)
    keyed = key is not None
    values = np.asarray(values).reshape(-1)
    n = values.size
    width = header_width(n)
    missing = WrongKeyOrCorrupted("wrong key or corrupted payload") if keyed else \
        PayloadNotFound(_NOT_FOUND)
    if width < 1:
        raise missing
    seed = derive_seed(key)
    order = permutation(seed, n)
    head, body_at = order[: width * HEADER_BITS], order[width * HEADER_BITS :]
    keystream = _keystream(seed, HEADER_BITS)
    bits = trellis.syndrome(values[head] & 1, HEADER_BITS, trellis.height(head.size))
    header = np.packbits(bits ^ keystream).tobytes()
    found, flags, length, m2 = _HEADER.unpack(header)
    if found != magic:
        raise missing
    if flags & ~FLAG_ENCRYPTED:
        raise WrongKeyOrCorrupted("unsupported or corrupted payload header")
    if flags & FLAG_ENCRYPTED and not keyed:
        raise WrongKeyOrCorrupted("payload is encrypted: a key is needed")
    if keyed and not flags & FLAG_ENCRYPTED:
        raise missing
    body_bits = 8 * (length + _overhead(keyed))
    if length > capacity_bytes(n, keyed) or m2 >= body_bits:
        raise WrongKeyOrCorrupted("corrupted payload header (impossible length)")
    h = trellis.height(body_at.size)
    stream = ternary.read(values[body_at], m2, body_bits - m2, h, h)
    body = np.packbits(stream ^ _keystream(seed, HEADER_BITS + body_bits)[HEADER_BITS:])
    body = body.tobytes()
    if not keyed:
        payload, crc = body[:length], int.from_bytes(body[length:], "big")
        if zlib.crc32(header + payload) & 0xFFFFFFFF != crc:
            raise WrongKeyOrCorrupted("corrupted payload (checksum mismatch)")
        return payload
    salt = body[:SALT_LEN]
    aead = ChaCha20Poly1305(hashlib.scrypt(key, salt=salt, **SCRYPT))
    try:
        return aead.decrypt(_NONCE, body[SALT_LEN:], header + salt)
    except InvalidTag:
        raise WrongKeyOrCorrupted("wrong key or corrupted payload") from None

"""Payload container (format version 4): bytes <-> bits in a channel of sign bits.

A payload occupies only as many channel bits as it needs; every other position of the
channel carries nothing (the embedder leaves it as the cover has it).  Two layouts:

* **direct** (:func:`pack`, magic ``SGN2``): stream bit ``i`` is written into its own
  channel position; what full re-synthesis and robust hiding use (and format version 2).
* **syndrome-coded** (:func:`pack_syndrome`, magic ``SGN4``): the header stream is the
  syndrome of ``w_h`` channel bits per stream bit, the body stream that of ``w`` bits per
  stream bit (:func:`syndrome_widths`, syndrome-trellis codes, :mod:`stegnet.payload.stc`).
  Given the cover's bits and a cost per bit, the embedder flips only the cheapest few
  (~4 stream bits per flip at w = 2, ~5.4 at w = 8, instead of 2); a wrong channel bit
  spoils a few stream bits, which Reed-Solomon repairs.

* **pixel** (magic ``SGN5``, :data:`PIXEL`, :mod:`stegnet.adaptive`): syndrome-coded over
  the LSBs of the pixel samples, exact bits, so up to 128 channel bits per stream bit (64
  for the header) and a weak code; :func:`unpack` with ``layout=PIXEL`` reads only it.
* **jpeg** (``SGN6``, :data:`JPEG`): the same over a JPEG's AC coefficient parities.

:func:`unpack` tries the syndrome-coded header first, then version 3's (``SGN3``, code
lanes dealt round-robin, see :mod:`stegnet.payload.stc`), then the direct one. The stream::

    header block:  RS( MAGIC(4) | flags(1) | nsym(1) | length(4, big-endian) ) with 40
                   parity bytes -> 50 bytes = 400 bits, the same size for every payload
    body:          unkeyed: payload | CRC32(header + payload)
                   keyed:   salt(16) | nonce(12) | ChaCha20-Poly1305(payload,
                            associated data = header + salt + nonce) (+ 16-byte tag)
                   in C shortened Reed-Solomon codewords of d data + p parity bytes
                   (code rate (255 - nsym) / 255, see :func:`_body_layout`), interleaved

The magic carries the layout and format version; ``flags`` bit 0 marks an encrypted
frame; ``nsym`` is the parity per full codeword, so the extractor reads the header first
and then knows exactly which bits to decode (no trying of sizes or strengths).  In keyed
mode the AEAD key is ``scrypt(key, salt)``.

Stream bit ``i`` is XOR-ed with a keystream bit (whitening) and carried by channel position
``perm[i]`` (:mod:`stegnet.payload.scramble`): public without a key, key-secret with one,
so the extractor must know the key before it can read the header.

Reed-Solomon codewords, their shortening and byte interleaving: :mod:`stegnet.payload.rs`.
When a codeword fails and per-bit reliabilities are given, its least reliable bytes are
retried as erasures (GMD decoding).

Why this module is long: the frame format is one specification, so its writer and its
reader stay side by side, where a change to one is seen with the other (Reed-Solomon, the
scramblers and the argument checks already have their own modules).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from stegnet.errors import (
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    UsageError,
    WrongKeyOrCorrupted,
    more_telling,
)
from stegnet.payload import stc
from stegnet.payload.checks import check_channel as _check_channel
from stegnet.payload.checks import check_key as _check_key
from stegnet.payload.checks import check_n_bits as _check_n_bits
from stegnet.payload.checks import check_nsym as _check_nsym
from stegnet.payload.rs import RS_N
from stegnet.payload.rs import body_layout as _body_layout
from stegnet.payload.rs import decode_blocks as _decode_blocks
from stegnet.payload.rs import encode_blocks as _encode_blocks
from stegnet.payload.scramble import SCRYPT as _SCRYPT
from stegnet.payload.scramble import derive_seed as _derive_seed
from stegnet.payload.scramble import scramblers as _scramblers

__all__ = [
    "CODEWORD_BITS", "DEFAULT_NSYM", "MAGIC", "MAGIC_SYNDROME", "MAGIC_PIXEL", "MAGIC_JPEG",
    "RS_N", "HEADER_BITS", "JPEG", "LATENT", "PIXEL", "Layout", "capacity_bytes", "header_len",
    "needed_bits", "pack", "pack_syndrome", "syndrome_frame", "syndrome_widths", "unpack",
]

MAGIC = b"SGN2"
"""Frame magic of direct frames (format version 2, still written by :func:`pack`)."""

MAGIC_SYNDROME = b"SGN4"
"""Frame magic of syndrome-coded frames (format version 4, :func:`pack_syndrome`)."""

MAGIC_SYNDROME_V3 = b"SGN3"
"""Version 3: syndrome-coded with round-robin code lanes (:func:`stc.syndrome`); read only."""

STC_HEADER_WIDTH = 8
"""Channel bits per header stream bit of a syndrome-coded frame (fewer on small images)."""

STC_MAX_WIDTH = 2  # channel bits per body stream bit, at most
STC_MAX_SHARE = 0.3
"""Body columns take at most this share of the channel: a code reads every column, and
near-zero latents next to a change tip over (w = 32 did not settle; w <= 2 does)."""

MAGIC_PIXEL = b"SGN5"
"""Syndrome-coded frames in the pixel samples' least significant bits (:mod:`stegnet.adaptive`)."""
MAGIC_JPEG = b"SGN6"
"""Syndrome-coded frames in a JPEG's AC coefficient parities (:mod:`stegnet.channels.jpeg`)."""

STC_WORK = 2**27
"""Trellis work (columns x states) a code's height keeps within, where it can (~0.4 s)."""

@dataclass(frozen=True)
class Layout:
    """How a syndrome-coded frame spreads over a channel: its magic, the most channel bits
    per body stream bit (``max_width``), the share of the channel the body may take, the
    fewest channel bits per body stream bit worth a code (``min_width``; below it
    :func:`syndrome_frame` returns None) and the most per header stream bit (the header
    takes at most a quarter of the channel)."""

    magic: bytes
    max_width: int
    max_share: float
    min_width: int
    header_width: int = STC_HEADER_WIDTH
    max_height: int = stc.HEIGHT
    min_height: int = stc.HEIGHT

    def height(self, columns: int) -> int:
        """The code's constraint height for a part of ``columns`` channel bits: the largest
        within ``min_height .. max_height`` whose trellis (``columns * 2^h`` steps) stays
        within :data:`STC_WORK`. A taller code needs fewer changes (~6 % fewer at h = 9
        than at 7 on 256 px covers) but each step of h doubles the time and the memory."""
        h = self.min_height
        while h < self.max_height and columns << (h + 1) <= STC_WORK:
            h += 1
        return h


LATENT = Layout(MAGIC_SYNDROME, STC_MAX_WIDTH, STC_MAX_SHARE, 2)
"""The colour flow's latent signs (sparse embedding): noisy bits, narrow codes."""

PIXEL = Layout(MAGIC_PIXEL, 128, 1.0, 1, 64, 9, 4)
"""Pixel samples' LSBs (adaptive embedding): exact bits, a code as wide as the image allows
(up to 128 samples per stream bit: wider codes need fewer changes but take longer), 2^4 to
2^9 trellis states (7 at 512 x 512 px; 4 for a 24 MP photo at capacity)."""
JPEG = Layout(MAGIC_JPEG, 128, 1.0, 1, 64, 9, 4)
"""A JPEG's AC coefficient parities: exact bits like :data:`PIXEL`, the same code shapes."""
_EXACT = {MAGIC_PIXEL: PIXEL, MAGIC_JPEG: JPEG}  # magic -> layout of the exact channels
LEGACY_HEIGHTS = {MAGIC_PIXEL: (dataclasses.replace(PIXEL, min_height=7, max_height=7),
                                dataclasses.replace(PIXEL, min_height=7))}
"""Earlier code-height rules of pixel frames, still read: the first pixel frames used
height 7 throughout; then 7 to 9 (never below 7) before huge frames went down to 4."""

CODEWORD_BITS = 8 * RS_N
"""Channel bits per codeword (2040)."""

DEFAULT_NSYM = 160
"""Default Reed-Solomon parity bytes per 255-byte codeword (code rate 95/255) for the
colour flow's channel: at 3% independent bit errors a codeword sees ~56 +- 7 byte errors,
which 160 parity bytes (80 errors) decode without reliabilities (~3.5% BER with them;
96 parity bytes hold ~1.5%). Byte-wise RS cannot reach 5-10% BER at any rate."""

FLAG_ENCRYPTED = 0x01
_KNOWN_FLAGS = FLAG_ENCRYPTED

_HEADER = struct.Struct(">4sBBI")  # magic, flags, nsym, payload length
HEADER_LEN = _HEADER.size  # 10
HEADER_PARITY = 40
"""Parity bytes of the header block: it decodes with up to 20 of its 50 bytes wrong."""
HEADER_BITS = 8 * (HEADER_LEN + HEADER_PARITY)  # 400
SALT_LEN = 16
NONCE_LEN = 12
TAG_LEN = 16
CRC_LEN = 4
_MAX_LENGTH = 2**32 - 1


_NOT_FOUND_MSG = "no payload found (if it was hidden with a key, the same key is needed)"
_ENCRYPTED_MSG = "payload is encrypted: a key is needed"

# ---------------------------------------------------------------------------- public API


def header_len(keyed: bool) -> int:
    """Bytes of framing before the payload: 10 (header), 38 keyed (+ salt and nonce)."""
    return HEADER_LEN + (SALT_LEN + NONCE_LEN if keyed else 0)


def _overhead(keyed: bool) -> int:
    return header_len(keyed) + (TAG_LEN if keyed else CRC_LEN)


def needed_bits(length: int, keyed: bool, nsym: int = DEFAULT_NSYM) -> int:
    """Channel bits a payload of ``length`` bytes occupies (header block + body)."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
        raise UsageError(f"length must be an integer >= 0, got {length!r}")
    body = length + _overhead(keyed) - HEADER_LEN
    n_cw, d, p = _body_layout(body, _check_nsym(nsym))
    return HEADER_BITS + 8 * n_cw * (d + p)


def capacity_bytes(n_bits: int, keyed: bool, nsym: int = DEFAULT_NSYM,
                   layout: Layout | None = None) -> int:
    """Largest payload in bytes that fits in ``n_bits`` channel bits (0 if none fits).

    ``layout``: :data:`PIXEL` for a frame that must be syndrome-coded in that layout (its
    wider header code takes more of the channel); None for the direct or latent frames.
    Use :func:`pack` with an empty payload to tell "exactly 0" from "nothing fits": the
    latter raises :class:`PayloadTooLarge`.
    """
    n_bits = _usable_bits(_check_n_bits(n_bits), layout)
    nsym = _check_nsym(nsym)
    keyed = bool(keyed)
    if n_bits < needed_bits(0, keyed, nsym):
        return 0
    room = (n_bits - HEADER_BITS) // 8  # body bytes
    guess = room * (RS_N - nsym) // RS_N - _overhead(keyed) + HEADER_LEN + 2
    guess = max(0, min(guess, _MAX_LENGTH))
    while guess > 0 and needed_bits(guess, keyed, nsym) > n_bits:
        guess -= 1
    return guess


def _usable_bits(n_bits: int, layout: Layout | None) -> int:
    """Channel bits that count towards :func:`needed_bits` in a layout (the header code's
    extra columns taken off)."""
    if layout is None:
        return n_bits
    return max(0, n_bits - (syndrome_widths(n_bits, 1, layout)[0] - 1) * HEADER_BITS)


def syndrome_widths(n_bits: int, body_bits: int,
                    layout: Layout = LATENT) -> tuple[int, int]:
    """(channel bits per header stream bit, per body stream bit) of a syndrome-coded frame
    with ``body_bits`` body stream bits in a channel of ``n_bits`` (the second is below 2
    when the frame is too large to gain from the code: use :func:`pack` then). Header
    columns come first, then body columns, in stream order."""
    header_w = max(1, min(layout.header_width, n_bits // (4 * HEADER_BITS)))
    rest = min(n_bits - header_w * HEADER_BITS, int(layout.max_share * n_bits))
    body_w = min(layout.max_width, rest // body_bits) if body_bits and rest > 0 else 0
    return header_w, body_w


def _build_frame(payload: bytes, key: bytes | None, nsym: int,
                 magic: bytes = MAGIC) -> tuple[bytes, bytes]:
    """-> (header (10 bytes), body) for a payload."""
    flags = FLAG_ENCRYPTED if key is not None else 0
    header = _HEADER.pack(magic, flags, nsym, len(payload))
    if key is None:
        crc = zlib.crc32(header + payload) & 0xFFFFFFFF
        return header, payload + crc.to_bytes(CRC_LEN, "big")
    salt = os.urandom(SALT_LEN)
    nonce = os.urandom(NONCE_LEN)
    aead_key = hashlib.scrypt(key, salt=salt, **_SCRYPT)
    sealed = ChaCha20Poly1305(aead_key).encrypt(nonce, payload, header + salt + nonce)
    return header, salt + nonce + sealed


def pack(
    payload: bytes, n_bits: int, key: bytes | None = None, nsym: int = DEFAULT_NSYM
) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``payload`` for a channel of ``n_bits`` bits.

    Args:
        payload: the bytes to hide.
        n_bits: number of channel bits (one per latent sign).
        key: optional secret; encrypts and authenticates the payload and decides which
            channel positions carry the frame.
        nsym: Reed-Solomon parity bytes per full 255-byte codeword (stored in the header).

    Returns:
        ``(positions, bits)``: int64 channel positions (m,) in ``[0, n_bits)``, distinct,
        and the uint8 0/1 bit (m,) each must carry, ``m = needed_bits(len(payload), ...)``.
        The other channel positions carry nothing (the embedder leaves them as they are).

    Raises:
        PayloadTooLarge: the payload exceeds ``capacity_bytes(n_bits, key is not None,
            nsym)`` (the message states the capacity in bytes).
        UsageError: bad argument types or values.
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise UsageError(f"payload must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    n_bits = _check_n_bits(n_bits)
    nsym = _check_nsym(nsym)
    key = _check_key(key)
    _check_fits(payload, n_bits, key is not None, nsym)
    stream = _stream(payload, key, nsym, MAGIC)
    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    m = stream.size
    return perm[:m].astype(np.int64), (stream ^ keystream[:m]).astype(np.uint8)


def pack_syndrome(
    payload: bytes, cover_bits: np.ndarray, costs: np.ndarray, key: bytes | None = None,
    nsym: int = DEFAULT_NSYM,
) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``payload`` as syndromes of the channel bits, changing the cheapest ones.

    Args:
        payload, key, nsym: as for :func:`pack` (the same capacity applies).
        cover_bits: (n_bits,) 0/1, what every channel position holds before embedding.
        costs: (n_bits,) finite, >= 0: the cost of flipping each position.

    Returns:
        ``(positions, bits)``: every channel position the frame reads (int64, distinct) and
        the 0/1 bit each must hold; where it differs from ``cover_bits``, a flip to make.
        A frame too large to gain from the code is packed directly (:func:`pack`).

    Raises:
        PayloadTooLarge, UsageError: as :func:`pack`.
    """
    cover_bits, costs = np.asarray(cover_bits), np.asarray(costs, dtype=np.float64)
    if cover_bits.ndim != 1 or costs.shape != cover_bits.shape:
        raise UsageError("cover_bits and costs must be 1-D arrays of the same length")
    if costs.size and not (np.all(np.isfinite(costs)) and costs.min() >= 0):
        raise UsageError("costs must be finite and >= 0")
    frame = syndrome_frame(payload, cover_bits.size, key, nsym)
    if frame is None:
        return pack(payload, cover_bits.size, key, nsym)
    return frame.positions, frame.solve(cover_bits, costs).astype(np.uint8)


def syndrome_frame(payload: bytes, n_bits: int, key: bytes | None = None,
                   nsym: int = DEFAULT_NSYM, layout: Layout | None = None) -> stc.Frame | None:
    """The syndrome-coded frame of ``payload`` in a channel of ``n_bits`` (see
    :func:`pack_syndrome`, which solves it once), or None when the frame is too large to
    gain from the code (decided before any framing work: use :func:`pack`; never for
    :data:`PIXEL`, whose capacity already requires the code). Raises as :func:`pack`."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise UsageError(f"payload must be bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    n_bits, nsym, key = _check_n_bits(n_bits), _check_nsym(nsym), _check_key(key)
    layout = layout or LATENT
    _check_fits(payload, n_bits, key is not None, nsym, None if layout is LATENT else layout)
    header_w, body_w = syndrome_widths(n_bits, needed_bits(len(payload), key is not None, nsym)
                                       - HEADER_BITS, layout)
    if body_w < layout.min_width:
        return None
    stream = _stream(payload, key, nsym, layout.magic)
    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    message = (stream ^ keystream[: stream.size]).astype(np.uint8)
    first_body = HEADER_BITS * header_w
    body_columns = (stream.size - HEADER_BITS) * body_w
    return stc.Frame([
        (perm[:first_body].astype(np.int64), message[:HEADER_BITS], header_w,
         layout.height(first_body)),
        (perm[first_body : first_body + body_columns].astype(np.int64),
         message[HEADER_BITS:], body_w, layout.height(body_columns)),
    ])


def _check_fits(payload: bytes, n_bits: int, keyed: bool, nsym: int,
                layout: Layout | None = None) -> None:
    """PayloadTooLarge (stating the capacity) unless the payload fits the channel."""
    usable = _usable_bits(n_bits, layout)
    if len(payload) <= _MAX_LENGTH and needed_bits(len(payload), keyed, nsym) <= usable:
        return
    if usable < needed_bits(0, keyed, nsym):
        raise PayloadTooLarge(
            f"the cover is too small to carry any payload (the {_overhead(keyed)}-byte "
            f"framing alone needs {needed_bits(0, keyed, nsym)} channel bits, it has "
            f"{n_bits})"
        )
    cap = capacity_bytes(n_bits, keyed, nsym, layout)
    raise PayloadTooLarge(f"payload is {len(payload)} bytes but the capacity is {cap} bytes")


def _stream(payload: bytes, key: bytes | None, nsym: int, magic: bytes) -> np.ndarray:
    """The frame's stream bits (header block, then the body codewords), not whitened."""
    header, body = _build_frame(payload, key, nsym, magic)
    header_block = _encode_blocks(header, 1, HEADER_LEN, HEADER_PARITY)
    n_cw, d, p = _body_layout(len(body), nsym)
    body = body + os.urandom(n_cw * d - len(body))
    return np.unpackbits(np.concatenate([header_block, _encode_blocks(body, n_cw, d, p)]))


def _not_found(keyed: bool, message: str | None = None) -> PayloadError:
    if keyed:
        return WrongKeyOrCorrupted(message or "wrong key or corrupted payload")
    return PayloadNotFound(message or _NOT_FOUND_MSG)


def _read(arr: np.ndarray, rel: np.ndarray | None, perm: np.ndarray, keystream: np.ndarray,
          start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Stream bytes [start, stop) and their reliabilities (the least reliable of 8 bits)."""
    sel = perm[8 * start : 8 * stop]
    data = np.packbits(arr[sel] ^ keystream[8 * start : 8 * stop])
    byte_rel = None if rel is None else rel[sel].reshape(-1, 8).min(axis=1)
    return data, byte_rel


def _read_syndrome(arr: np.ndarray, perm: np.ndarray, keystream: np.ndarray, start: int,
                   count: int, magic: bytes = MAGIC_SYNDROME,
                   layout: Layout | None = None) -> np.ndarray:
    """Stream bytes of a syndrome-coded frame: the header (``start`` 0, ``count``
    HEADER_BITS) or the body (``start`` HEADER_BITS, ``count`` its stream bits)."""
    layout = layout if layout is not None else _EXACT.get(magic, LATENT)
    header_w, body_w = syndrome_widths(arr.size, count if start else 1, layout)
    width = body_w if start else header_w
    first = start * header_w
    columns = perm[first : first + count * width]
    message = stc.syndrome(arr[columns], count, width, layout.height(columns.size),
                           interleaved=magic == MAGIC_SYNDROME_V3)
    return np.packbits(message ^ keystream[start : start + count])


def _find_header(arr: np.ndarray, rel: np.ndarray | None, perm: np.ndarray,
                 keystream: np.ndarray, keyed: bool,
                 layout: Layout = LATENT) -> tuple[bytes, bytes]:
    """-> (the frame's magic, its decoded 10-byte header); tries the syndrome-coded layouts
    first, then the direct one (PIXEL, JPEG: only its own). Raises PayloadNotFound /
    WrongKeyOrCorrupted if none."""
    damaged = False
    exact = layout.magic in _EXACT
    magics = (layout.magic,) if exact else (MAGIC_SYNDROME, MAGIC_SYNDROME_V3)
    if arr.size >= HEADER_BITS * syndrome_widths(arr.size, 1, layout)[0]:
        for magic in magics:
            stream = _read_syndrome(arr, perm, keystream, 0, HEADER_BITS, magic,
                                    layout if exact else None)
            header = _decode_blocks(stream, None, 1, HEADER_LEN, HEADER_PARITY)
            if header is not None and header[: len(MAGIC)] == magic:
                return magic, header
            damaged |= header is None and stream[: len(MAGIC)].tobytes() == magic
    if exact:
        if damaged and not keyed:
            raise WrongKeyOrCorrupted("payload found but too damaged to recover")
        raise _not_found(keyed)
    stream, byte_rel = _read(arr, rel, perm, keystream, 0, HEADER_BITS // 8)
    header = _decode_blocks(stream, byte_rel, 1, HEADER_LEN, HEADER_PARITY)
    if header is not None and header[: len(MAGIC)] == MAGIC:
        return MAGIC, header
    damaged |= header is None and stream[: len(MAGIC)].tobytes() == MAGIC
    if damaged and not keyed:
        raise WrongKeyOrCorrupted("payload found but too damaged to recover")
    raise _not_found(keyed)


def unpack(
    bits: np.ndarray,
    reliability: np.ndarray | None = None,
    key: bytes | None = None,
    layout: Layout = LATENT,
) -> bytes:
    """Recover the payload from all the channel bits (those that carry nothing included).

    Args:
        bits: (n_bits,) array of 0/1 as read from the channel.
        reliability: optional (n_bits,) array of per-bit reliabilities (finite, >= 0,
            larger = more reliable, e.g. ``|z|``); enables erasure decoding.
        key: the key used by :func:`pack`, or None.
        layout: :data:`PIXEL` / :data:`JPEG` read only their frames; :data:`LATENT` the
            latent syndrome-coded and direct ones. Pixel frames of earlier code-height
            rules (:data:`LEGACY_HEIGHTS`) are tried after today's.

    Returns:
        The payload; only returned after its CRC32 (unkeyed) or AEAD tag (keyed) checked.

    Raises:
        PayloadNotFound: no key given and no stegnet frame decodes.
        WrongKeyOrCorrupted: a key is given and decoding or authentication fails; or no key
            is given and a frame is found but damaged beyond repair or encrypted.
        UsageError: malformed arguments (shape, values, types).
    """
    key = _check_key(key)
    arr, rel = _check_channel(bits, reliability)
    failure: PayloadError | None = None
    for variant in (layout, *LEGACY_HEIGHTS.get(layout.magic, ())):
        try:
            return _unpack(arr, rel, key, variant)
        except PayloadError as error:
            failure = more_telling(failure, error)
    assert failure is not None
    raise failure


def _unpack(arr: np.ndarray, rel: np.ndarray | None, key: bytes | None,
            layout: Layout) -> bytes:
    """:func:`unpack` with one layout (checked arguments)."""
    keyed = key is not None
    n_bits = arr.size
    if n_bits < HEADER_BITS:
        raise _not_found(keyed)
    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    magic, header = _find_header(arr, rel, perm, keystream, keyed, layout)
    _magic, flags, nsym, length = _HEADER.unpack(header)
    if flags & ~_KNOWN_FLAGS or not 1 <= nsym <= RS_N - 1:
        raise WrongKeyOrCorrupted("unsupported or corrupted payload header")
    encrypted = bool(flags & FLAG_ENCRYPTED)
    if encrypted and not keyed:
        raise WrongKeyOrCorrupted(_ENCRYPTED_MSG)
    if keyed and not encrypted:
        raise WrongKeyOrCorrupted()
    if needed_bits(length, keyed, nsym) > _usable_bits(n_bits, None if layout is LATENT
                                                        else layout):
        raise WrongKeyOrCorrupted("corrupted payload header (impossible length)")
    body_len = length + _overhead(keyed) - HEADER_LEN
    n_cw, d, p = _body_layout(body_len, nsym)
    head_bytes, body_bytes = HEADER_BITS // 8, n_cw * (d + p)
    if magic != MAGIC:
        if syndrome_widths(n_bits, 8 * body_bytes, layout)[1] < layout.min_width:
            raise WrongKeyOrCorrupted("corrupted payload header (impossible length)")
        stream = _read_syndrome(arr, perm, keystream, HEADER_BITS, 8 * body_bytes, magic,
                                layout if layout.magic in _EXACT else None)
        byte_rel = None
    else:
        stream, byte_rel = _read(arr, rel, perm, keystream, head_bytes,
                                 head_bytes + body_bytes)
    body = _decode_blocks(stream, byte_rel, n_cw, d, p)
    if body is None:
        raise WrongKeyOrCorrupted("payload too damaged to recover")
    body = body[:body_len]
    if not keyed:
        payload = body[:length]
        crc = int.from_bytes(body[length:], "big")
        if zlib.crc32(header + payload) & 0xFFFFFFFF != crc:
            raise WrongKeyOrCorrupted("corrupted payload (checksum mismatch)")
        return payload
    salt, nonce = body[:SALT_LEN], body[SALT_LEN : SALT_LEN + NONCE_LEN]
    aead_key = hashlib.scrypt(key, salt=salt, **_SCRYPT)
    try:
        return ChaCha20Poly1305(aead_key).decrypt(nonce, body[SALT_LEN + NONCE_LEN :],
                                                  header + salt + nonce)
    except InvalidTag:
        raise WrongKeyOrCorrupted() from None

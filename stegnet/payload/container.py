"""Payload container (format version 2): bytes <-> bits at a few channel positions.

A payload occupies only as many channel bits as it needs; every other position of the
channel carries nothing (the embedder leaves it as the cover has it).  The stream is::

    header block:  RS( MAGIC(4) | flags(1) | nsym(1) | length(4, big-endian) ) with 40
                   parity bytes -> 50 bytes = 400 bits, the same size for every payload
    body:          unkeyed: payload | CRC32(header + payload)
                   keyed:   salt(16) | nonce(12) | ChaCha20-Poly1305(payload,
                            associated data = header + salt + nonce) (+ 16-byte tag)
                   in C shortened Reed-Solomon codewords of d data + p parity bytes
                   (code rate (255 - nsym) / 255, see :func:`_body_layout`), interleaved

``MAGIC`` (``b"SGN2"``) carries the format version; ``flags`` bit 0 marks an encrypted
frame; ``nsym`` is the parity per full codeword, so the extractor reads the header first
and then knows exactly which bits to decode (no trying of sizes or strengths).  In keyed
mode the AEAD key is ``scrypt(key, salt)``.

Codewords are byte-for-byte those of ``reedsolo.RSCodec(p)`` (GF(2^8) with primitive
polynomial 0x11d, generator 2, first consecutive root 0); shortened ones are encoded and
decoded as full 255-byte codewords with a known zero prefix that is not transmitted.  Data
byte ``i`` goes to codeword ``i % C`` and channel byte ``j * C + c`` is byte ``j`` of
codeword ``c``, so bursts spread over codewords.

Stream bit ``i`` is XOR-ed with a keystream bit (whitening) and carried by channel position
``perm[i]``, ``perm`` a permutation of all channel positions.  Both depend on a seed that is
public (derived from ``b"stegnet-public"``) without a key, and derived from the key by
scrypt with a fixed application salt with one: the positions are key-secret, and the
extractor must know them before it can read the header.  The keystream and the permutation
are built from the raw PCG64 output only (not from ``Generator`` methods, whose streams
NumPy does not promise to keep across versions), so images stay readable after a NumPy
upgrade.

Reed-Solomon coding is done here with NumPy, batched over codewords (pure-Python
``reedsolo`` takes ~13 ms per noisy codeword).  Decoding is errors-and-erasures
Berlekamp-Massey + Chien search + Forney; a codeword is accepted only when all its syndromes
are zero after correction.  When plain decoding of a codeword fails and per-bit
reliabilities are given, the decoder retries with the least reliable bytes of that codeword
marked as erasures (generalised-minimum-distance decoding), each erasure costing one parity
byte instead of two.
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
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    UsageError,
    WrongKeyOrCorrupted,
)

__all__ = [
    "CODEWORD_BITS",
    "DEFAULT_NSYM",
    "MAGIC",
    "RS_N",
    "HEADER_BITS",
    "capacity_bytes",
    "header_len",
    "needed_bits",
    "pack",
    "unpack",
]

MAGIC = b"SGN2"
"""Frame magic; the trailing digit is the format version."""

RS_N = 255
"""Bytes per Reed-Solomon codeword."""

CODEWORD_BITS = 8 * RS_N
"""Channel bits per codeword (2040)."""

DEFAULT_NSYM = 160
"""Default Reed-Solomon parity bytes per 255-byte codeword (code rate 95/255).

Independent bit errors hit a byte with probability ~8x the bit error rate, so at 3% BER a
codeword sees ~56 +- 7 byte errors: 160 parity bytes (80 errors) decode that without
reliabilities, and up to ~3.5% BER with reliability-guided erasures.  96 parity bytes
(48 errors) only hold up to ~1.5% BER (~2% with reliabilities).  Measured on a simulated
Gaussian-latent channel (sign of N(0, 1) plus noise, reliability |z|, 196 codewords).
Byte-wise RS cannot reach 5-10% BER at any rate; that needs an inner bit-level code.
"""

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

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_POSITIONS_SALT = b"stegnet-positions-v2"
_PUBLIC_SEED = hashlib.sha256(b"stegnet-public").digest()

_NOT_FOUND_MSG = "no payload found (if it was hidden with a key, the same key is needed)"
_ENCRYPTED_MSG = "payload is encrypted: a key is needed"


# --------------------------------------------------------------------------------------
# GF(2^8) arithmetic and batched Reed-Solomon coding (reedsolo-compatible codewords)
# --------------------------------------------------------------------------------------

_PRIM = 0x11D


def _build_gf_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (exp[510], log[256], flat multiplication table[65536], inverse[256])."""
    exp = np.zeros(510, dtype=np.uint8)
    log = np.zeros(256, dtype=np.int64)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= _PRIM
    exp[255:] = exp[:255]
    mul = exp[(log[:, None] + log[None, :]) % 255]
    mul[0, :] = 0
    mul[:, 0] = 0
    inv = np.zeros(256, dtype=np.uint8)
    inv[1:] = exp[(255 - log[1:]) % 255]
    return exp, log, np.ascontiguousarray(mul.reshape(-1)), inv


_EXP, _LOG, _MUL, _INV = _build_gf_tables()


def _gmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise (broadcasting) product in GF(2^8) of uint8 arrays."""
    return _MUL[(a.astype(np.intp) << 8) | b]


def _alpha_pow(e: np.ndarray | int) -> np.ndarray:
    """alpha ** e for integer exponent(s) (any sign)."""
    return _EXP[np.mod(e, 255)]


@lru_cache(maxsize=16)
def _generator_poly(nsym: int) -> np.ndarray:
    """prod_{i<nsym} (x - alpha^i), coefficients highest degree first (monic)."""
    g = np.array([1], dtype=np.uint8)
    for i in range(nsym):
        root = _alpha_pow(i)
        nxt = np.zeros(len(g) + 1, dtype=np.uint8)
        nxt[:-1] = g
        nxt[1:] ^= _gmul(g, root)
        g = nxt
    return g


@lru_cache(maxsize=16)
def _chien_powers(nsym: int) -> np.ndarray:
    """table[i, j] = x_j ** i with x_j = alpha^-(254 - j), the inverse locator of byte j."""
    i = np.arange(nsym + 1)[:, None]
    j = np.arange(RS_N)[None, :]
    return _alpha_pow(i * (j + 1))


def _rs_encode(msgs: np.ndarray, nsym: int) -> np.ndarray:
    """Systematic RS encoding of (C, 255 - nsym) uint8 messages -> (C, 255) codewords."""
    gen_tail = _generator_poly(nsym)[1:][None, :]
    rem = np.zeros((msgs.shape[0], nsym), dtype=np.uint8)
    for j in range(msgs.shape[1]):
        feedback = msgs[:, j] ^ rem[:, 0]
        rem[:, :-1] = rem[:, 1:]
        rem[:, -1] = 0
        rem ^= _gmul(feedback[:, None], gen_tail)
    return np.concatenate([msgs, rem], axis=1)


def _rs_syndromes(cws: np.ndarray, nsym: int) -> np.ndarray:
    """(C, 255) codewords -> (C, nsym) syndromes S_i = c(alpha^i) (Horner over bytes)."""
    alphas = _alpha_pow(np.arange(nsym))[None, :]
    synd = np.zeros((cws.shape[0], nsym), dtype=np.uint8)
    for j in range(cws.shape[1]):
        synd = _gmul(synd, alphas) ^ cws[:, j : j + 1]
    return synd


def _poly_mul_trunc(a: np.ndarray, b: np.ndarray, length: int) -> np.ndarray:
    """Row-wise product of ascending-coefficient polynomials, truncated to `length` terms."""
    out = np.zeros((a.shape[0], length), dtype=np.uint8)
    for i in range(min(a.shape[1], length)):
        coef = a[:, i : i + 1]
        if not coef.any():
            continue
        width = min(b.shape[1], length - i)
        out[:, i : i + width] ^= _gmul(coef, b[:, :width])
    return out


def _rs_decode(
    cws: np.ndarray, nsym: int, erase_pos: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Errors-and-erasures decoding of a batch of codewords.

    Args:
        cws: (C, 255) uint8 received codewords.
        nsym: parity bytes per codeword.
        erase_pos: optional (C, E) byte indices to treat as erasures, -1 for "none".

    Returns:
        (corrected codewords, ok) where ok[c] is True only if codeword c now has all
        syndromes zero and the correction was within the code's guaranteed radius
        (2 * errors + erasures <= nsym).  Rows with ok False are returned unchanged.
    """
    cws = np.asarray(cws, dtype=np.uint8)
    n_cw = cws.shape[0]
    out = cws.copy()
    ok = np.zeros(n_cw, dtype=bool)
    if n_cw == 0:
        return out, ok
    synd = _rs_syndromes(cws, nsym)
    dirty = synd.any(axis=1)
    ok[~dirty] = True
    if erase_pos is not None:
        erase_pos = np.asarray(erase_pos, dtype=np.int64).reshape(n_cw, -1)
    if not dirty.any():
        return out, ok
    rows = np.flatnonzero(dirty)
    s = synd[rows]
    c = len(rows)
    plen = nsym + 1

    # Erasure locator Gamma(x) = prod (1 - X_k x), X_k = alpha^(254 - pos_k); ascending.
    gamma = np.zeros((c, plen), dtype=np.uint8)
    gamma[:, 0] = 1
    rho = np.zeros(c, dtype=np.int64)
    if erase_pos is not None and erase_pos.shape[1]:
        ep = erase_pos[rows]
        for slot in range(ep.shape[1]):
            pos = ep[:, slot]
            valid = (pos >= 0) & (pos < RS_N) & (rho < nsym)
            if not valid.any():
                continue
            x_k = _alpha_pow(RS_N - 1 - np.where(valid, pos, 0))[:, None]
            shifted = np.zeros_like(gamma)
            shifted[:, 1:] = _gmul(gamma[:, :-1], x_k)
            gamma = np.where(valid[:, None], gamma ^ shifted, gamma)
            rho += valid
    # Forney syndromes: T_j = (Gamma * S)_{j + rho}, j < nsym - rho.
    xi = _poly_mul_trunc(gamma, s, nsym)
    idx = np.arange(nsym)[None, :] + rho[:, None]
    t_len = nsym - rho
    t = np.where(idx < nsym, np.take_along_axis(xi, np.minimum(idx, nsym - 1), axis=1), 0)
    t = t.astype(np.uint8)

    # Berlekamp-Massey on T (errors only), batched; rows freeze once r >= len(T).
    sigma = np.zeros((c, plen), dtype=np.uint8)
    sigma[:, 0] = 1
    b = sigma.copy()
    big_l = np.zeros(c, dtype=np.int64)
    for r in range(int(t_len.max())):
        active = r < t_len
        k = min(r + 1, plen)
        delta = np.bitwise_xor.reduce(_gmul(sigma[:, :k], t[:, r::-1][:, :k]), axis=1)
        xb = np.zeros_like(b)
        xb[:, 1:] = b[:, :-1]
        nz = active & (delta != 0)
        grow = nz & (2 * big_l <= r)
        new_sigma = sigma ^ _gmul(delta[:, None], xb)
        b = np.where(grow[:, None], _gmul(sigma, _INV[delta][:, None]), xb)
        sigma = np.where(nz[:, None], new_sigma, sigma)
        big_l = np.where(grow, r + 1 - big_l, big_l)

    # Errata locator Psi = sigma * Gamma, evaluator Omega = S * Psi mod x^nsym.
    psi = _poly_mul_trunc(sigma, gamma, plen)
    nonzero = psi != 0
    deg = plen - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    feasible = (2 * big_l + rho <= nsym) & (deg == big_l + rho)
    omega = _poly_mul_trunc(s, psi, nsym)

    # Chien search + Forney over all 255 byte positions.
    powers = _chien_powers(nsym)
    psi_val = np.zeros((c, RS_N), dtype=np.uint8)
    dpsi_val = np.zeros((c, RS_N), dtype=np.uint8)
    om_val = np.zeros((c, RS_N), dtype=np.uint8)
    for i in range(int(deg.max()) + 1):
        term = psi[:, i : i + 1]
        if term.any():
            psi_val ^= _gmul(term, powers[i][None, :])
            if i % 2 == 1:
                dpsi_val ^= _gmul(term, powers[i - 1][None, :])
        if i < nsym:
            oterm = omega[:, i : i + 1]
            if oterm.any():
                om_val ^= _gmul(oterm, powers[i][None, :])
    roots = psi_val == 0
    feasible &= roots.sum(axis=1) == deg
    feasible &= ~(roots & (dpsi_val == 0)).any(axis=1)
    x_big = _alpha_pow(RS_N - 1 - np.arange(RS_N))[None, :]
    magnitude = _gmul(x_big, _gmul(om_val, _INV[dpsi_val]))
    fixed = cws[rows] ^ np.where(roots, magnitude, 0).astype(np.uint8)

    cand = np.flatnonzero(feasible)
    if len(cand):
        clean = ~_rs_syndromes(fixed[cand], nsym).any(axis=1)
        good = cand[clean]
        out[rows[good]] = fixed[good]
        ok[rows[good]] = True
    return out, ok


def _erasure_schedule(nsym: int) -> list[int]:
    """Erasure counts tried, in increasing order, for codewords that failed plain decoding."""
    counts = {max(1, (nsym * f) // 16) for f in (4, 8, 10, 12, 13, 14, 15, 16)}
    return sorted(counts)


# --------------------------------------------------------------------------------------
# Whitening and bit-position permutation
# --------------------------------------------------------------------------------------


def _derive_seed(key: bytes | None) -> bytes:
    if key is None:
        return _PUBLIC_SEED
    return hashlib.scrypt(key, salt=_POSITIONS_SALT, **_SCRYPT)


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


def _scramblers(seed: bytes, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (channel positions in stream order: a permutation of range(n_bits), keystream
    bits (n_bits,) uint8) for a seed.  Stream bit ``i`` is carried by channel position
    ``perm[i]``, XOR-ed with ``keystream[i]``."""
    return _scramblers_cached(seed, n_bits)


# --------------------------------------------------------------------------------------
# Block layout: shortened Reed-Solomon codewords, interleaved
# --------------------------------------------------------------------------------------


def _body_layout(frame_len: int, nsym: int) -> tuple[int, int, int]:
    """(codewords, data bytes per codeword, parity bytes per codeword) for a body.

    Full codewords have ``255 - nsym`` data bytes; a body that needs ``C`` codewords spreads
    its bytes evenly over them (``d = ceil(len / C)``) and gives each the parity of the same
    code rate (``p = ceil(d * nsym / (255 - nsym))``), so a 20-byte message costs ~54 bytes,
    not 255.
    """
    k = RS_N - nsym
    n_cw = max(1, -(-frame_len // k))
    data = max(1, -(-frame_len // n_cw))
    parity = data * nsym // k if data * nsym % k == 0 else data * nsym // k + 1
    return n_cw, data, max(2, parity)


def _encode_blocks(data: bytes, n_cw: int, d: int, p: int) -> np.ndarray:
    """``n_cw * d`` data bytes -> channel bytes (n_cw * (d + p),), interleaved.

    Data byte ``i`` goes to codeword ``i % n_cw``; byte ``j`` of codeword ``c`` is stream
    byte ``j * n_cw + c``, so a burst of channel errors spreads over codewords.  Shortened
    codewords are encoded as full ones with a known zero prefix that is not transmitted.
    """
    msgs = np.frombuffer(data, dtype=np.uint8).reshape(d, n_cw).T
    full = np.zeros((n_cw, RS_N - p), dtype=np.uint8)
    full[:, RS_N - p - d :] = msgs
    cws = _rs_encode(full, p)[:, RS_N - p - d :]
    return np.ascontiguousarray(cws.T).reshape(-1)


def _decode_blocks(stream: np.ndarray, rel: np.ndarray | None, n_cw: int, d: int,
                   p: int) -> bytes | None:
    """Inverse of :func:`_encode_blocks`; None unless every codeword decodes.

    ``rel`` (same shape as ``stream``) are per-byte reliabilities: codewords that fail plain
    decoding are retried with their least reliable bytes erased (GMD decoding).
    """
    pad = RS_N - p - d
    cws = np.zeros((n_cw, RS_N), dtype=np.uint8)
    cws[:, pad:] = stream.reshape(d + p, n_cw).T
    decoded, ok = _rs_decode(cws, p)
    ok &= ~decoded[:, :pad].any(axis=1)  # a "correction" into the untransmitted zero prefix
    if not ok.all() and rel is not None:
        byte_rel = np.full((n_cw, RS_N), np.inf)
        byte_rel[:, pad:] = rel.reshape(d + p, n_cw).T
        order = np.argsort(byte_rel, axis=1, kind="stable")
        for n_erase in _erasure_schedule(p):
            left = np.flatnonzero(~ok)
            if not len(left):
                break
            fixed, ok_sub = _rs_decode(cws[left], p, order[left, :n_erase])
            ok_sub &= ~fixed[:, :pad].any(axis=1)
            decoded[left[ok_sub]] = fixed[ok_sub]
            ok[left[ok_sub]] = True
    if not ok.all():
        return None
    return decoded[:, pad : pad + d].T.reshape(-1).tobytes()


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _check_nsym(nsym: int) -> int:
    if isinstance(nsym, bool) or not isinstance(nsym, (int, np.integer)):
        raise UsageError(f"nsym must be an integer, got {type(nsym).__name__}")
    if not 1 <= int(nsym) <= RS_N - 1:
        raise UsageError(f"nsym must be between 1 and {RS_N - 1}, got {nsym}")
    return int(nsym)


def _check_n_bits(n_bits: int) -> int:
    if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)):
        raise UsageError(f"n_bits must be an integer, got {type(n_bits).__name__}")
    if n_bits < 0:
        raise UsageError(f"n_bits must be >= 0, got {n_bits}")
    return int(n_bits)


def _check_key(key: bytes | None) -> bytes | None:
    if key is None:
        return None
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise UsageError(f"key must be bytes, got {type(key).__name__}")
    key = bytes(key)
    if not key:
        raise UsageError("key must not be empty")
    return key


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


def capacity_bytes(n_bits: int, keyed: bool, nsym: int = DEFAULT_NSYM) -> int:
    """Largest payload in bytes that fits in ``n_bits`` channel bits (0 if none fits).

    Use :func:`pack` with an empty payload to tell "exactly 0" from "nothing fits": the
    latter raises :class:`PayloadTooLarge`.
    """
    n_bits = _check_n_bits(n_bits)
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


def _build_frame(payload: bytes, key: bytes | None, nsym: int) -> tuple[bytes, bytes]:
    """-> (header (10 bytes), body) for a payload."""
    flags = FLAG_ENCRYPTED if key is not None else 0
    header = _HEADER.pack(MAGIC, flags, nsym, len(payload))
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
    keyed = key is not None
    if len(payload) > _MAX_LENGTH or needed_bits(len(payload), keyed, nsym) > n_bits:
        cap = capacity_bytes(n_bits, keyed, nsym)
        if n_bits < needed_bits(0, keyed, nsym):
            raise PayloadTooLarge(
                f"the cover is too small to carry any payload (the {_overhead(keyed)}-byte "
                f"framing alone needs {needed_bits(0, keyed, nsym)} channel bits, it has "
                f"{n_bits})"
            )
        raise PayloadTooLarge(f"payload is {len(payload)} bytes but the capacity is {cap} bytes")
    header, body = _build_frame(payload, key, nsym)
    header_block = _encode_blocks(header, 1, HEADER_LEN, HEADER_PARITY)
    n_cw, d, p = _body_layout(len(body), nsym)
    body = body + os.urandom(n_cw * d - len(body))
    stream = np.unpackbits(np.concatenate([header_block, _encode_blocks(body, n_cw, d, p)]))
    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    m = stream.size
    return perm[:m].astype(np.int64), (stream ^ keystream[:m]).astype(np.uint8)


def _not_found(keyed: bool, message: str | None = None) -> PayloadError:
    if keyed:
        return WrongKeyOrCorrupted(message or "wrong key or corrupted payload")
    return PayloadNotFound(message or _NOT_FOUND_MSG)


def _check_channel(bits: np.ndarray, reliability: np.ndarray | None):
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


def _read(arr: np.ndarray, rel: np.ndarray | None, perm: np.ndarray, keystream: np.ndarray,
          start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Stream bytes [start, stop) and their reliabilities (the least reliable of 8 bits)."""
    sel = perm[8 * start : 8 * stop]
    data = np.packbits(arr[sel] ^ keystream[8 * start : 8 * stop])
    byte_rel = None if rel is None else rel[sel].reshape(-1, 8).min(axis=1)
    return data, byte_rel


def unpack(
    bits: np.ndarray,
    reliability: np.ndarray | None = None,
    key: bytes | None = None,
) -> bytes:
    """Recover the payload from all the channel bits (those that carry nothing included).

    Args:
        bits: (n_bits,) array of 0/1 as read from the channel.
        reliability: optional (n_bits,) array of per-bit reliabilities (finite, >= 0,
            larger = more reliable, e.g. ``|z|``); enables erasure decoding.
        key: the key used by :func:`pack`, or None.

    Returns:
        The payload; only returned after its CRC32 (unkeyed) or AEAD tag (keyed) checked.

    Raises:
        PayloadNotFound: no key given and no stegnet frame decodes.
        WrongKeyOrCorrupted: a key is given and decoding or authentication fails; or no key
            is given and a frame is found but damaged beyond repair or encrypted.
        UsageError: malformed arguments (shape, values, types).
    """
    key = _check_key(key)
    keyed = key is not None
    arr, rel = _check_channel(bits, reliability)
    n_bits = arr.size
    if n_bits < HEADER_BITS:
        raise _not_found(keyed)
    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    head_bytes = HEADER_BITS // 8
    stream, byte_rel = _read(arr, rel, perm, keystream, 0, head_bytes)
    header = _decode_blocks(stream, byte_rel, 1, HEADER_LEN, HEADER_PARITY)
    if header is None:
        raw = stream[: len(MAGIC)].tobytes()
        if not keyed and raw == MAGIC:
            raise WrongKeyOrCorrupted("payload found but too damaged to recover")
        raise _not_found(keyed)
    magic, flags, nsym, length = _HEADER.unpack(header)
    if magic != MAGIC:
        raise _not_found(keyed)
    if flags & ~_KNOWN_FLAGS or not 1 <= nsym <= RS_N - 1:
        raise WrongKeyOrCorrupted("unsupported or corrupted payload header")
    encrypted = bool(flags & FLAG_ENCRYPTED)
    if encrypted and not keyed:
        raise WrongKeyOrCorrupted(_ENCRYPTED_MSG)
    if keyed and not encrypted:
        raise WrongKeyOrCorrupted()
    if needed_bits(length, keyed, nsym) > n_bits:
        raise WrongKeyOrCorrupted("corrupted payload header (impossible length)")
    body_len = length + _overhead(keyed) - HEADER_LEN
    n_cw, d, p = _body_layout(body_len, nsym)
    stream, byte_rel = _read(arr, rel, perm, keystream, head_bytes,
                             head_bytes + n_cw * (d + p))
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

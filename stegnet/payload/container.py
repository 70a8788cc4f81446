"""Payload container: bytes <-> a fixed number of channel bits, with error correction.

A payload is wrapped in a *frame*::

    unkeyed: MAGIC(4) | flags(1) | length(4, big-endian) | payload | CRC32(header + payload)
    keyed:   MAGIC(4) | flags(1) | length(4, big-endian) | salt(16) | nonce(12)
             | ChaCha20-Poly1305(payload, associated data = header) (ciphertext + 16-byte tag)

``MAGIC`` (``b"SGN1"``) carries the format version; ``flags`` bit 0 marks an encrypted
frame; ``length`` is the plaintext payload length.  In keyed mode the AEAD key is
``scrypt(key, salt)`` and the whole header is authenticated as associated data.

The frame is padded with random bytes to fill every Reed-Solomon codeword that fits in the
channel: ``n_bits // 2040`` codewords of 255 bytes, each with ``nsym`` parity bytes (the
codewords are byte-for-byte those of ``reedsolo.RSCodec(nsym)``: GF(2^8) with primitive
polynomial 0x11d, generator 2, first consecutive root 0).  Data byte ``i`` goes to codeword
``i % n_codewords`` and the channel byte stream is laid out the same way (byte ``p`` of
codeword ``c`` is stream byte ``p * n_codewords + c``), so bursts spread over codewords.
Leftover bits are random filler.

The bit stream is then whitened (XOR with a PCG64 keystream) and its bit positions are
permuted.  Both depend on a seed that is public (derived from ``b"stegnet-public"``)
without a key, and derived from the key by scrypt with a fixed application salt with one:
the extractor must know the positions before it can read the header, so the random salt
of the header cannot be used for that.  The keystream and the permutation are built from
the raw PCG64 output only (not from ``Generator`` methods, whose streams NumPy does not
promise to keep across versions), so images stay readable after a NumPy upgrade.

Reed-Solomon coding is done here with NumPy, batched over codewords (pure-Python
``reedsolo`` takes ~13 ms per noisy codeword, i.e. seconds for a 512x512 image).  Decoding
is errors-and-erasures Berlekamp-Massey + Chien search + Forney; a codeword is accepted only
when all its syndromes are zero after correction (the test ``reedsolo.rs_check`` makes).
When plain decoding of a codeword fails and per-bit reliabilities are given, the decoder
retries with the least reliable bytes of that codeword marked as erasures
(generalised-minimum-distance decoding), each erasure costing one parity byte instead of
two.
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
    "capacity_bytes",
    "header_len",
    "pack",
    "unpack",
]

MAGIC = b"SGN1"
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

_BASE_HEADER = struct.Struct(">4sBI")  # magic, flags, payload length
SALT_LEN = 16
NONCE_LEN = 12
TAG_LEN = 16
CRC_LEN = 4
HEADER_LEN_PLAIN = _BASE_HEADER.size  # 9
HEADER_LEN_KEYED = _BASE_HEADER.size + SALT_LEN + NONCE_LEN  # 37
_MAX_LENGTH = 2**32 - 1

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_POSITIONS_SALT = b"stegnet-positions-v1"
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


class _CodewordDecoder:
    """Decodes the codewords of one channel read lazily: only those a frame needs are retried.

    Every codeword is decoded plainly up front (cheap, batched); erasure retries, ~8x the
    cost, are only spent on failed codewords that hold bytes of the header or the frame.
    """

    def __init__(self, cws: np.ndarray, nsym: int, byte_rel: np.ndarray | None) -> None:
        self.cws = cws
        self.nsym = nsym
        self.byte_rel = byte_rel
        self.decoded, self.ok = _rs_decode(cws, nsym)
        self.retried = np.zeros(len(cws), dtype=bool)

    def data_ok(self, count: int) -> bool:
        """Decode (retrying if needed) the codewords of data bytes [0, count); all good?"""
        n_cw = len(self.cws)
        needed = np.arange(min(count, n_cw))  # byte i lives in codeword i % n_cw
        todo = needed[~self.ok[needed] & ~self.retried[needed]]
        if len(todo) and self.byte_rel is not None:
            self.retried[todo] = True
            # Least reliable bytes first; a stable sort keeps the result deterministic.
            order = np.argsort(self.byte_rel[todo], axis=1, kind="stable")
            for n_erase in _erasure_schedule(self.nsym):
                left = np.flatnonzero(~self.ok[todo])
                if not len(left):
                    break
                rows = todo[left]
                fixed, ok_sub = _rs_decode(self.cws[rows], self.nsym, order[left, :n_erase])
                self.decoded[rows[ok_sub]] = fixed[ok_sub]
                self.ok[rows[ok_sub]] = True
        return bool(self.ok[needed].all())

    def data(self, count: int) -> bytes:
        """The first `count` data bytes (de-interleaved)."""
        k = RS_N - self.nsym
        return self.decoded[:, :k].T.reshape(-1)[:count].tobytes()


# --------------------------------------------------------------------------------------
# Whitening and bit-position permutation
# --------------------------------------------------------------------------------------


def _derive_seed(key: bytes | None) -> bytes:
    if key is None:
        return _PUBLIC_SEED
    return hashlib.scrypt(key, salt=_POSITIONS_SALT, **_SCRYPT)


def _scramblers(seed: bytes, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (permutation of range(n_bits), keystream bits (n_bits,) uint8) for a seed."""
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(seed, "big")))
    perm_keys = bitgen.random_raw(n_bits).astype(np.uint64)
    perm = np.argsort(perm_keys, kind="stable")
    words = bitgen.random_raw((n_bits + 63) // 64).astype("<u8")
    keystream = np.unpackbits(words.view(np.uint8))[:n_bits]
    return perm, keystream


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
    """Frame header size in bytes: 9 unkeyed, 37 keyed (with salt and nonce)."""
    return HEADER_LEN_KEYED if keyed else HEADER_LEN_PLAIN


def _overhead(keyed: bool) -> int:
    return header_len(keyed) + (TAG_LEN if keyed else CRC_LEN)


def _frame_room(n_bits: int, nsym: int) -> int:
    """Data bytes available in all codewords of an n_bits channel."""
    return (n_bits // CODEWORD_BITS) * (RS_N - nsym)


def capacity_bytes(n_bits: int, keyed: bool, nsym: int = DEFAULT_NSYM) -> int:
    """Maximum payload size in bytes that fits in `n_bits` channel bits.

    ``n_codewords * (255 - nsym) - header - (4-byte CRC32 | 16-byte AEAD tag)`` with
    ``n_codewords = n_bits // 2040`` and a header of 9 bytes (37 keyed).  Returns 0 when
    even the header does not fit (use :func:`pack` with an empty payload to tell "exactly
    0" from "nothing fits": the latter raises :class:`PayloadTooLarge`).
    """
    n_bits = _check_n_bits(n_bits)
    nsym = _check_nsym(nsym)
    cap = _frame_room(n_bits, nsym) - _overhead(bool(keyed))
    return max(0, min(cap, _MAX_LENGTH))


def _build_frame(payload: bytes, key: bytes | None) -> bytes:
    if key is None:
        header = _BASE_HEADER.pack(MAGIC, 0, len(payload))
        crc = zlib.crc32(header + payload) & 0xFFFFFFFF
        return header + payload + crc.to_bytes(CRC_LEN, "big")
    salt = os.urandom(SALT_LEN)
    nonce = os.urandom(NONCE_LEN)
    header = _BASE_HEADER.pack(MAGIC, FLAG_ENCRYPTED, len(payload)) + salt + nonce
    aead_key = hashlib.scrypt(key, salt=salt, **_SCRYPT)
    return header + ChaCha20Poly1305(aead_key).encrypt(nonce, payload, header)


def _frame_to_bits(frame: bytes, n_bits: int, seed: bytes, nsym: int) -> np.ndarray:
    """Pad, RS-encode, interleave, whiten and permute a frame into n_bits channel bits."""
    n_cw = n_bits // CODEWORD_BITS
    k = RS_N - nsym
    room = n_cw * k
    if len(frame) > room:  # callers check capacity first; keep the invariant explicit
        raise PayloadTooLarge(f"frame of {len(frame)} bytes exceeds {room} bytes of room")
    data = np.frombuffer(frame + os.urandom(room - len(frame)), dtype=np.uint8)
    msgs = data.reshape(k, n_cw).T  # data byte i -> codeword i % n_cw, position i // n_cw
    cws = _rs_encode(np.ascontiguousarray(msgs), nsym)
    stream = np.unpackbits(cws.T.reshape(-1))  # same interleave on the channel bytes
    filler_len = n_bits - len(stream)
    if filler_len:
        filler = np.unpackbits(np.frombuffer(os.urandom((filler_len + 7) // 8), np.uint8))
        stream = np.concatenate([stream, filler[:filler_len]])
    perm, keystream = _scramblers(seed, n_bits)
    out = np.empty(n_bits, dtype=np.uint8)
    out[perm] = stream ^ keystream
    return out


def pack(
    payload: bytes, n_bits: int, key: bytes | None = None, nsym: int = DEFAULT_NSYM
) -> np.ndarray:
    """Encode `payload` into exactly `n_bits` channel bits.

    Args:
        payload: the bytes to hide.
        n_bits: number of channel bits (one per latent sign).
        key: optional secret; encrypts and authenticates the payload and decides which
            channel positions carry which bits.
        nsym: Reed-Solomon parity bytes per 255-byte codeword (same value needed to unpack).

    Returns:
        uint8 array of shape (n_bits,) holding 0/1, balanced whatever the payload.

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
    needed = len(payload) + _overhead(keyed)
    if needed > _frame_room(n_bits, nsym) or len(payload) > _MAX_LENGTH:
        cap = capacity_bytes(n_bits, keyed, nsym)
        detail = ""
        if _overhead(keyed) > _frame_room(n_bits, nsym):
            detail = f" (the cover is too small even for the {_overhead(keyed)}-byte framing)"
        raise PayloadTooLarge(
            f"payload is {len(payload)} bytes but the capacity is {cap} bytes{detail}"
        )
    frame = _build_frame(payload, key)
    return _frame_to_bits(frame, n_bits, _derive_seed(key), nsym)


def _not_found(keyed: bool, message: str | None = None) -> PayloadError:
    if keyed:
        return WrongKeyOrCorrupted(message or "wrong key or corrupted payload")
    return PayloadNotFound(message or _NOT_FOUND_MSG)


def unpack(
    bits: np.ndarray,
    reliability: np.ndarray | None = None,
    key: bytes | None = None,
    nsym: int = DEFAULT_NSYM,
) -> bytes:
    """Recover the payload from channel bits.

    Args:
        bits: (n_bits,) array of 0/1 as read from the channel.
        reliability: optional (n_bits,) array of per-bit reliabilities (finite, >= 0,
            larger = more reliable, e.g. ``|z|``); enables erasure decoding.
        key: the key used by :func:`pack`, or None.
        nsym: the Reed-Solomon parity used by :func:`pack`.

    Returns:
        The payload; only returned after its CRC32 (unkeyed) or AEAD tag (keyed) checked.

    Raises:
        PayloadNotFound: no key given and no stegnet frame decodes.
        WrongKeyOrCorrupted: a key is given and decoding or authentication fails; or no key
            is given and a frame is found but damaged beyond repair or encrypted (message
            ``payload is encrypted: a key is needed``).
        UsageError: malformed arguments (shape, values, types).
    """
    nsym = _check_nsym(nsym)
    key = _check_key(key)
    keyed = key is not None
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise UsageError(f"bits must be a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"bits must be numeric 0/1, got dtype {arr.dtype}")
    if arr.size and not np.all((arr == 0) | (arr == 1)):
        raise UsageError("bits must contain only 0 and 1")
    arr = arr.astype(np.uint8)
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

    n_bits = arr.size
    n_cw = n_bits // CODEWORD_BITS
    k = RS_N - nsym
    if n_cw == 0 or n_cw * k < _overhead(keyed):
        raise _not_found(keyed)

    perm, keystream = _scramblers(_derive_seed(key), n_bits)
    used = n_cw * CODEWORD_BITS
    stream = (arr[perm] ^ keystream)[:used]
    cws = np.ascontiguousarray(np.packbits(stream).reshape(RS_N, n_cw).T)
    byte_rel = None
    if rel is not None:
        byte_rel = rel[perm][:used].reshape(-1, 8).min(axis=1).reshape(RS_N, n_cw).T

    decoder = _CodewordDecoder(cws, nsym, byte_rel)
    base = _BASE_HEADER.size
    if not decoder.data_ok(base):
        raw_magic = cws[:, :k].T.reshape(-1)[: len(MAGIC)].tobytes()
        if not keyed and raw_magic == MAGIC:
            raise WrongKeyOrCorrupted("payload found but too damaged to recover")
        raise _not_found(keyed)
    magic, flags, length = _BASE_HEADER.unpack(decoder.data(base))
    if magic != MAGIC:
        raise _not_found(keyed)
    if flags & ~_KNOWN_FLAGS:
        raise WrongKeyOrCorrupted("unsupported or corrupted payload header")
    encrypted = bool(flags & FLAG_ENCRYPTED)
    if encrypted and not keyed:
        raise WrongKeyOrCorrupted(_ENCRYPTED_MSG)
    if keyed and not encrypted:
        raise WrongKeyOrCorrupted()
    if length > capacity_bytes(n_bits, keyed, nsym):
        raise WrongKeyOrCorrupted("corrupted payload header (impossible length)")
    frame_len = length + _overhead(keyed)
    if not decoder.data_ok(frame_len):
        raise WrongKeyOrCorrupted("payload too damaged to recover")
    frame = decoder.data(frame_len)
    hlen = header_len(keyed)
    header = frame[:hlen]
    if not keyed:
        payload = frame[hlen : hlen + length]
        crc = int.from_bytes(frame[hlen + length :], "big")
        if zlib.crc32(header + payload) & 0xFFFFFFFF != crc:
            raise WrongKeyOrCorrupted("corrupted payload (checksum mismatch)")
        return payload
    salt = header[base : base + SALT_LEN]
    nonce = header[base + SALT_LEN :]
    aead_key = hashlib.scrypt(key, salt=salt, **_SCRYPT)
    try:
        return ChaCha20Poly1305(aead_key).decrypt(nonce, frame[hlen:], header)
    except InvalidTag:
        raise WrongKeyOrCorrupted() from None

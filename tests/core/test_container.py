"""Tests of stegnet.payload.container, format version 2.

A frame is a 400-bit RS-protected header block (magic, flags, nsym, length) followed by a
body of shortened, interleaved RS codewords; it occupies only ``needed_bits`` channel
positions, whitened and spread over the channel by a (key-dependent) permutation.
"""

from __future__ import annotations

import numpy as np
import pytest
import reedsolo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stegnet.errors import (
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    UsageError,
    WrongKeyOrCorrupted,
)
from stegnet.payload import (
    DEFAULT_NSYM,
    HEADER_BITS,
    MAGIC,
    capacity_bytes,
    header_len,
    needed_bits,
    pack,
    rs,
    unpack,
)
from stegnet.payload import container as ct

N = 30_000
KEY = b"correct horse battery staple"
HEAD_BYTES = HEADER_BITS // 8  # 50: 10 header bytes + 40 parity
HEAD_DATA = 10
HEAD_PARITY = 40
NOT_FOUND = (PayloadNotFound, WrongKeyOrCorrupted)


# ----------------------------------------------------------------------------- helpers


def _payload(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).bytes(size)


def _body_len(length: int, keyed: bool) -> int:
    """Body bytes from the format description: payload + CRC32, or salt + nonce + ct + tag."""
    return 16 + 12 + length + 16 if keyed else length + 4


def _layout(length: int, keyed: bool, nsym: int) -> tuple[int, int, int]:
    return ct._body_layout(_body_len(length, keyed), nsym)


def _key(keyed: bool) -> bytes | None:
    return KEY if keyed else None


def _channel(positions: np.ndarray, bits: np.ndarray, n_bits: int, seed: int = 0) -> np.ndarray:
    """A channel of random bits carrying the frame at ``positions``."""
    ch = np.random.default_rng(seed).integers(0, 2, n_bits).astype(np.uint8)
    ch[positions] = bits
    return ch


def _packed(payload: bytes, n_bits: int = N, key: bytes | None = None,
            nsym: int = DEFAULT_NSYM, seed: int = 0) -> np.ndarray:
    positions, bits = pack(payload, n_bits, key=key, nsym=nsym)
    return _channel(positions, bits, n_bits, seed)


def _perm(key: bytes | None, n_bits: int) -> np.ndarray:
    return ct._scramblers(ct._derive_seed(key), n_bits)[0]


def _lay_out(header: bytes, body: bytes, n_bits: int, key: bytes | None, nsym: int,
             seed: int = 0) -> np.ndarray:
    """Encode a (possibly tampered) header and body exactly like ``pack`` and place them in a
    random channel at the positions of ``key``; the RS layer is valid, so only the checks
    above it (magic, flags, CRC, AEAD) can object."""
    n_cw, d, p = ct._body_layout(len(body), nsym)
    body = body + bytes(n_cw * d - len(body))
    stream = np.unpackbits(np.concatenate([
        ct._encode_blocks(header, 1, HEAD_DATA, HEAD_PARITY),
        ct._encode_blocks(body, n_cw, d, p),
    ]))
    perm, keystream = ct._scramblers(ct._derive_seed(key), n_bits)
    m = stream.size
    return _channel(perm[:m], stream ^ keystream[:m], n_bits, seed)


def _header(magic: bytes = MAGIC, flags: int = 0, nsym: int = DEFAULT_NSYM,
            length: int = 0) -> bytes:
    return magic + bytes([flags, nsym]) + length.to_bytes(4, "big")


def _stream_bytes(ch: np.ndarray, key: bytes | None, start: int, stop: int) -> np.ndarray:
    perm, keystream = ct._scramblers(ct._derive_seed(key), ch.size)
    return np.packbits(ch[perm[8 * start : 8 * stop]] ^ keystream[8 * start : 8 * stop])


def _corrupt(ch: np.ndarray, key: bytes | None, stream_bytes: np.ndarray,
             rng: np.random.Generator, rel: np.ndarray | None = None) -> None:
    """XOR a random non-zero mask into each stream byte (in place); mark one flipped bit of
    each as the least reliable bit of the channel when ``rel`` is given."""
    perm = _perm(key, ch.size)
    for sb in np.asarray(stream_bytes, dtype=np.int64):
        mask = np.unpackbits(np.array([rng.integers(1, 256)], dtype=np.uint8))
        where = perm[8 * sb : 8 * sb + 8]
        ch[where] ^= mask
        if rel is not None:
            rel[where[np.flatnonzero(mask)[0]]] = rng.uniform(0.0, 0.1)


def _body_codeword_bytes(c: int, js: np.ndarray, n_cw: int) -> np.ndarray:
    """Stream byte indices of bytes ``js`` of body codeword ``c`` (interleaved)."""
    return HEAD_BYTES + np.asarray(js, dtype=np.int64) * n_cw + c


def _corrupt_body(ch: np.ndarray, key: bytes | None, layout: tuple[int, int, int],
                  per_cw, rng: np.random.Generator, rel: np.ndarray | None = None) -> None:
    """Corrupt ``per_cw(p)`` distinct transmitted bytes of every body codeword."""
    n_cw, d, p = layout
    for c in range(n_cw):
        js = rng.choice(d + p, per_cw(p), replace=False)
        _corrupt(ch, key, _body_codeword_bytes(c, js, n_cw), rng, rel)


# ----------------------------------------------------------------------------- capacity


def test_header_constants() -> None:
    assert MAGIC == b"SGN2"
    assert HEADER_BITS == 400
    assert header_len(False) == 10 and header_len(True) == 38


def test_needed_bits_values() -> None:
    # 13 + 4 bytes of body -> one shortened codeword of 17 data + ceil(17*160/95) = 29 parity.
    assert needed_bits(13, False, 160) == 400 + 8 * (17 + 29)
    # keyed, empty: 44 body bytes + ceil(44*160/95) = 75 parity
    assert needed_bits(0, True, 160) == 400 + 8 * (44 + 75)
    # a body of exactly C full codewords
    for nsym in (32, 160, 224):
        k = 255 - nsym
        for n_cw in (1, 2, 7):
            assert needed_bits(n_cw * k - 4, False, nsym) == 400 + n_cw * 2040
            if n_cw * k >= 44:
                assert needed_bits(n_cw * k - 44, True, nsym) == 400 + n_cw * 2040


@pytest.mark.parametrize("nsym", [1, 2, 32, 96, DEFAULT_NSYM, 224, 254])
def test_needed_bits_grows_with_payload_at_code_rate(nsym: int) -> None:
    k = 255 - nsym
    prev = 0
    for length in range(0, 3000, 3):
        for keyed in (False, True):
            bits = needed_bits(length, keyed, nsym)
            body = _body_len(length, keyed)
            # never better than the code rate; rounding costs < 1 data + 1 parity byte per cw
            n_cw = -(-body // (255 - max(nsym, 2)))  # parity is at least 2 bytes
            slack = n_cw * (255 / k + 1)
            assert 8 * body * 255 / k <= bits - HEADER_BITS <= 8 * (body * 255 / k + slack)
        bits = needed_bits(length, False, nsym)
        assert bits >= prev
        prev = bits


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("nsym", [1, 32, DEFAULT_NSYM, 224, 254])
def test_capacity_is_exact(keyed: bool, nsym: int) -> None:
    smallest = needed_bits(0, keyed, nsym)
    ns = sorted({*range(0, 8000, 13), *range(smallest - 20, smallest + 20),
                 *(10**5 + i for i in range(0, 4000, 97)), 10**6 + 7, 10**7 + 3})
    prev = 0
    for n in ns:
        cap = capacity_bytes(n, keyed, nsym)
        if n < smallest:
            assert cap == 0, n
        else:
            assert needed_bits(cap, keyed, nsym) <= n < needed_bits(cap + 1, keyed, nsym), n
        assert cap >= prev
        prev = cap


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("nsym", [32, DEFAULT_NSYM])
def test_capacity_zero_when_framing_does_not_fit(keyed: bool, nsym: int) -> None:
    smallest = needed_bits(0, keyed, nsym)
    assert capacity_bytes(0, keyed, nsym) == 0
    assert capacity_bytes(HEADER_BITS, keyed, nsym) == 0
    assert capacity_bytes(smallest - 1, keyed, nsym) == 0
    assert capacity_bytes(smallest, keyed, nsym) == 0
    with pytest.raises(PayloadTooLarge, match="cover is too small"):
        pack(b"", smallest - 1, key=_key(keyed), nsym=nsym)
    if not keyed:  # exactly 0 bytes fit: an empty payload packs (keyed: see round trips)
        ch = _packed(b"", smallest, nsym=nsym)
        assert unpack(ch) == b""


# ----------------------------------------------------------------------------- pack output


@pytest.mark.parametrize("keyed", [False, True])
def test_pack_output(keyed: bool) -> None:
    key = _key(keyed)
    payload = b"hello, world"
    n_bits = N + 3
    positions, bits = pack(payload, n_bits, key=key)
    m = needed_bits(len(payload), keyed)
    assert positions.shape == (m,) and bits.shape == (m,)
    assert np.issubdtype(positions.dtype, np.integer)
    assert bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    assert len(np.unique(positions)) == m
    assert positions.min() >= 0 and positions.max() < n_bits
    for seed in (1, 2):  # whatever the other positions carry
        assert unpack(_channel(positions, bits, n_bits, seed), key=key) == payload


def test_frame_size_grows_with_payload() -> None:
    positions, _ = pack(b"x" * 13, 100_000, nsym=160)
    assert len(positions) < 1000
    sizes = [len(pack(bytes(n), 100_000)[0]) for n in (0, 13, 100, 500, 2000, 4000)]
    assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)


def test_positions_public_without_key_and_key_dependent() -> None:
    p0, _ = pack(b"abc", N)
    assert np.array_equal(p0, pack(b"xyz", N)[0])  # public positions: same for every frame
    p1, _ = pack(b"abc", N, key=KEY)
    p2, _ = pack(b"abc", N, key=b"another key")
    assert len(p0) < len(p1) == len(p2)
    assert not np.array_equal(p1, p2)
    assert not np.array_equal(p0, p1[: len(p0)])
    # the keyed positions are a different random subset, not a shifted copy
    assert len(np.intersect1d(p1, p2)) < 0.2 * len(p1)


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("size", [0, 1, 1024, "cap"])
def test_roundtrip(size: int | str, keyed: bool) -> None:
    key = _key(keyed)
    n = capacity_bytes(N, keyed) if size == "cap" else size
    payload = _payload(n, 1)
    ch = _packed(payload, N, key=key)
    assert unpack(ch, key=key) == payload


@pytest.mark.parametrize("nsym", [1, 32, 224, 254])
def test_roundtrip_other_nsym_read_from_header(nsym: int) -> None:
    payload = _payload(min(500, capacity_bytes(N, False, nsym)), 3)
    assert len(payload) > 0
    ch = _packed(payload, N, nsym=nsym)
    header = ct._decode_blocks(_stream_bytes(ch, None, 0, HEAD_BYTES), None, 1, HEAD_DATA,
                               HEAD_PARITY)
    assert header == _header(nsym=nsym, length=len(payload))
    assert unpack(ch) == payload  # no nsym argument: it comes from the header
    assert unpack(ch, np.ones(N)) == payload


def test_roundtrip_keyed_other_nsym() -> None:
    payload = _payload(capacity_bytes(N, True, 224), 4)
    assert unpack(_packed(payload, N, key=KEY, nsym=224), key=KEY) == payload


def test_large_channel_roundtrip() -> None:
    n_bits = 400_000
    payload = _payload(capacity_bytes(n_bits, False), 4)
    ch = _packed(payload, n_bits)
    assert unpack(ch) == payload
    assert unpack(ch, np.ones(n_bits)) == payload


# ----------------------------------------------------------------------------- too large


@pytest.mark.parametrize(("keyed", "nsym"), [(False, DEFAULT_NSYM), (True, DEFAULT_NSYM),
                                             (False, 32)])
def test_too_large(keyed: bool, nsym: int) -> None:
    cap = capacity_bytes(N, keyed, nsym)
    assert cap > 0
    with pytest.raises(PayloadTooLarge, match=f"capacity is {cap} bytes"):
        pack(bytes(cap + 1), N, key=_key(keyed), nsym=nsym)
    with pytest.raises(PayloadTooLarge, match=f"capacity is {cap} bytes"):
        pack(bytes(10 * cap), N, key=_key(keyed), nsym=nsym)


def test_cover_too_small_for_framing() -> None:
    for n_bits in (0, 10, HEADER_BITS, needed_bits(0, False) - 1):
        with pytest.raises(PayloadTooLarge, match="cover is too small"):
            pack(b"", n_bits)
        with pytest.raises(PayloadTooLarge, match="cover is too small"):
            pack(b"abc", n_bits)
    with pytest.raises(PayloadTooLarge, match="cover is too small"):
        pack(b"", needed_bits(0, True) - 1, key=KEY)


# ----------------------------------------------------------------------------- noise


@pytest.mark.parametrize(("keyed", "with_rel"), [(False, False), (False, True), (True, False)])
def test_random_bit_errors_3_percent(keyed: bool, with_rel: bool) -> None:
    key = _key(keyed)
    payload = _payload(capacity_bytes(N, keyed), 5)
    positions, bits = pack(payload, N, key=key)
    rng = np.random.default_rng(6)
    ch = _channel(positions, bits, N, 7)
    flip = rng.choice(positions, int(0.03 * len(positions)), replace=False)
    ch[flip] ^= 1
    rel = None
    if with_rel:  # Gaussian-latent channel: flipped bits tend to have small |z|
        rel = np.abs(rng.normal(1.5, 1.0, N))
        rel[flip] = np.abs(rng.normal(0.0, 0.5, len(flip)))
    assert unpack(ch, rel, key=key) == payload


@pytest.mark.parametrize(("length", "nsym"), [(13, DEFAULT_NSYM), (700, DEFAULT_NSYM),
                                              ("cap", DEFAULT_NSYM), (200, 32), (50, 224)])
def test_symbol_errors_at_correction_limit(length: int | str, nsym: int) -> None:
    n = capacity_bytes(N, False, nsym) if length == "cap" else length
    payload = _payload(n, 7)
    ch = _packed(payload, N, nsym=nsym)
    rng = np.random.default_rng(8)
    _corrupt(ch, None, rng.choice(HEAD_BYTES, HEAD_PARITY // 2, replace=False), rng)
    layout = _layout(n, False, nsym)
    _corrupt_body(ch, None, layout, lambda p: p // 2, rng)
    assert unpack(ch) == payload


def test_one_error_beyond_limit_fails_cleanly() -> None:
    payload = _payload(700, 9)
    ch = _packed(payload, N)
    rng = np.random.default_rng(10)
    _corrupt_body(ch, None, _layout(700, False, DEFAULT_NSYM), lambda p: p // 2 + 1, rng)
    with pytest.raises(WrongKeyOrCorrupted, match="too damaged"):
        unpack(ch)


def test_damaged_header_with_intact_magic() -> None:
    ch = _packed(b"public", N)
    rng = np.random.default_rng(11)
    _corrupt(ch, None, 4 + rng.choice(HEAD_BYTES - 4, 30, replace=False), rng)
    with pytest.raises(WrongKeyOrCorrupted, match="too damaged"):
        unpack(ch)


@pytest.mark.parametrize("keyed", [False, True])
def test_errors_far_beyond_limit(keyed: bool) -> None:
    key = _key(keyed)
    positions, bits = pack(_payload(700, 9), N, key=key)
    ch = _channel(positions, bits, N, 3)
    rng = np.random.default_rng(10)
    ch[rng.choice(positions, len(positions) // 4, replace=False)] ^= 1
    expected = WrongKeyOrCorrupted if keyed else NOT_FOUND
    for rel in (None, np.ones(N), rng.exponential(1.0, N)):
        with pytest.raises(expected):
            unpack(ch, rel, key=key)


@pytest.mark.parametrize("nsym", [32, DEFAULT_NSYM])
def test_reliability_guided_erasures(nsym: int) -> None:
    """More than nsym/2 wrong bytes per codeword (and header), all marked least reliable."""
    payload = _payload(capacity_bytes(N, False, nsym), 11)
    ch = _packed(payload, N, nsym=nsym)
    rng = np.random.default_rng(12)
    rel = rng.uniform(1.0, 3.0, N)
    _corrupt(ch, None, rng.choice(HEAD_BYTES, 28, replace=False), rng, rel)  # > 20
    layout = _layout(len(payload), False, nsym)
    assert layout[0] > 1
    _corrupt_body(ch, None, layout, lambda p: int(0.7 * p), rng, rel)
    with pytest.raises(PayloadError):
        unpack(ch)
    assert unpack(ch, rel) == payload


def test_erasures_retried_after_miscorrection_into_shortened_prefix() -> None:
    """With 2 parity bytes, 2 wrong bytes marked least reliable are 2 erasures: decodable.

    Plain decoding of such a word usually "succeeds" by changing one byte, and for a
    shortened codeword that byte is mostly in the untransmitted zero prefix, i.e. the
    result is known to be wrong; the decoder must then still try the erasures.
    """
    payload = b"hello world"
    n_bits, nsym = 4000, 2
    n_cw, d, p = _layout(len(payload), False, nsym)
    assert (n_cw, p) == (1, 2)
    pad = ct.RS_N - d - p
    positions, bits = pack(payload, n_bits, nsym=nsym)
    cases = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        ch = _channel(positions, bits, n_bits, seed)
        rel = rng.uniform(1.0, 3.0, n_bits)
        _corrupt(ch, None, _body_codeword_bytes(0, rng.choice(d + p, 2, replace=False), 1),
                 rng, rel)
        received = bytes(pad) + _stream_bytes(ch, None, HEAD_BYTES, HEAD_BYTES + d + p).tobytes()
        try:  # reedsolo, as the reference decoder of full-length words
            _, _, errata = reedsolo.RSCodec(p).decode(received)
        except reedsolo.ReedSolomonError:
            continue
        if not any(pos < pad for pos in errata):
            continue  # not the case under test
        cases += 1
        assert unpack(ch, rel) == payload, f"seed {seed}"
    assert cases >= 2, cases


# ----------------------------------------------------------------------------- keys


def test_wrong_key() -> None:
    ch = _packed(b"secret", N, key=KEY)
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(ch, key=b"not the key")


def test_keyed_payload_without_key() -> None:
    ch = _packed(b"secret", N, key=KEY)
    with pytest.raises(PayloadNotFound, match="key"):
        unpack(ch)  # positions are keyed: nothing is visible without it


def test_unkeyed_payload_with_key() -> None:
    ch = _packed(b"public", N)
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(ch, key=KEY)


def test_encrypted_flag_without_key() -> None:
    # An encrypted frame laid out at the public positions: the header says "encrypted".
    header, body = ct._build_frame(b"secret", KEY, DEFAULT_NSYM)
    assert header == _header(flags=1, length=6)
    ch = _lay_out(header, body, N, None, DEFAULT_NSYM)
    with pytest.raises(WrongKeyOrCorrupted, match="payload is encrypted: a key is needed"):
        unpack(ch)


def test_unencrypted_frame_at_keyed_positions() -> None:
    header, body = ct._build_frame(b"public", None, DEFAULT_NSYM)
    ch = _lay_out(header, body, N, KEY, DEFAULT_NSYM)
    assert unpack(_lay_out(header, body, N, None, DEFAULT_NSYM)) == b"public"
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(ch, key=KEY)


def test_aead_authenticates_header() -> None:
    # nsym 2 and 3 give this body the same layout, so the tampered header decodes, the body
    # decodes, and only the AEAD (header as associated data) can notice.
    header, body = ct._build_frame(b"secret payload", KEY, 2)
    assert ct._body_layout(len(body), 2) == ct._body_layout(len(body), 3)
    assert unpack(_lay_out(header, body, N, KEY, 2), key=KEY) == b"secret payload"
    tampered = header[:5] + bytes([3]) + header[6:]
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(_lay_out(tampered, body, N, KEY, 3), key=KEY)


def test_aead_authenticates_body() -> None:
    header, body = ct._build_frame(b"secret payload", KEY, DEFAULT_NSYM)
    for index in (3, 30, len(body) - 1):  # salt, ciphertext, tag
        bad = bytearray(body)
        bad[index] ^= 0x01
        with pytest.raises(WrongKeyOrCorrupted):
            unpack(_lay_out(header, bytes(bad), N, KEY, DEFAULT_NSYM), key=KEY)


def test_crc_detects_tampering() -> None:
    header, body = ct._build_frame(b"public payload", None, DEFAULT_NSYM)
    assert unpack(_lay_out(header, body, N, None, DEFAULT_NSYM)) == b"public payload"
    for index in (0, 5, len(body) - 1):  # payload bytes, CRC
        bad = bytearray(body)
        bad[index] ^= 0x40
        with pytest.raises(WrongKeyOrCorrupted, match="checksum"):
            unpack(_lay_out(header, bytes(bad), N, None, DEFAULT_NSYM))
    # the CRC covers the header too (nsym 1 and 2: same layout for this body)
    header, body = ct._build_frame(b"public payload", None, 1)
    assert ct._body_layout(len(body), 1) == ct._body_layout(len(body), 2)
    tampered = header[:5] + bytes([2]) + header[6:]
    with pytest.raises(WrongKeyOrCorrupted, match="checksum"):
        unpack(_lay_out(tampered, body, N, None, 2))


@pytest.mark.parametrize(
    ("header", "error", "match"),
    [
        (_header(magic=b"SGN1", length=5), PayloadNotFound, "no payload"),
        (_header(flags=0x80, length=5), WrongKeyOrCorrupted, "unsupported"),
        (_header(flags=0x03, length=5), WrongKeyOrCorrupted, "unsupported"),
        (_header(nsym=0, length=5), WrongKeyOrCorrupted, "unsupported"),
        (_header(nsym=255, length=5), WrongKeyOrCorrupted, "unsupported"),
        (_header(length=2**32 - 1), WrongKeyOrCorrupted, "impossible length"),
        (_header(length=capacity_bytes(N, False) + 1), WrongKeyOrCorrupted,
         "impossible length"),
    ],
)
def test_bad_header_fields(header: bytes, error: type[PayloadError], match: str) -> None:
    ch = _lay_out(header, bytes(9), N, None, DEFAULT_NSYM)
    with pytest.raises(error, match=match):
        unpack(ch)


# ----------------------------------------------------------------------------- no payload


def test_random_bits_no_payload() -> None:
    rng = np.random.default_rng(13)
    bits = rng.integers(0, 2, N, dtype=np.uint8)
    with pytest.raises(PayloadNotFound):
        unpack(bits)
    with pytest.raises(PayloadNotFound):
        unpack(bits, rng.uniform(0, 2, N))
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(bits, key=KEY)
    with pytest.raises(PayloadNotFound):
        unpack(np.zeros(N, dtype=np.uint8))


def test_too_short_channel() -> None:
    for n in (0, 1, HEADER_BITS - 1):
        with pytest.raises(PayloadNotFound):
            unpack(np.zeros(n, dtype=np.uint8))
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(np.zeros(10, dtype=np.uint8), key=KEY)
    # a frame packed for a longer channel, read from a shorter one: positions differ
    positions, bits = pack(b"abc", N)
    with pytest.raises(PayloadNotFound):
        unpack(_channel(positions, bits, N)[: needed_bits(3, False)])


# ----------------------------------------------------------------------------- whitening


@pytest.mark.parametrize("fill", [0x00, 0xFF])
def test_whitening_balances_bits(fill: int) -> None:
    _, bits = pack(bytes([fill]) * capacity_bytes(N, False), N)
    assert abs(bits.mean() - 0.5) < 0.02
    # no long runs either: the longest run of equal bits stays short
    changes = np.flatnonzero(np.diff(bits.astype(np.int8)))
    assert np.diff(changes).max() < 40


def test_scramblers_deterministic_and_key_dependent() -> None:
    public = ct._derive_seed(None)
    assert public == ct._derive_seed(None) and len(public) == 32
    keyed = ct._derive_seed(KEY)
    assert keyed == ct._derive_seed(KEY)
    assert len({public, keyed, ct._derive_seed(b"other key")}) == 3
    p1, k1 = ct._scramblers(public, 5000)
    p2, k2 = ct._scramblers(public, 5000)
    assert np.array_equal(p1, p2) and np.array_equal(k1, k2)
    assert np.array_equal(np.sort(p1), np.arange(5000))
    assert k1.shape == (5000,) and set(np.unique(k1)) <= {0, 1}
    assert abs(k1.mean() - 0.5) < 0.05
    p3, k3 = ct._scramblers(keyed, 5000)
    assert np.array_equal(np.sort(p3), np.arange(5000))
    assert not np.array_equal(p1, p3) and not np.array_equal(k1, k3)


# ----------------------------------------------------------------------------- RS layer


@pytest.mark.parametrize("nsym", [2, 17, 40, DEFAULT_NSYM, 224])
def test_rs_matches_reedsolo(nsym: int) -> None:
    rng = np.random.default_rng(nsym)
    codec = reedsolo.RSCodec(nsym)
    msgs = rng.integers(0, 256, (3, ct.RS_N - nsym), dtype=np.uint8)
    cws = rs.rs_encode(msgs, nsym)
    for msg, cw in zip(msgs, cws, strict=True):
        assert bytes(codec.encode(bytes(msg))) == bytes(cw)
        assert codec.check(bytes(cw)) == [True]
    bad = cws.copy()
    erase = np.full((3, nsym), -1)
    for row, (n_erase, n_err) in enumerate([(0, nsym // 2), (nsym, 0), (nsym // 2, nsym // 4)]):
        pos = rng.choice(ct.RS_N, n_erase + n_err, replace=False)
        bad[row, pos] ^= rng.integers(1, 256, len(pos), dtype=np.uint8)
        erase[row, :n_erase] = pos[:n_erase]
    fixed, ok = rs.rs_decode(bad, nsym, erase)
    assert ok.all() and np.array_equal(fixed, cws)


@pytest.mark.parametrize(("d", "p"), [(1, 2), (10, 40), (17, 29), (44, 75), (95, 160),
                                      (31, 224), (200, 55), (253, 2)])
def test_shortened_codewords_match_reedsolo(d: int, p: int) -> None:
    rng = np.random.default_rng(d * 1000 + p)
    codec = reedsolo.RSCodec(p)
    data = rng.bytes(d)
    encoded = ct._encode_blocks(data, 1, d, p)
    assert encoded.tobytes() == bytes(codec.encode(data))  # reedsolo shortens natively
    # interleaved: data byte i -> codeword i % C, channel byte j * C + c = byte j of c
    n_cw = 3
    data = rng.bytes(n_cw * d)
    channel = ct._encode_blocks(data, n_cw, d, p).reshape(d + p, n_cw)
    for c in range(n_cw):
        assert channel[:, c].tobytes() == bytes(codec.encode(data[c::n_cw]))
    # and decoding inverts it, up to p // 2 errors per codeword
    noisy = channel.copy()
    for c in range(n_cw):
        js = rng.choice(d + p, p // 2, replace=False)
        noisy[js, c] ^= rng.integers(1, 256, len(js), dtype=np.uint8)
    assert ct._decode_blocks(noisy.reshape(-1), None, n_cw, d, p) == data


def test_decode_blocks_fails_cleanly() -> None:
    d, p = 40, 60
    data = _payload(d, 14)
    channel = ct._encode_blocks(data, 1, d, p)
    rng = np.random.default_rng(15)
    noisy = channel.copy()
    js = rng.choice(d + p, p // 2 + 5, replace=False)
    noisy[js] ^= rng.integers(1, 256, len(js), dtype=np.uint8)
    assert ct._decode_blocks(noisy, None, 1, d, p) is None
    # with the wrong bytes least reliable, erasures fix it
    rel = np.ones(d + p)
    rel[js] = 0.0
    assert ct._decode_blocks(noisy, rel, 1, d, p) == data


@pytest.mark.parametrize("keyed", [False, True])
def test_packed_stream_is_reedsolo_codewords(keyed: bool) -> None:
    key = _key(keyed)
    payload = b"x" * 300
    ch = _packed(payload, N, key=key)
    head = _stream_bytes(ch, key, 0, HEAD_BYTES).tobytes()
    assert reedsolo.RSCodec(HEAD_PARITY).check(head) == [True]
    assert head[:HEAD_DATA] == _header(flags=int(keyed), length=300)
    n_cw, d, p = _layout(300, keyed, DEFAULT_NSYM)
    assert n_cw > 1
    body = _stream_bytes(ch, key, HEAD_BYTES, HEAD_BYTES + n_cw * (d + p)).reshape(d + p, n_cw)
    codec = reedsolo.RSCodec(p)
    for c in range(n_cw):
        assert codec.check(body[:, c].tobytes()) == [True]
    if not keyed:  # systematic: the data rows, read row by row, are payload + CRC
        assert body[:d].tobytes()[:300] == payload


# ----------------------------------------------------------------------------- arguments


_BITS = np.zeros(N, dtype=np.uint8)


@pytest.mark.parametrize(
    "call",
    [
        lambda: unpack(_BITS.reshape(2, -1)),
        lambda: unpack(_BITS + 2),
        lambda: unpack(np.full(N, 0.5)),
        lambda: unpack(np.array(["0", "1"])),
        lambda: unpack(_BITS, np.ones(N - 1)),
        lambda: unpack(_BITS, -np.ones(N)),
        lambda: unpack(_BITS, np.full(N, np.nan)),
        lambda: unpack(_BITS, np.full(N, np.inf)),
        lambda: unpack(_BITS, np.array(["a"] * N)),
        lambda: unpack(_BITS, key=b""),
        lambda: unpack(_BITS, key="text"),
        lambda: pack(b"a", N, key=b""),
        lambda: pack(b"a", N, key="text"),
        lambda: pack("text", N),
        lambda: pack(b"a", -1),
        lambda: pack(b"a", 1000.0),
        lambda: pack(b"a", True),
        lambda: pack(b"a", N, nsym=0),
        lambda: pack(b"a", N, nsym=255),
        lambda: pack(b"a", N, nsym=True),
        lambda: pack(b"a", N, nsym=32.0),
        lambda: capacity_bytes(N, False, nsym=255),
        lambda: capacity_bytes(-5, False),
        lambda: needed_bits(10, False, nsym=0),
    ],
)
def test_usage_errors(call) -> None:
    with pytest.raises(UsageError):
        call()


def test_accepts_bytes_like_and_numpy_ints() -> None:
    n = np.int64(N)
    positions, bits = pack(bytearray(b"abc"), n, key=None, nsym=np.int32(32))
    ch = _channel(positions, bits, N)
    assert unpack(ch.astype(bool)) == b"abc"
    assert unpack(ch.astype(np.float32), np.ones(N, dtype=np.float32)) == b"abc"
    assert unpack(list(ch)) == b"abc"


# ----------------------------------------------------------------------------- fuzzing


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n_bits=st.integers(0, 25_000), seed=st.integers(0, 2**32 - 1), with_rel=st.booleans())
def test_fuzz_unpack_random_bits(n_bits: int, seed: int, with_rel: bool) -> None:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, n_bits, dtype=np.uint8)
    rel = rng.exponential(1.0, n_bits) if with_rel else None
    with pytest.raises(PayloadError):  # anything else (or a payload) fails the test
        unpack(bits, rel)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    magic=st.sampled_from([MAGIC, b"SGN1", b"\x00\x00\x00\x00"]),
    flags=st.integers(0, 255),
    nsym=st.integers(0, 255),
    length=st.integers(0, 2**32 - 1) | st.integers(0, 500),
    seed=st.integers(0, 2**32 - 1),
)
def test_fuzz_header_fields(magic: bytes, flags: int, nsym: int, length: int,
                            seed: int) -> None:
    """Any header (valid RS) over random body bits: only PayloadError, never a payload."""
    header = _header(magic, flags, nsym, length)
    ch = _lay_out(header, bytes(5), N, None, DEFAULT_NSYM, seed)
    with pytest.raises(PayloadError):
        unpack(ch)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(0, 400),
    nsym=st.sampled_from([2, 8, 32, DEFAULT_NSYM]),
    ber=st.floats(0.0, 0.4),
    with_rel=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_fuzz_damaged_frame_never_garbage(size: int, nsym: int, ber: float, with_rel: bool,
                                          seed: int) -> None:
    rng = np.random.default_rng(seed)
    payload = rng.bytes(size)
    positions, bits = pack(payload, N, nsym=nsym)
    ch = _channel(positions, bits, N, seed)
    ch[positions[rng.random(len(positions)) < ber]] ^= 1
    rel = rng.exponential(1.0, N) if with_rel else None
    try:
        out = unpack(ch, rel)
    except PayloadError:
        return
    assert out == payload


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nsym=st.sampled_from([1, 32, 96, DEFAULT_NSYM, 224, 254]),
    extra=st.integers(0, 12_000),
    data=st.data(),
)
def test_fuzz_roundtrip(nsym: int, extra: int, data: st.DataObject) -> None:
    n_bits = needed_bits(0, False, nsym) + extra
    cap = capacity_bytes(n_bits, False, nsym)
    size = data.draw(st.integers(0, cap) | st.just(cap))
    payload = _payload(size, size)
    positions, bits = pack(payload, n_bits, nsym=nsym)
    assert len(positions) == needed_bits(size, False, nsym) <= n_bits
    assert unpack(_channel(positions, bits, n_bits, size)) == payload

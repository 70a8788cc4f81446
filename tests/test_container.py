"""Tests of stegnet.payload.container (framing, RS coding, whitening, encryption)."""

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
    StegnetError,
    UsageError,
    WrongKeyOrCorrupted,
)
from stegnet.payload import CODEWORD_BITS, DEFAULT_NSYM, capacity_bytes, pack, unpack
from stegnet.payload import container as ct

N = 30_000  # 14 codewords + 1_440 filler bits
N_CW = N // CODEWORD_BITS
KEY = b"correct horse battery staple"


def _payload(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).bytes(size)


def _corrupt_bytes(bits: np.ndarray, key: bytes | None, per_cw: int, seed: int) -> np.ndarray:
    """Corrupt `per_cw` distinct bytes (random non-zero XOR) in every RS codeword."""
    rng = np.random.default_rng(seed)
    n_cw = bits.size // CODEWORD_BITS
    perm, _ = ct._scramblers(ct._derive_seed(key), bits.size)
    out = bits.copy()
    for cw in range(n_cw):
        bytes_ = rng.choice(ct.RS_N, per_cw, replace=False)
        stream_bits = 8 * (bytes_ * n_cw + cw)[:, None] + np.arange(8)[None, :]
        masks = np.unpackbits(rng.integers(1, 256, per_cw, dtype=np.uint8)[:, None], axis=1)
        out[perm[stream_bits]] ^= masks
    return out


# ----------------------------------------------------------------------------- capacity


def test_capacity_formula() -> None:
    k = ct.RS_N - DEFAULT_NSYM
    assert capacity_bytes(N, keyed=False) == N_CW * k - 9 - 4
    assert capacity_bytes(N, keyed=True) == N_CW * k - 37 - 16
    assert capacity_bytes(N, False, nsym=32) == N_CW * (255 - 32) - 13
    assert capacity_bytes(CODEWORD_BITS - 1, False) == 0
    assert capacity_bytes(0, True) == 0
    assert ct.header_len(False) == 9 and ct.header_len(True) == 37


def test_pack_output_shape_and_values() -> None:
    bits = pack(b"hello", N + 3)
    assert bits.shape == (N + 3,) and bits.dtype == np.uint8
    assert set(np.unique(bits)) <= {0, 1}
    assert unpack(bits) == b"hello"


# ----------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("size", [0, 1, 1024, "cap"])
def test_roundtrip(size: int | str, keyed: bool) -> None:
    key = KEY if keyed else None
    n = capacity_bytes(N, keyed) if size == "cap" else size
    payload = _payload(n)
    bits = pack(payload, N, key=key)
    assert unpack(bits, key=key) == payload


def test_roundtrip_other_nsym_and_mismatch() -> None:
    payload = _payload(500, 3)
    bits = pack(payload, N, nsym=32)
    assert unpack(bits, nsym=32) == payload
    with pytest.raises(PayloadError):
        unpack(bits)  # wrong nsym never returns garbage


def test_large_cover_roundtrip() -> None:
    n_bits = 400_000
    payload = _payload(capacity_bytes(n_bits, False), 4)
    bits = pack(payload, n_bits)
    assert unpack(bits, np.ones(n_bits)) == payload


@pytest.mark.parametrize("keyed", [False, True])
def test_too_large(keyed: bool) -> None:
    key = KEY if keyed else None
    cap = capacity_bytes(N, keyed)
    with pytest.raises(PayloadTooLarge, match=f"capacity is {cap} bytes"):
        pack(bytes(cap + 1), N, key=key)


def test_cover_too_small_even_for_header() -> None:
    with pytest.raises(PayloadTooLarge, match="capacity is 0 bytes"):
        pack(b"", CODEWORD_BITS - 1)
    with pytest.raises(PayloadTooLarge):
        pack(b"", CODEWORD_BITS, key=KEY, nsym=250)


# ----------------------------------------------------------------------------- noise


@pytest.mark.parametrize("keyed", [False, True])
def test_random_bit_errors_3_percent(keyed: bool) -> None:
    key = KEY if keyed else None
    payload = _payload(capacity_bytes(N, keyed), 5)
    bits = pack(payload, N, key=key)
    rng = np.random.default_rng(6)
    noisy = bits.copy()
    noisy[rng.choice(N, int(0.03 * N), replace=False)] ^= 1
    assert unpack(noisy, key=key) == payload


def test_symbol_errors_at_correction_limit() -> None:
    payload = _payload(700, 7)
    bits = pack(payload, N)
    noisy = _corrupt_bytes(bits, None, DEFAULT_NSYM // 2, seed=8)
    assert unpack(noisy) == payload


@pytest.mark.parametrize("keyed", [False, True])
def test_symbol_errors_far_beyond_limit(keyed: bool) -> None:
    key = KEY if keyed else None
    bits = pack(_payload(700, 9), N, key=key)
    noisy = _corrupt_bytes(bits, key, 200, seed=10)
    expected = WrongKeyOrCorrupted if keyed else (PayloadNotFound, WrongKeyOrCorrupted)
    with pytest.raises(expected):
        unpack(noisy, key=key)
    with pytest.raises(expected):
        unpack(noisy, np.ones(N), key=key)


def test_reliability_guided_erasures() -> None:
    """Errors on low-reliability bits: beyond nsym/2 per codeword, below nsym."""
    payload = _payload(capacity_bytes(N, False), 11)
    bits = pack(payload, N)
    rng = np.random.default_rng(12)
    n_bad = int(0.7 * DEFAULT_NSYM)  # 112 byte errors per codeword > 80 = nsym/2
    noisy = bits.copy()
    rel = rng.uniform(1.0, 3.0, N)
    perm, _ = ct._scramblers(ct._derive_seed(None), N)
    for cw in range(N_CW):
        for byte in rng.choice(ct.RS_N, n_bad, replace=False):
            stream_byte = int(byte) * N_CW + cw
            pos = perm[8 * stream_byte + int(rng.integers(8))]
            noisy[pos] ^= 1
            rel[pos] = rng.uniform(0.0, 0.1)
    with pytest.raises(PayloadError):
        unpack(noisy)
    assert unpack(noisy, rel) == payload


# ----------------------------------------------------------------------------- keys


def test_wrong_key() -> None:
    bits = pack(b"secret", N, key=KEY)
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(bits, key=b"not the key")


def test_keyed_payload_without_key() -> None:
    bits = pack(b"secret", N, key=KEY)
    with pytest.raises(PayloadNotFound, match="key"):
        unpack(bits)  # positions are keyed: nothing is visible without it


def test_unkeyed_payload_with_key() -> None:
    bits = pack(b"public", N)
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(bits, key=KEY)


def test_encrypted_flag_without_key() -> None:
    # An encrypted frame laid out at the public positions: the header says "encrypted".
    frame = ct._build_frame(b"secret", KEY)
    bits = ct._frame_to_bits(frame, N, ct._derive_seed(None), DEFAULT_NSYM)
    with pytest.raises(WrongKeyOrCorrupted, match="payload is encrypted: a key is needed"):
        unpack(bits)


def test_authenticated_header_and_payload() -> None:
    seed = ct._derive_seed(KEY)
    frame = bytearray(ct._build_frame(b"secret payload", KEY))
    assert unpack(ct._frame_to_bits(bytes(frame), N, seed, DEFAULT_NSYM), key=KEY) == (
        b"secret payload"
    )
    for index in (0, 4, 8, 20, 40, len(frame) - 1):  # magic, flags, length, salt, ct, tag
        bad = bytearray(frame)
        bad[index] ^= 0x01
        with pytest.raises(WrongKeyOrCorrupted):
            unpack(ct._frame_to_bits(bytes(bad), N, seed, DEFAULT_NSYM), key=KEY)


def test_crc_detects_tampering() -> None:
    seed = ct._derive_seed(None)
    frame = bytearray(ct._build_frame(b"public payload", None))
    frame[12] ^= 0x40
    with pytest.raises(WrongKeyOrCorrupted, match="checksum"):
        unpack(ct._frame_to_bits(bytes(frame), N, seed, DEFAULT_NSYM))


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


def test_too_short_for_any_codeword() -> None:
    with pytest.raises(PayloadNotFound):
        unpack(np.zeros(CODEWORD_BITS - 1, dtype=np.uint8))
    with pytest.raises(WrongKeyOrCorrupted):
        unpack(np.zeros(10, dtype=np.uint8), key=KEY)


# ----------------------------------------------------------------------------- whitening


@pytest.mark.parametrize("fill", [0x00, 0xFF])
def test_whitening_balances_bits(fill: int) -> None:
    bits = pack(bytes([fill]) * capacity_bytes(N, False), N)
    assert abs(bits.mean() - 0.5) < 0.02


def test_scramblers_deterministic_and_key_dependent() -> None:
    p1, k1 = ct._scramblers(ct._derive_seed(None), 5000)
    p2, k2 = ct._scramblers(ct._derive_seed(None), 5000)
    assert np.array_equal(p1, p2) and np.array_equal(k1, k2)
    assert np.array_equal(np.sort(p1), np.arange(5000))
    p3, _ = ct._scramblers(b"\x01" * 32, 5000)
    assert not np.array_equal(p1, p3)


# ----------------------------------------------------------------------------- RS layer


@pytest.mark.parametrize("nsym", [2, 17, DEFAULT_NSYM])
def test_rs_matches_reedsolo(nsym: int) -> None:
    rng = np.random.default_rng(nsym)
    codec = reedsolo.RSCodec(nsym)
    msgs = rng.integers(0, 256, (3, ct.RS_N - nsym), dtype=np.uint8)
    cws = ct._rs_encode(msgs, nsym)
    for msg, cw in zip(msgs, cws, strict=True):
        assert bytes(codec.encode(bytes(msg))) == bytes(cw)
        assert codec.check(bytes(cw)) == [True]
    bad = cws.copy()
    erase = np.full((3, nsym), -1)
    for row, (n_erase, n_err) in enumerate([(0, nsym // 2), (nsym, 0), (nsym // 2, nsym // 4)]):
        pos = rng.choice(ct.RS_N, n_erase + n_err, replace=False)
        bad[row, pos] ^= rng.integers(1, 256, len(pos), dtype=np.uint8)
        erase[row, :n_erase] = pos[:n_erase]
    fixed, ok = ct._rs_decode(bad, nsym, erase)
    assert ok.all() and np.array_equal(fixed, cws)


def test_packed_codewords_are_reedsolo_codewords() -> None:
    bits = pack(b"x" * 100, N)
    perm, keystream = ct._scramblers(ct._derive_seed(None), N)
    stream = (bits[perm] ^ keystream)[: N_CW * CODEWORD_BITS]
    cws = np.packbits(stream).reshape(ct.RS_N, N_CW).T
    codec = reedsolo.RSCodec(DEFAULT_NSYM)
    for cw in cws[:3]:
        assert codec.check(bytes(cw)) == [True]


# ----------------------------------------------------------------------------- arguments


def test_usage_errors() -> None:
    bits = pack(b"a", N)
    with pytest.raises(UsageError):
        unpack(bits.reshape(2, -1))
    with pytest.raises(UsageError):
        unpack(bits * 2)
    with pytest.raises(UsageError):
        unpack(bits, np.ones(N - 1))
    with pytest.raises(UsageError):
        unpack(bits, -np.ones(N))
    with pytest.raises(UsageError):
        unpack(bits, np.full(N, np.nan))
    with pytest.raises(UsageError):
        unpack(bits, key=b"")
    with pytest.raises(UsageError):
        pack(b"a", N, nsym=0)
    with pytest.raises(UsageError):
        pack(b"a", -1)
    with pytest.raises(UsageError):
        pack("text", N)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        capacity_bytes(N, False, nsym=255)


# ----------------------------------------------------------------------------- fuzzing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_bits=st.integers(0, 25_000),
    seed=st.integers(0, 2**32 - 1),
    with_rel=st.booleans(),
)
def test_fuzz_unpack_random_bits(n_bits: int, seed: int, with_rel: bool) -> None:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, n_bits, dtype=np.uint8)
    rel = rng.exponential(1.0, n_bits) if with_rel else None
    try:
        unpack(bits, rel)
    except StegnetError:
        pass
    else:  # pragma: no cover - would mean random bits carried a valid CRC'd frame
        pytest.fail("random bits decoded to a payload")


@settings(max_examples=25, deadline=None)
@given(
    n_bits=st.integers(CODEWORD_BITS, 12_000),
    data=st.data(),
)
def test_fuzz_roundtrip(n_bits: int, data: st.DataObject) -> None:
    cap = capacity_bytes(n_bits, False)
    payload = data.draw(st.binary(max_size=cap))
    assert unpack(pack(payload, n_bits)) == payload

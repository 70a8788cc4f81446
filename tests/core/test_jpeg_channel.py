"""The jpeg channel: payload round trips through written JPEG files, keys, capacity, and
what the stego file keeps of the cover."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image  # noqa: E402

from stegnet import jpegio  # noqa: E402
from stegnet.channels import jpeg  # noqa: E402
from stegnet.channels.base import Channel, Report  # noqa: E402
from stegnet.errors import (  # noqa: E402
    PayloadNotFound,
    PayloadTooLarge,
    UsageError,
    WrongKeyOrCorrupted,
)
from stegnet.payload import exact  # noqa: E402
from stegnet.synthetic import synthetic_photo  # noqa: E402

CHANNEL = jpeg.CHANNEL


def make_jpeg(height: int, width: int, grey: bool = False, metadata: bool = False,
              **save: object) -> bytes:
    """A textured JPEG made by Pillow; ``metadata``: EXIF, XMP, ICC and a comment."""
    noise = np.random.default_rng(0).normal(0, 6, (height, width, 3))
    pixels = np.clip(synthetic_photo(height, width, 0) + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels).convert("L" if grey else "RGB")
    if metadata:
        exif = Image.Exif()
        exif[0x010F] = "stegnet"
        save.update(exif=exif.tobytes(), icc_profile=b"\0" * 128 + b"icc" * 20,
                    comment=b"a comment", xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **{"quality": 75, **save})
    return buffer.getvalue()


def app_segments(data: bytes) -> list[bytes]:
    """The APPn / COM segments of a JPEG's header, whole, in file order."""
    return [data[start:end] for marker, start, end in jpegio._segments(data)
            if 0xE0 <= marker <= 0xEF or marker == 0xFE]


def through_file(report: Report, tmp_path, name: str = "stego.jpg") -> tuple[bytes, object]:
    """Write the report's stego as a file, read it back: (bytes, JpegCover)."""
    path = tmp_path / name
    jpegio.write_jpeg(report.stego, path)
    data = path.read_bytes()
    return data, jpegio.read_jpeg(data)


@pytest.fixture(scope="module")
def cover_data() -> bytes:
    return make_jpeg(120, 160, quality=90, subsampling="4:4:4", metadata=True)


@pytest.fixture(scope="module")
def cover(cover_data) -> jpegio.JpegCover:
    return jpegio.read_jpeg(cover_data)


def test_protocol() -> None:
    assert isinstance(CHANNEL, Channel)
    assert (CHANNEL.name, CHANNEL.medium, CHANNEL.model_task) == ("jpeg", "jpeg", None)
    assert "costs" in CHANNEL.options and CHANNEL.min_cover_side == 8


@pytest.mark.parametrize("key", [None, b"correct horse"])
def test_round_trips(cover, key, tmp_path) -> None:
    capacity = CHANNEL.capacity(cover, key is not None)
    assert capacity > 512
    rng = np.random.default_rng(1)
    for size in (0, 1, 512, capacity):
        payload = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        report = CHANNEL.embed(cover, payload, key)
        assert report.decodable and report.raw_bit_errors == 0 and report.nsym == 0
        assert 0 < report.details["layer2_bits"] < 8 * (size + 4 + 28 * (key is not None))
        assert (report.channel, report.mode) == ("jpeg", "jpeg")
        assert report.details["costs"] == "juniward" and report.details["nzac"] > 0
        assert 0 < report.details["changed_coefficients"] < report.channel_bits
        _, stego = through_file(report, tmp_path, f"s{size}.jpg")
        assert CHANNEL.extract(stego, key) == payload
    with pytest.raises(PayloadTooLarge, match=f"capacity is {capacity} bytes"):
        CHANNEL.embed(cover, bytes(capacity + 1), key)


def test_keys_and_clean_covers(cover, tmp_path) -> None:
    report = CHANNEL.embed(cover, b"secret words", b"key one")
    _, stego = through_file(report, tmp_path)
    with pytest.raises(WrongKeyOrCorrupted):
        CHANNEL.extract(stego, b"key two")
    with pytest.raises(PayloadNotFound):
        CHANNEL.extract(stego, None)
    with pytest.raises(PayloadNotFound):
        CHANNEL.extract(cover, None)
    with pytest.raises(WrongKeyOrCorrupted):
        CHANNEL.extract(cover, b"key one")
    unkeyed = CHANNEL.embed(cover, b"open words", None).stego
    with pytest.raises(WrongKeyOrCorrupted):
        CHANNEL.extract(unkeyed, b"key one")
    # the magic names the channel: the same frame under another magic is not found
    values = unkeyed.coefficients()[jpeg.ac_index(unkeyed.coefficients().size)]
    with pytest.raises(PayloadNotFound):
        exact.extract(values, None, b"SGN8")
    assert exact.extract(values, None, jpeg.MAGIC) == b"open words"


def test_stego_file_keeps_the_cover(cover, cover_data, tmp_path) -> None:
    payload = os.urandom(600)
    report = CHANNEL.embed(cover, payload, None, costs="uerd")
    assert report.details["costs"] == "uerd"
    data, stego = through_file(report, tmp_path)
    for a, b in zip(stego.quant_tables, cover.quant_tables, strict=True):
        np.testing.assert_array_equal(a, b)
    assert stego.sampling == cover.sampling and stego.progressive == cover.progressive
    assert len(app_segments(data)) == 5  # JFIF, EXIF, XMP, ICC, COM: byte for byte
    assert app_segments(data) == app_segments(cover_data)
    assert abs(len(data) / len(cover_data) - 1) < 0.03
    # only AC terms changed, by one; decoded pixels differ only in the changed blocks
    before, after = cover.coefficients(), stego.coefficients()
    diff = (after.astype(int) - before).reshape(-1, 64)
    assert np.abs(diff).max() == 1 and not diff[:, 0].any()
    assert np.count_nonzero(diff) == report.details["changed_coefficients"]
    blocks = [c.shape[:2] for c in cover.components]  # 4:4:4: the same grid for all three
    changed = diff.reshape(3, *blocks[0], 64).any(axis=(0, 3))
    pixels = np.abs(np.asarray(Image.open(io.BytesIO(data)), dtype=int)
                    - np.asarray(Image.open(io.BytesIO(cover_data)), dtype=int)).max(axis=2)
    touched = np.kron(changed, np.ones((8, 8), bool))[: cover.height, : cover.width]
    assert pixels[touched].any() and not pixels[~touched].any()


@pytest.mark.parametrize("save", [dict(progressive=True), dict(grey=True),
                                  dict(restart_marker_blocks=2, subsampling="4:2:2"),
                                  dict(height=50, width=75, quality=95)])
def test_other_kinds_of_jpeg(save, tmp_path) -> None:
    data = make_jpeg(**{"height": 96, "width": 128, **save})
    cover = jpegio.read_jpeg(data)
    payload = b"x" * min(200, CHANNEL.capacity(cover, True))
    report = CHANNEL.embed(cover, payload, b"k", costs="uerd")
    _, stego = through_file(report, tmp_path)
    assert stego.progressive == cover.progressive and stego.sampling == cover.sampling
    assert CHANNEL.extract(stego, b"k") == payload


def test_small_and_smooth_covers() -> None:
    tiny = jpegio.read_jpeg(make_jpeg(16, 16))
    assert CHANNEL.capacity(tiny, False) == 0
    with pytest.raises(PayloadTooLarge, match="too small"):
        CHANNEL.embed(tiny, b"", None)
    flat = jpegio.compress(np.full((64, 64, 3), 128, np.uint8), 75)
    assert jpeg.nzac(flat) == 0 and CHANNEL.capacity(flat, True) == 0
    with pytest.raises(UsageError, match="unknown JPEG costs"):
        CHANNEL.embed(tiny, b"", None, costs="hill")


def test_capacity_follows_nonzero_ac(cover) -> None:
    for keyed in (False, True):
        capacity = jpeg.capacity_bytes(cover, keyed)
        limit = jpeg.MAX_BPNZAC * jpeg.nzac(cover)
        assert exact.needed_bits(capacity, keyed) <= limit
        assert exact.needed_bits(capacity + 1, keyed) > limit
    assert jpeg.channel_bits(cover) == 63 * sum(c.size // 64 for c in cover.components)

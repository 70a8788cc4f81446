"""Tests for :mod:`stegnet.imageio`: every fixture file is generated in ``tmp_path``."""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from stegnet import imageio
from stegnet.errors import InputError, OutputError, UsageError

RNG = np.random.default_rng(1234)


def noise(height: int = 24, width: int = 32, channels: int = 3) -> np.ndarray:
    shape = (height, width) if channels == 1 else (height, width, channels)
    return RNG.integers(0, 256, shape, dtype=np.uint8)


def assert_one_line_about(exc: BaseException, name: str, *fragments: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert message.startswith(f"{name}: "), message
    for fragment in fragments:
        assert fragment in message, message


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def rgb16_png(samples: np.ndarray) -> bytes:
    """A 16-bit RGB PNG built by hand (Pillow cannot write one)."""
    height, width, _ = samples.shape
    rows = b"".join(b"\0" + samples[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


class FakeStdout:
    """Stand-in for ``sys.stdout`` with a binary ``buffer`` and a chosen ``isatty``."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.buffer = io.BytesIO()

    def isatty(self) -> bool:
        return self.tty

    def flush(self) -> None:
        pass


class FakeStdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


# --------------------------------------------------------------------------------------------
# load_rgb: bad inputs
# --------------------------------------------------------------------------------------------


def _truncated(fmt: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        data = encoded(Image.fromarray(noise(64, 64)), fmt)
        path.write_bytes(data[: len(data) // 2])

    return make


def _corrupt_png() -> bytes:
    """A PNG with a valid header and chunk CRCs whose image data is not zlib."""
    header = struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"this is not deflate data" * 20)
        + png_chunk(b"IEND", b"")
    )


BAD_INPUTS: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("missing", "absent.png", lambda p: None, "no such file"),
    ("directory", "folder.png", lambda p: p.mkdir(), "is a directory"),
    ("empty", "empty.png", lambda p: p.write_bytes(b""), "empty file"),
    ("text", "notes.png", lambda p: p.write_text("hello, not a picture\n"), "not an image file"),
    ("png signature only", "sig.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n"), ""),
    ("truncated png", "cut.png", _truncated("PNG"), "truncated"),
    ("corrupt png data", "bad.png", lambda p: p.write_bytes(_corrupt_png()), "damaged"),
    ("truncated jpeg", "cut.jpg", _truncated("JPEG"), "truncated"),
    (
        "eps refused",
        "doc.eps",
        lambda p: p.write_text("%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n"),
        "not an image file",
    ),
    (
        "1x1 image",
        "dot.png",
        lambda p: Image.new("RGB", (1, 1)).save(p),
        "1x1",
    ),
    (
        "too narrow",
        "narrow.png",
        lambda p: Image.new("RGB", (15, 64)).save(p),
        "15x64",
    ),
]


@pytest.mark.parametrize(
    ("filename", "make", "fragment"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_input_error_naming_the_file(
    tmp_path: Path, filename: str, make: Callable[[Path], None], fragment: str
) -> None:
    path = tmp_path / filename
    make(path)
    with pytest.raises(InputError) as info:
        imageio.load_rgb(path)
    assert_one_line_about(info.value, str(path), fragment)


def test_bad_bytes_use_given_name() -> None:
    with pytest.raises(InputError) as info:
        imageio.load_rgb(b"GIF89a garbage", name="upload.gif")
    assert_one_line_about(info.value, "upload.gif")
    with pytest.raises(InputError) as info:
        imageio.load_rgb(b"")
    assert_one_line_about(info.value, "<bytes>", "empty file")


def test_stdin_source(monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = noise()
    monkeypatch.setattr("sys.stdin", FakeStdin(encoded(Image.fromarray(pixels), "PNG")))
    np.testing.assert_array_equal(imageio.load_rgb("-"), pixels)
    monkeypatch.setattr("sys.stdin", FakeStdin(b""))
    with pytest.raises(InputError) as info:
        imageio.load_rgb("-")
    assert_one_line_about(info.value, "<stdin>", "empty file")


def test_min_side_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.new("RGB", (20, 20)).save(path)
    assert imageio.load_rgb(path).shape == (20, 20, 3)
    with pytest.raises(InputError) as info:
        imageio.load_rgb(path, min_side=32)
    assert_one_line_about(info.value, str(path), "20x20", "32x32")
    assert imageio.load_rgb(path, min_side=1).shape == (20, 20, 3)


def test_truncated_fails_even_if_pillow_flag_was_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = tmp_path / "cut.jpg"
    _truncated("JPEG")(path)
    with pytest.raises(InputError, match="truncated"):
        imageio.load_rgb(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored


@pytest.mark.parametrize("limit", [200, 100], ids=["warning-level", "error-level"])
def test_decompression_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    # 16x16 = 256 pixels: above the limit (Pillow warns) or above twice it (Pillow raises)
    path = tmp_path / "bomb.png"
    Image.new("RGB", (16, 16)).save(path)
    before = Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(imageio, "MAX_PIXELS", limit)
    with pytest.raises(InputError) as info:
        imageio.load_rgb(path)
    assert_one_line_about(info.value, str(path), "too large", str(limit))
    assert Image.MAX_IMAGE_PIXELS == before
    monkeypatch.setattr(imageio, "MAX_PIXELS", 256)
    assert imageio.load_rgb(path).shape == (16, 16, 3)


def test_default_pixel_limit() -> None:
    assert imageio.MAX_PIXELS == 100_000_000
    assert imageio.MIN_SIDE == 16


# --------------------------------------------------------------------------------------------
# load_rgb: modes, orientation, frames
# --------------------------------------------------------------------------------------------


def _rgba_case() -> tuple[bytes, np.ndarray]:
    rgba = noise(channels=4)
    rgba[:, :8, 3] = 0  # fully transparent pixels keep their colour too
    return encoded(Image.fromarray(rgba), "PNG"), rgba[:, :, :3]


def _la_case() -> tuple[bytes, np.ndarray]:
    la = noise(channels=2)
    gray = la[:, :, 0]
    return encoded(Image.fromarray(la), "PNG"), np.stack([gray] * 3, axis=2)


def _palette_case(transparency: bool) -> tuple[bytes, np.ndarray]:
    palette = noise(1, 256)[0]  # 256 random RGB entries
    index = RNG.integers(0, 256, (24, 32), dtype=np.uint8)
    img = Image.fromarray(index).convert("L")
    img = Image.frombytes("P", img.size, img.tobytes())
    img.putpalette(palette.tobytes())
    params = {"transparency": bytes(range(256))} if transparency else {}
    return encoded(img, "PNG", **params), palette[index]


def _gray_case() -> tuple[bytes, np.ndarray]:
    gray = noise(channels=1)
    return encoded(Image.fromarray(gray), "PNG"), np.stack([gray] * 3, axis=2)


def _bilevel_case() -> tuple[bytes, np.ndarray]:
    bits = noise(channels=1) > 127
    img = Image.fromarray(np.where(bits, 255, 0).astype(np.uint8)).convert("1")
    expected = np.where(bits, 255, 0).astype(np.uint8)
    return encoded(img, "PNG"), np.stack([expected] * 3, axis=2)


def _gray16_case() -> tuple[bytes, np.ndarray]:
    values = np.array([0, 65535, 256 * 100, 32767, 255, 256, 511, 65280], dtype=np.uint16)
    img = Image.fromarray(np.tile(values, (16, 2)))
    assert img.mode == "I;16"
    expected = np.tile(np.array([0, 255, 100, 127, 0, 1, 1, 255], np.uint8), (16, 2))
    return encoded(img, "PNG"), np.stack([expected] * 3, axis=2)


def _rgb16_case() -> tuple[bytes, np.ndarray]:
    samples = np.zeros((16, 16, 3), dtype=np.uint16)
    samples[..., 0], samples[..., 1], samples[..., 2] = 65535, 256 * 100, 32767
    expected = np.zeros((16, 16, 3), dtype=np.uint8)
    expected[..., 0], expected[..., 1], expected[..., 2] = 255, 100, 127
    return rgb16_png(samples), expected


def _int32_case() -> tuple[bytes, np.ndarray]:
    values = np.array([-3, 0, 65535, 70000, 256 * 42, 1000], dtype=np.int32)
    img = Image.fromarray(np.tile(values, (16, 3)))
    assert img.mode == "I"
    expected = np.tile(np.array([0, 0, 255, 255, 42, 3], np.uint8), (16, 3))
    return encoded(img, "TIFF"), np.stack([expected] * 3, axis=2)


def _float_case() -> tuple[bytes, np.ndarray]:
    values = np.array([-5.0, 0.4, 127.6, 300.0, np.nan, 254.5], dtype=np.float32)
    img = Image.fromarray(np.tile(values, (16, 3)))
    assert img.mode == "F"
    expected = np.tile(np.array([0, 0, 128, 255, 0, 254], np.uint8), (16, 3))
    return encoded(img, "TIFF"), np.stack([expected] * 3, axis=2)


def _bmp_case() -> tuple[bytes, np.ndarray]:
    rgb = noise()
    return encoded(Image.fromarray(rgb), "BMP"), rgb


EXACT_CASES: list[tuple[str, Callable[[], tuple[bytes, np.ndarray]]]] = [
    ("rgba alpha dropped", _rgba_case),
    ("la alpha dropped", _la_case),
    ("palette", lambda: _palette_case(False)),
    ("palette with transparency", lambda: _palette_case(True)),
    ("grayscale", _gray_case),
    ("bilevel", _bilevel_case),
    ("16-bit gray png", _gray16_case),
    ("16-bit rgb png", _rgb16_case),
    ("32-bit int tiff", _int32_case),
    ("float tiff", _float_case),
    ("bmp", _bmp_case),
]


@pytest.mark.parametrize("make", [c[1] for c in EXACT_CASES], ids=[c[0] for c in EXACT_CASES])
def test_mode_conversion_exact(
    tmp_path: Path, make: Callable[[], tuple[bytes, np.ndarray]]
) -> None:
    data, expected = make()
    path = tmp_path / "input.img"
    path.write_bytes(data)
    for source in (path, str(path), data):
        result = imageio.load_rgb(source)
        assert result.dtype == np.uint8
        assert result.flags.c_contiguous and result.flags.writeable
        np.testing.assert_array_equal(result, expected)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    cmyk = Image.new("CMYK", (32, 24), (0, 0, 0, 0))  # no ink: white
    cmyk.paste((0, 255, 255, 0), (0, 0, 16, 24))  # magenta + yellow ink: red
    cmyk.save(path, "JPEG", quality=95)
    result = imageio.load_rgb(path)
    assert result.shape == (24, 32, 3)
    np.testing.assert_allclose(result[12, 4], [255, 0, 0], atol=12)
    np.testing.assert_allclose(result[12, 28], [255, 255, 255], atol=12)


def test_exif_orientation_applied(tmp_path: Path) -> None:
    stored = np.zeros((24, 40, 3), dtype=np.uint8)  # 40 wide, 24 high as stored
    stored[:8, :8] = (255, 0, 0)  # red marker in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, "JPEG", quality=95, exif=exif.tobytes())
    result = imageio.load_rgb(path)
    assert result.shape == (40, 24, 3)  # transposed
    # after a clockwise quarter turn the stored top-left corner is displayed top-right
    assert result[2, 21, 0] > 200 and result[2, 21, 1:].max() < 60
    assert result[2, 2].max() < 60


def _animation(fmt: str, path: Path) -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (20, 18), colour) for colour in colours]
    params: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": 50}
    if fmt == "WEBP":
        params["lossless"] = True
    if fmt == "GIF":
        params["loop"] = 0
    frames[0].save(path, fmt, **params)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"], ids=["gif", "apng", "webp"])
def test_animated_first_frame(tmp_path: Path, fmt: str) -> None:
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP support")
    path = tmp_path / f"anim.{fmt.lower()}"
    _animation(fmt, path)
    with Image.open(path) as check:
        assert getattr(check, "n_frames", 1) == 3
    result = imageio.load_rgb(path)
    assert result.shape == (18, 20, 3)
    assert (result == np.array([255, 0, 0], np.uint8)).all()


# --------------------------------------------------------------------------------------------
# encode / round trip
# --------------------------------------------------------------------------------------------


def test_encode_and_roundtrip() -> None:
    pixels = noise(5, 7)
    data = imageio.encode_png(pixels)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    back = imageio.decode_png_roundtrip(pixels)
    np.testing.assert_array_equal(back, pixels)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
    ],
    ids=["float", "2d", "rgba", "empty"],
)
def test_encode_rejects_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        imageio.encode_png(bad)


# --------------------------------------------------------------------------------------------
# save_png / write_bytes
# --------------------------------------------------------------------------------------------

WRITERS: list[tuple[str, Callable[[Path, bool], None], str]] = [
    ("save_png", lambda p, f: imageio.save_png(noise(), p, force=f), "out.png"),
    ("write_bytes", lambda p, f: imageio.write_bytes(b"new data", p, force=f), "out.bin"),
]
WRITER_IDS = [w[0] for w in WRITERS]
WRITER_ARGS = [w[1:] for w in WRITERS]


def test_save_png_writes_loadable_png_atomically(tmp_path: Path) -> None:
    pixels = noise()
    path = tmp_path / "stego.png"
    imageio.save_png(pixels, path)
    assert listing(tmp_path) == ["stego.png"]
    np.testing.assert_array_equal(imageio.load_rgb(path), pixels)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_write_bytes_and_read_bytes(tmp_path: Path) -> None:
    path = tmp_path / "payload.bin"
    imageio.write_bytes(b"\x00\x01secret", path)
    assert listing(tmp_path) == ["payload.bin"]
    assert imageio.read_bytes(path) == b"\x00\x01secret"
    imageio.write_bytes(b"", tmp_path / "empty.bin")
    assert imageio.read_bytes(str(tmp_path / "empty.bin")) == b""


@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_exists_without_force_is_refused_and_untouched(
    tmp_path: Path, write: Callable[[Path, bool], None], filename: str
) -> None:
    path = tmp_path / filename
    path.write_bytes(b"original")
    with pytest.raises(OutputError) as info:
        write(path, False)
    assert_one_line_about(info.value, str(path), "exists (use --force to overwrite)")
    assert path.read_bytes() == b"original"
    assert listing(tmp_path) == [filename]


@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_force_overwrites_and_keeps_mode(
    tmp_path: Path, write: Callable[[Path, bool], None], filename: str
) -> None:
    path = tmp_path / filename
    path.write_bytes(b"original")
    path.chmod(0o640)
    write(path, True)
    assert path.read_bytes() != b"original"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert listing(tmp_path) == [filename]


FAILURE_POINTS = [
    ("os.replace", "replace"),
    ("os.fsync", "fsync"),
    ("os.chmod", "chmod"),
]


@pytest.mark.parametrize(
    "target", [f[0] for f in FAILURE_POINTS], ids=[f[1] for f in FAILURE_POINTS]
)
@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_disk_full_leaves_original_and_no_temp_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write: Callable[[Path, bool], None],
    filename: str,
    target: str,
) -> None:
    path = tmp_path / filename
    path.write_bytes(b"original")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(target, fail)
    with pytest.raises(OutputError) as info:
        write(path, True)
    monkeypatch.undo()
    assert_one_line_about(info.value, str(path), "no space left on device")
    assert path.read_bytes() == b"original"
    assert listing(tmp_path) == [filename]


@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_read_only_directory(
    tmp_path: Path, write: Callable[[Path, bool], None], filename: str
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        probe = locked / "probe"
        try:
            probe.write_bytes(b"")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("privileged user: chmod 0o555 does not block writes (root)")
        with pytest.raises(OutputError) as info:
            write(locked / filename, False)
        assert_one_line_about(info.value, str(locked / filename), "permission denied")
        assert listing(locked) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_missing_parent_directory(
    tmp_path: Path, write: Callable[[Path, bool], None], filename: str
) -> None:
    path = tmp_path / "nowhere" / filename
    with pytest.raises(OutputError) as info:
        write(path, True)
    assert_one_line_about(info.value, str(path), "does not exist")
    assert listing(tmp_path) == []


@pytest.mark.parametrize(("write", "filename"), WRITER_ARGS, ids=WRITER_IDS)
def test_destination_is_directory(
    tmp_path: Path, write: Callable[[Path, bool], None], filename: str
) -> None:
    path = tmp_path / filename
    path.mkdir()
    with pytest.raises(OutputError) as info:
        write(path, True)
    assert_one_line_about(info.value, str(path), "is a directory")


@pytest.mark.parametrize("name", ["out.jpg", "out.JPEG", "out.webp", "out", "out.png.bmp"])
def test_save_png_refuses_other_extensions(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(UsageError) as info:
        imageio.save_png(noise(), path)
    assert_one_line_about(info.value, str(path), "output must be PNG")
    assert listing(tmp_path) == []


def test_save_png_extension_case_insensitive(tmp_path: Path) -> None:
    imageio.save_png(noise(), tmp_path / "OUT.PNG")
    assert listing(tmp_path) == ["OUT.PNG"]


@pytest.mark.parametrize(
    "write",
    [lambda: imageio.save_png(noise(), "-"), lambda: imageio.write_bytes(b"\x00bin", "-")],
    ids=WRITER_IDS,
)
def test_stdout_refuses_terminal(
    monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]
) -> None:
    fake = FakeStdout(tty=True)
    monkeypatch.setattr("sys.stdout", fake)
    with pytest.raises(UsageError) as info:
        write()
    assert "refusing to write binary data to a terminal; use -o FILE or a pipe" in str(info.value)
    assert fake.buffer.getvalue() == b""


def test_stdout_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeStdout(tty=False)
    monkeypatch.setattr("sys.stdout", fake)
    imageio.write_bytes(b"\x00bin", "-")
    assert fake.buffer.getvalue() == b"\x00bin"
    pixels = noise()
    fake.buffer = io.BytesIO()
    imageio.save_png(pixels, "-")
    np.testing.assert_array_equal(imageio.load_rgb(fake.buffer.getvalue()), pixels)


# --------------------------------------------------------------------------------------------
# read_bytes
# --------------------------------------------------------------------------------------------


def test_read_bytes_errors_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError) as info:
        imageio.read_bytes(tmp_path / "absent.bin")
    assert_one_line_about(info.value, str(tmp_path / "absent.bin"), "no such file")
    with pytest.raises(InputError) as info:
        imageio.read_bytes(tmp_path)
    assert_one_line_about(info.value, str(tmp_path), "is a directory")
    monkeypatch.setattr("sys.stdin", FakeStdin(b"piped"))
    assert imageio.read_bytes("-") == b"piped"


# --------------------------------------------------------------------------------------------
# check_output_path
# --------------------------------------------------------------------------------------------


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "in.png").write_bytes(b"cover")
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path / "in.png", tmp_path / "alias.png")
    os.link(tmp_path / "in.png", tmp_path / "hard.png")
    return tmp_path


CHECKS: list[tuple[str, str, bool, bool, type[Exception] | None, str]] = [
    # (id, output relative to tmp_path, force, png, expected error, message fragment)
    ("same path", "in.png", False, True, UsageError, "output would overwrite an input"),
    ("same path forced", "in.png", True, True, UsageError, "output would overwrite an input"),
    ("other spelling", "sub/../in.png", True, True, UsageError, "would overwrite an input"),
    ("symlink to input", "alias.png", True, True, UsageError, "would overwrite an input"),
    ("hard link to input", "hard.png", True, True, UsageError, "would overwrite an input"),
    ("fresh png", "new.png", False, True, None, ""),
    ("fresh bytes", "new.bin", False, False, None, ""),
    ("jpg refused", "new.jpg", False, True, UsageError, "output must be PNG"),
    ("exists", "existing.png", False, True, OutputError, "exists (use --force to overwrite)"),
    ("exists forced", "existing.png", True, True, None, ""),
    ("missing parent", "gone/new.png", True, True, OutputError, "does not exist"),
    ("directory", "sub", True, False, OutputError, "is a directory"),
]


@pytest.mark.parametrize(
    ("output", "force", "png", "error", "fragment"),
    [c[1:] for c in CHECKS],
    ids=[c[0] for c in CHECKS],
)
def test_check_output_path(
    tmp_path: Path,
    output: str,
    force: bool,
    png: bool,
    error: type[Exception] | None,
    fragment: str,
) -> None:
    root = _setup(tmp_path)
    (root / "existing.png").write_bytes(b"x")
    before = listing(root)
    target = str(root / output)
    inputs = [str(root / "in.png"), "-", None, b"raw"]
    if error is None:
        imageio.check_output_path(target, inputs, force=force, png=png)
    else:
        with pytest.raises(error) as info:
            imageio.check_output_path(target, inputs, force=force, png=png)
        assert_one_line_about(info.value, target, fragment)
    assert listing(root) == before  # checking never creates anything


def test_check_output_path_stdout_and_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imageio.check_output_path("-", ["-"], force=False, png=True)
    imageio.check_output_path(None, [], force=False, png=True)
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="^in.png: output would overwrite an input$"):
        imageio.check_output_path("in.png", [tmp_path / "in.png"], force=True, png=True)


def test_special_destination_is_written_directly_not_replaced(tmp_path) -> None:
    """Writing to a FIFO (like /dev/stdout) must write into it, never rename over it."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    imageio.write_bytes(b"payload through a pipe", fifo)
    reader.join(timeout=10)
    assert received == [b"payload through a pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a pipe, not replaced by a file

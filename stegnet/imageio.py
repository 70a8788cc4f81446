"""Image and byte input/output for the CLI and the library.

Everything a user can get wrong here (missing file, not an image, truncated data, refused
output path, full disk, ...) raises a :mod:`stegnet.errors` exception with a one-line message
that starts with the file name, e.g. ``cover.png: not an image file``. Pillow and OS exceptions
never escape from the user-facing functions.

Reading
    :func:`load_rgb` decodes any supported raster image to an ``H x W x 3`` ``uint8`` RGB
    array; :func:`read_bytes` reads a file or standard input.

Writing
    :func:`save_png` and :func:`write_bytes` (from :mod:`stegnet.fileio`) write
    atomically: the data goes to a temporary file in the destination directory, which is
    flushed, fsynced and then moved over the destination with :func:`os.replace`. A
    failure leaves neither a partial output nor a temporary file behind, and an existing
    file is never damaged.

The path ``"-"`` means standard input for readers and standard output for writers.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from stegnet.errors import InputError, StegnetError, UsageError
from stegnet.fileio import (
    NOT_PNG_MESSAGE,
    PathArg,
    atomic_write,
    check_destination,
    check_output_path,
    fspath,
    is_png_name,
    is_special,
    is_stdio,
    one_line,
    os_reason,
    write_bytes,
    write_stdout,
)

__all__ = [
    "FORMATS",
    "MAX_PIXELS",
    "MIN_SIDE",
    "check_output_path",
    "decode_png_roundtrip",
    "encode_png",
    "load_rgb",
    "read_bytes",
    "save_png",
    "write_bytes",
]

#: Smallest accepted width and height in pixels (callers may ask for more).
MIN_SIDE = 16

#: Largest accepted image, in pixels. It is installed as ``PIL.Image.MAX_IMAGE_PIXELS`` while
#: an image is opened, and Pillow's decompression-bomb *warning* is turned into an error, so
#: anything larger is refused. Callers may raise (or lower) it; ``None`` disables the check.
MAX_PIXELS: int | None = 100_000_000

#: Pillow formats :func:`load_rgb` accepts (those available in the installed Pillow). Others,
#: notably EPS (which would run Ghostscript on untrusted input), are refused as non-images.
FORMATS: tuple[str, ...] = (
    "PNG",
    "JPEG",
    "GIF",
    "WEBP",
    "AVIF",
    "BMP",
    "TIFF",
    "PPM",
    "TGA",
    "QOI",
    "JPEG2000",
)

_STDIN_LABEL = "<stdin>"
_BYTES_LABEL = "<bytes>"
_NOT_PNG_MESSAGE = "output must be PNG (a lossy or other format would destroy the hidden data)"



# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def _read_stdin(label: str) -> bytes:
    """All of standard input as bytes."""
    stdin = sys.stdin
    if stdin is None:
        raise InputError(f"{label}: standard input is not available")
    try:
        return stdin.buffer.read()
    except OSError as exc:
        raise InputError(f"{label}: cannot read ({os_reason(exc)})") from None


def _open_file(path: str, label: str) -> BinaryIO:
    """Open ``path`` for binary reading, mapping OS problems to :class:`InputError`.

    The returned stream is seekable: regular files are used as they are, anything else
    (a FIFO, ``/dev/stdin``, ...) is read into memory first.
    """
    if os.path.isdir(path):
        raise InputError(f"{label}: is a directory")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot open ({os_reason(exc)})") from None
    try:
        info = os.fstat(handle.fileno())
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{label}: is a directory")
        if stat.S_ISREG(info.st_mode):
            return handle
        with handle:
            return io.BytesIO(handle.read())
    except OSError as exc:
        handle.close()
        raise InputError(f"{label}: cannot read ({os_reason(exc)})") from None
    except BaseException:
        handle.close()
        raise


def _open_source(source: PathArg | bytes, name: str | None) -> tuple[str, BinaryIO]:
    """Resolve ``source`` to a (label, seekable binary stream) pair; the stream is not empty."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or _BYTES_LABEL
        stream: BinaryIO = io.BytesIO(bytes(source))
    elif is_stdio(source):
        label = name or _STDIN_LABEL
        stream = io.BytesIO(_read_stdin(label))
    else:
        path = fspath(source)
        label = name or path
        stream = _open_file(path, label)
    try:
        empty = stream.read(1) == b""
        stream.seek(0)
    except OSError as exc:
        stream.close()
        raise InputError(f"{label}: cannot read ({os_reason(exc)})") from None
    if empty:
        stream.close()
        raise InputError(f"{label}: empty file")
    return label, stream


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """Replicate a 2-D ``uint8`` array into three identical channels."""
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image of any mode to an ``H x W x 3`` ``uint8`` array.

    Raises :class:`ValueError` for modes without a conversion to RGB.
    """
    mode = img.mode
    if mode == "RGB":
        return np.array(img, dtype=np.uint8)
    if mode in ("RGBA", "RGBX"):
        # Alpha (or padding) is discarded: colour channels are kept as stored, not composited.
        return np.array(img, dtype=np.uint8)[:, :, :3]
    if mode == "RGBa":  # premultiplied alpha: undo the premultiplication, then drop alpha
        return np.array(img.convert("RGBA"), dtype=np.uint8)[:, :, :3]
    if mode in ("P", "PA"):
        # Through RGBA so that a palette with transparency converts cleanly; alpha is dropped.
        return np.array(img.convert("RGBA"), dtype=np.uint8)[:, :, :3]
    if mode == "L":
        return _gray_to_rgb(np.array(img, dtype=np.uint8))
    if mode == "1":
        return _gray_to_rgb(np.array(img.convert("L"), dtype=np.uint8))
    if mode in ("LA", "La"):
        return _gray_to_rgb(np.array(img.convert("LA"), dtype=np.uint8)[:, :, 0])
    if mode.startswith("I;16") or mode == "I":
        # 16-bit samples keep their high byte (value >> 8), the same reduction Pillow applies
        # to 16-bit RGB PNGs, so 16-bit grey and 16-bit colour images agree. Mode "I" is
        # treated as 16-bit data (what PNG, PGM and TIFF decoders produce), clipped to range.
        wide = np.asarray(img).astype(np.int64)
        return _gray_to_rgb((np.clip(wide, 0, 0xFFFF) >> 8).astype(np.uint8))
    if mode == "F":
        values = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0)
        return _gray_to_rgb(np.rint(np.clip(values, 0.0, 255.0)).astype(np.uint8))
    # CMYK, YCbCr, LAB, HSV and anything Pillow may add: let Pillow convert.
    return np.array(img.convert("RGB"), dtype=np.uint8)


def _allowed_formats() -> list[str]:
    Image.init()
    return [fmt for fmt in FORMATS if fmt in Image.OPEN]


def _decode(stream: BinaryIO, label: str, min_side: int) -> np.ndarray:
    """Decode the first frame of ``stream`` fully; every failure becomes :class:`InputError`."""
    limit = MAX_PIXELS
    saved_limit = Image.MAX_IMAGE_PIXELS
    saved_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS = limit
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file must fail, not load grey
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                img = Image.open(stream, formats=_allowed_formats())
            except UnidentifiedImageError:
                raise InputError(f"{label}: not an image file") from None
            with img:
                width, height = img.size
                if width < min_side or height < min_side:
                    raise InputError(
                        f"{label}: image is {width}x{height} pixels, smaller than the minimum "
                        f"{min_side}x{min_side}"
                    )
                img.load()  # force the complete decode of the first frame, here, in the try
                upright = ImageOps.exif_transpose(img)
                assert upright is not None  # not in place: always returns an image
                try:
                    return np.ascontiguousarray(_to_rgb_array(upright))
                except ValueError:
                    raise InputError(
                        f"{label}: unsupported image mode {img.mode} ({img.format})"
                    ) from None
    except StegnetError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(
            f"{label}: image too large (more than {limit} pixels; possible decompression bomb)"
        ) from None
    except MemoryError:
        raise InputError(f"{label}: image too large to decode (out of memory)") from None
    except OSError as exc:
        message = one_line(str(exc))
        if "truncated" in message:
            raise InputError(f"{label}: truncated image file (data ends early)") from None
        raise InputError(f"{label}: damaged or unsupported image ({message})") from None
    except Exception as exc:  # decoders of untrusted data raise many types
        detail = one_line(str(exc)) or type(exc).__name__
        raise InputError(f"{label}: damaged or unsupported image ({detail})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved_limit
        ImageFile.LOAD_TRUNCATED_IMAGES = saved_truncated


def load_rgb(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    min_side: int = MIN_SIDE,
) -> np.ndarray:
    """Load an image as an ``H x W x 3`` ``uint8`` RGB array.

    Args:
        source: a file path, ``"-"`` for standard input, or the encoded image as ``bytes``.
        name: the name used in error messages (default: the path, ``<stdin>`` or ``<bytes>``).
        min_side: smallest accepted width and height.

    Conversion rules:

    * The whole first frame is decoded immediately, so a truncated or damaged file fails
      here (``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is forced off while decoding).
    * Animated GIF, WebP and APNG files: only the first frame is used.
    * The EXIF orientation tag is applied (the array is the image as it should be displayed).
    * An alpha channel (RGBA, LA, PA, palette transparency) is discarded, not composited: the
      colour channels are kept exactly as stored.
    * Palette images are expanded to RGB; grey-scale and bilevel images are replicated to three
      equal channels; CMYK, YCbCr, LAB and HSV are converted by Pillow.
    * 16-bit samples (``I;16*``, 16-bit PNG, mode ``I``) keep their high byte,
      ``value >> 8`` (65535 -> 255, 25600 -> 100); float images are rounded and clipped to
      0..255. Embedded ICC profiles are not applied.
    * Images with more than :data:`MAX_PIXELS` pixels are refused (decompression bombs).

    Raises:
        InputError: missing file, directory, empty file, not an image (or a format outside
            :data:`FORMATS`), truncated or damaged data, decompression bomb, unsupported mode,
            or an image smaller than ``min_side`` in either direction.
    """
    label, stream = _open_source(source, name)
    with stream:
        return _decode(stream, label, min_side)


def require_min_side(image: np.ndarray, min_side: int, what: str) -> None:
    """InputError unless both sides of an H x W (x C) array are at least ``min_side``."""
    height, width = image.shape[:2]
    if min(height, width) < min_side:
        raise InputError(
            f"{what} is {width}x{height}; images must be at least {min_side}x{min_side}"
        )


def read_bytes(source: str | os.PathLike) -> bytes:
    """Return the contents of a file, or of standard input when ``source`` is ``"-"``.

    Raises:
        InputError: the file is missing, a directory, or unreadable.
    """
    if is_stdio(source):
        return _read_stdin(_STDIN_LABEL)
    path = fspath(source)
    with _open_file(path, path) as stream:
        try:
            return stream.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({os_reason(exc)})") from None


# --------------------------------------------------------------------------------------------
# PNG encoding
# --------------------------------------------------------------------------------------------


def _check_image(image: np.ndarray) -> np.ndarray:
    """Validate an ``H x W x 3`` ``uint8`` array (a programming error otherwise)."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 array, got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected a non-empty H x W x 3 array, got shape {image.shape}")
    return np.ascontiguousarray(image)


def encode_png(image: np.ndarray) -> bytes:
    """Encode an ``H x W x 3`` ``uint8`` RGB array as lossless 8-bit PNG bytes (no metadata).

    Raises:
        TypeError, ValueError: ``image`` is not a non-empty ``H x W x 3`` ``uint8`` array.
    """
    buffer = io.BytesIO()
    Image.fromarray(_check_image(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png_roundtrip(image: np.ndarray) -> np.ndarray:
    """Encode ``image`` as an in-memory 8-bit PNG and decode it again.

    Used by evaluation to measure what survives a real PNG file. PNG is lossless for
    ``uint8`` RGB, so the result equals the input; the point is exercising the real path.
    """
    return load_rgb(encode_png(image), name="<png roundtrip>", min_side=1)


# --------------------------------------------------------------------------------------------
# writing (atomic, see :mod:`stegnet.fileio`)
# --------------------------------------------------------------------------------------------


def save_png(image: np.ndarray, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write an ``H x W x 3`` ``uint8`` RGB array as a PNG file, atomically.

    ``path`` ``"-"`` writes the PNG to standard output (refused when it is a terminal).

    Raises:
        UsageError: the extension is not ``.png`` (case-insensitive), or stdout is a terminal.
        OutputError: the file exists and ``force`` is false, the destination is a directory,
            the parent directory is missing, or writing fails (permissions, full disk, ...).
            Nothing is left behind on failure and an existing file is untouched.
        TypeError, ValueError: ``image`` is not an ``H x W x 3`` ``uint8`` array.
    """
    if is_stdio(path):
        write_stdout(encode_png(image))
        return
    target = fspath(path)
    if not is_png_name(target) and not is_special(target):
        raise UsageError(f"{target}: {NOT_PNG_MESSAGE}")
    check_destination(target, force=force)  # fail before encoding a large image
    atomic_write(target, encode_png(image), force=force)

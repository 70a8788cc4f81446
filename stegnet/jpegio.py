"""JPEG files as their quantised DCT coefficients: read, change, write back losslessly.

The coefficients are libjpeg's own (through the ``jpeglib`` package): per component an
int16 array of shape ``(blocks_v, blocks_h, 8, 8)`` (block row, block column, vertical
frequency, horizontal frequency; ``[..., 0, 0]`` is the DC term), values within
``-2047 .. 2047`` (AC terms ``-1023 .. 1023``), with the component's (8, 8) quantisation
table. Components are Y, Cb, Cr (or the one grey component); chroma may be subsampled, so
its arrays are smaller. :meth:`JpegCover.coefficients` flattens them into one int16 array
in a fixed order: component by component (Y, Cb, Cr), each array in C order, so every 64
consecutive values are one block in row-major (natural, not zig-zag) order and flat index
``i`` is a DC term iff ``i % 64 == 0``.

Supported: baseline, extended-sequential and progressive Huffman-coded JPEGs with 8-bit
samples, grey or 3 components (any subsampling, e.g. 4:4:4, 4:2:2, 4:2:0), restart
markers. Refused with :class:`~stegnet.errors.InputError`: CMYK / 4 components,
arithmetic coding, lossless and hierarchical modes, 12-bit samples, truncated files.

What :func:`write_jpeg` keeps: the coefficients exactly, the quantisation tables, the
components (ids, sampling factors, table assignment), baseline vs progressive, and every
APPn / COM segment (EXIF, XMP, ICC, comments, ...) byte for byte, in the cover's order
(placed right after SOI). libjpeg re-does the entropy coding: a baseline cover whose
Huffman tables are the standard ones keeps them (an identical scan but for the changed
blocks), other baseline covers get optimal tables; a progressive cover is written by
mozjpeg's libjpeg (always optimal tables, its own scan script). Not kept: restart markers
(libjpeg's transcoder has no restart setting in jpeglib; they only add error resilience),
the cover's exact scan script and non-standard Huffman tables, and anything after the
end-of-image marker (vendor trailers, MPF secondary images).

Why this module is long: libjpeg (through jpeglib) keeps neither a JPEG's APPn / COM
segments, its component ids nor its progressive mode, so the marker parsing that refuses
unsupported files and splices the cover's segments back belongs with the reading and
writing it serves.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from stegnet.errors import InputError, StegnetError
from stegnet.fileio import fspath, os_reason, write_bytes

__all__ = ["MAX_AC", "JpegCover", "compress", "is_jpeg", "read_jpeg", "to_bytes",
           "write_jpeg"]

MAX_AC = 1023
"""Largest magnitude of an AC coefficient an 8-bit Huffman-coded JPEG can carry."""

_MAX_SEGMENTS = 50  # jpeglib keeps at most 50 metadata segments; we strip them before it
_SOF_OK = {0xC0: False, 0xC1: False, 0xC2: True}  # SOF marker -> progressive
_SOF_ARITHMETIC = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SOF_OTHER = {0xC3: "lossless", 0xC5: "hierarchical", 0xC6: "hierarchical",
              0xC7: "hierarchical"}

PathOrBytes = str | os.PathLike | bytes | bytearray | memoryview


@dataclass
class JpegCover:
    """A JPEG as coefficients plus what is needed to write it back (see the module doc).

    ``dct``: the loaded ``jpeglib.DCTJPEG`` (``Y``, ``Cb``, ``Cr`` arrays, ``qt``, sampling
    factors; its ``content`` is the file without its APPn / COM segments but Adobe's APP14,
    which libjpeg needs for the colour transform);
    ``data``: the file's bytes as read; ``metadata``: its APPn / COM segments before the
    first scan, each whole (``FF En`` / ``FF FE``, length, payload), in file order;
    ``progressive``: SOF2; ``restart_interval``: the DRI value (0: none).
    """

    dct: Any
    data: bytes
    metadata: tuple[bytes, ...]
    progressive: bool
    restart_interval: int = 0

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.dct.height)

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.dct.width)

    @property
    def is_grey(self) -> bool:
        """True for a one-component (grey-scale) JPEG."""
        return self.dct.num_components == 1

    @property
    def components(self) -> list[np.ndarray]:
        """The coefficient arrays, Y (Cb, Cr): int16 (blocks_v, blocks_h, 8, 8) each."""
        if self.is_grey:
            return [self.dct.Y]
        return [self.dct.Y, self.dct.Cb, self.dct.Cr]

    @property
    def quant_tables(self) -> list[np.ndarray]:
        """Each component's quantisation table, (8, 8) uint16 >= 1 in natural order."""
        return [np.asarray(self.dct.get_component_qt(i)) for i in range(len(self.components))]

    @property
    def sampling(self) -> list[tuple[int, int]]:
        """Each component's (vertical, horizontal) sampling factor, e.g. 4:2:0: Y (2, 2),
        Cb and Cr (1, 1)."""
        return [(int(v), int(h)) for v, h in np.asarray(self.dct.samp_factor)]

    def coefficients(self) -> np.ndarray:
        """All coefficients as one flat int16 array (order: see the module docstring)."""
        return np.concatenate([c.reshape(-1) for c in self.components]).astype(np.int16)

    def with_coefficients(self, flat: np.ndarray) -> JpegCover:
        """A new cover with the coefficients ``flat`` (as :meth:`coefficients` orders them);
        this one is left unchanged."""
        flat = np.asarray(flat)
        sizes = [c.size for c in self.components]
        if flat.shape != (sum(sizes),):
            raise ValueError(f"expected {sum(sizes)} coefficients, got shape {flat.shape}")
        if np.abs(flat.reshape(-1, 64)[:, 1:]).max(initial=0) > MAX_AC:
            raise ValueError(f"an AC coefficient is beyond +-{MAX_AC}")
        dct = copy.copy(self.dct)
        parts = np.split(flat.astype(np.int16), np.cumsum(sizes)[:-1])
        arrays = [p.reshape(c.shape) for p, c in zip(parts, self.components, strict=True)]
        dct.Y = arrays[0]
        if not self.is_grey:
            dct.Cb, dct.Cr = arrays[1], arrays[2]
        return JpegCover(dct, self.data, self.metadata, self.progressive,
                         self.restart_interval)


def _jpeglib() -> Any:
    try:
        import jpeglib
    except ImportError:
        raise StegnetError("JPEG coefficient access needs the jpeglib package "
                           "(pip install jpeglib)") from None
    return jpeglib


def is_jpeg(source: PathOrBytes) -> bool:
    """True when ``source`` (a path or the file's bytes) starts with JPEG's ``FF D8 FF``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:3]) == b"\xff\xd8\xff"
    try:
        with open(fspath(source), "rb") as stream:
            return stream.read(3) == b"\xff\xd8\xff"
    except OSError:
        return False


def _segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each segment after SOI up to and including the first SOS
    (``end`` is past its header); ValueError where the structure is broken."""
    pos = 2
    while True:
        if pos + 1 >= len(data) or data[pos] != 0xFF:
            raise ValueError("broken marker structure")
        while data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
            if pos + 1 >= len(data):
                raise ValueError("broken marker structure")
        marker = data[pos + 1]
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD8, 0xD9):
            raise ValueError("no image data")
        if pos + 4 > len(data):
            raise ValueError("truncated header")
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data) or end < pos + 4:
            raise ValueError("truncated header")
        yield marker, pos, end
        if marker == 0xDA:
            return
        pos = end


_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _all_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of every segment of a well-formed JPEG, scans included (the
    entropy-coded data after each SOS is skipped)."""
    pos = 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            return
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, end
        pos = end
        if marker == 0xDA:
            found = _NEXT_MARKER.search(data, pos)
            pos = found.start() if found else len(data)


def _sof_ids(data: bytes) -> bytes:
    """The component ids of a JPEG's frame header, in frame order."""
    for marker, start, _end in _segments(data):
        if 0xC0 <= marker <= 0xC2:
            return bytes(data[start + 10 + 3 * i] for i in range(data[start + 9]))
    raise ValueError("no frame header")


def _set_ids(data: bytes, ids: bytes) -> bytes:
    """``data`` with its frame's component ids (and the scans' references) set to ``ids``."""
    mapping = dict(zip(_sof_ids(data), ids, strict=True))
    out = bytearray(data)
    for marker, start, _end in _all_segments(data):
        if 0xC0 <= marker <= 0xC2:
            for i in range(data[start + 9]):
                out[start + 10 + 3 * i] = mapping[data[start + 10 + 3 * i]]
        elif marker == 0xDA:
            for i in range(data[start + 4]):
                out[start + 5 + 2 * i] = mapping[data[start + 5 + 2 * i]]
    return bytes(out)


def _is_metadata(marker: int) -> bool:
    return 0xE0 <= marker <= 0xEF or marker == 0xFE


def _parse(data: bytes, label: str) -> tuple[bytes, tuple[bytes, ...], bool, int]:
    """-> (bare bytes, metadata segments, progressive, restart interval); InputError for
    what is not supported (see the module docstring)."""
    if data[:3] != b"\xff\xd8\xff":
        raise InputError(f"{label}: not a JPEG file")
    metadata: list[bytes] = []
    kept = [b"\xff\xd8"]
    sof: tuple[int, int, int] | None = None
    restart = sos = 0
    try:
        for marker, start, end in _segments(data):
            segment = data[start:end]
            if _is_metadata(marker):
                metadata.append(segment)
                if marker != 0xEE:  # Adobe APP14 stays: libjpeg reads the colour transform
                    continue
            kept.append(segment)
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                sof = (marker, segment[4], segment[9])  # marker, precision, components
            elif marker == 0xDD:
                restart = int.from_bytes(segment[4:6], "big")
            elif marker == 0xDA:
                sos = start
    except (ValueError, IndexError) as exc:
        raise InputError(f"{label}: not a readable JPEG ({exc})") from None
    if sof is None:
        raise InputError(f"{label}: not a readable JPEG (no frame header)")
    marker, precision, n_components = sof
    if marker in _SOF_ARITHMETIC:
        raise InputError(f"{label}: arithmetic-coded JPEG is not supported")
    if marker not in _SOF_OK:
        raise InputError(f"{label}: {_SOF_OTHER.get(marker, 'this kind of')} JPEG is not "
                         "supported")
    if n_components == 4:
        raise InputError(f"{label}: CMYK (4-component) JPEG is not supported")
    if n_components not in (1, 3) or precision != 8:
        raise InputError(f"{label}: only 8-bit grey or 3-component JPEGs are supported")
    if data.rfind(b"\xff\xd9") < sos:
        raise InputError(f"{label}: truncated JPEG (no end-of-image marker)")
    if len(metadata) > _MAX_SEGMENTS:
        raise InputError(f"{label}: too many metadata segments ({len(metadata)})")
    eoi = data.rfind(b"\xff\xd9") + 2
    return (b"".join(kept) + data[sos + len(kept[-1]) : eoi], tuple(metadata),
            _SOF_OK[marker], restart)


def read_jpeg(source: PathOrBytes) -> JpegCover:
    """Read a JPEG (a path or the file's bytes) as coefficients (see the module docstring).

    Raises InputError (one line) for a missing or unreadable file, a file that is not a
    JPEG, or an unsupported kind of JPEG (CMYK, arithmetic coding, ...).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, label = bytes(source), "<bytes>"
    else:
        label = fspath(source)
        try:
            with open(label, "rb") as stream:
                data = stream.read()
        except OSError as exc:
            raise InputError(f"{label}: cannot read ({os_reason(exc)})") from None
    bare, metadata, progressive, restart = _parse(data, label)
    jpeglib = _jpeglib()
    with tempfile.TemporaryDirectory(prefix="stegnet-jpeg-") as tmp:
        path = os.path.join(tmp, "cover.jpg")
        with open(path, "wb") as stream:
            stream.write(bare)
        try:
            dct = jpeglib.read_dct(path)
            dct.load()
            dct.markers = None
        except (OSError, ValueError) as exc:
            raise InputError(f"{label}: not a readable JPEG ({exc})") from None
    for name in ("Y", "Cb", "Cr"):
        if getattr(dct, name) is not None:
            setattr(dct, name, np.ascontiguousarray(getattr(dct, name), dtype=np.int16))
    return JpegCover(dct, data, metadata, progressive, restart)


@contextlib.contextmanager
def _libjpeg(version: str) -> Iterator[None]:
    """Use jpeglib's ``version`` of libjpeg inside the block, then the one before."""
    jpeglib = _jpeglib()
    previous = jpeglib.version.get() or "6b"
    jpeglib.version.set(version)
    try:
        yield
    finally:
        jpeglib.version.set(previous)


def _huffman_tables(data: bytes) -> set[bytes]:
    """The Huffman tables (class/id byte, 16 counts, symbols) of a JPEG's header."""
    tables = set()
    for marker, start, end in _segments(data):
        pos = start + 4
        while marker == 0xC4 and pos + 17 <= end:
            size = 17 + sum(data[pos + 1 : pos + 17])
            tables.add(bytes([data[pos] & 0xF0]) + data[pos + 1 : pos + size])
            pos += size
    return tables


def _encode(cover: JpegCover, optimize: bool) -> bytes:
    """The coefficients entropy-coded by libjpeg (no APPn / COM segments but Adobe's)."""
    dct = copy.copy(cover.dct)
    dct.markers = None
    with tempfile.TemporaryDirectory(prefix="stegnet-jpeg-") as tmp:
        path = os.path.join(tmp, "stego.jpg")
        with _libjpeg("mozjpeg403" if cover.progressive else "6b"):
            dct.write_dct(path, flags=[("+" if optimize else "-") + "OPTIMIZE_CODING"])
        with open(path, "rb") as stream:
            return stream.read()


def to_bytes(cover: JpegCover) -> bytes:
    """The JPEG file of ``cover`` (see the module docstring for what it keeps)."""
    encoded = _encode(cover, optimize=cover.progressive)
    if not cover.progressive and not _huffman_tables(cover.data) <= _huffman_tables(encoded):
        encoded = _encode(cover, optimize=True)  # the cover's tables were not the standard
    ids = _sof_ids(cover.data)
    if _sof_ids(encoded) != ids:  # libjpeg may number the components anew
        encoded = _set_ids(encoded, ids)
    segments = list(_segments(encoded))
    kept = [encoded[start:end] for marker, start, end in segments if not _is_metadata(marker)]
    return b"".join([b"\xff\xd8", *cover.metadata, *kept, encoded[segments[-1][2]:]])


def write_jpeg(cover: JpegCover, path: str | os.PathLike, force: bool = False) -> None:
    """Write ``cover`` as a JPEG file atomically (a temporary file, then a rename; ``-``:
    standard output). OutputError if ``path`` exists and not ``force``, or cannot be
    written (see :func:`stegnet.fileio.write_bytes`)."""
    write_bytes(to_bytes(cover), path, force=force)


def compress(rgb: np.ndarray, quality: int = 85) -> JpegCover:
    """Compress an 8-bit image once into a baseline JPEG cover (4:2:0 for colour).

    ``rgb``: (H, W, 3) uint8 RGB, or (H, W) / (H, W, 1) uint8 grey; ``quality`` 1 .. 100
    (libjpeg's scale, through Pillow's bundled libjpeg). Returns the re-read JPEG.
    """
    from PIL import Image

    image = np.asarray(rgb)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (
            image.ndim == 3 and image.shape[2] not in (1, 3)):
        raise ValueError("expected an (H, W, 3) or (H, W) uint8 image")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be 1 .. 100, got {quality}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buffer, "JPEG", quality=int(quality), subsampling="4:2:0", optimize=False)
    return read_jpeg(buffer.getvalue())


DEFAULT_QUALITY = 90
"""Quality a cover that is not a JPEG is compressed at once before the jpeg channel embeds
(``--quality``): 90 keeps the photo visually as it was at a fraction of 95's size, and
stays well below 99-100, where the reverse JPEG-compatibility attack (Butora and Fridrich
2019) reads +-1 coefficient changes from the decompressed pixels (in the project's study a
simple version of it still saw the changes at 95, on crops aligned with an earlier q95
grid)."""


def changed_share(cover: JpegCover, stego: JpegCover) -> float:
    """Share of ``cover``'s coefficients that differ in ``stego`` (same layout), in [0, 1]."""
    before, after = cover.coefficients(), stego.coefficients()
    return float(np.count_nonzero(before != after) / max(1, before.size))


def source_bytes(source: Any) -> bytes | None:
    """The encoded file behind ``source`` (a path, ``-`` for standard input, or bytes);
    None for an array or a :class:`JpegCover`. InputError if it cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        from stegnet.imageio import read_bytes

        return read_bytes(source)
    return None


def as_jpeg_cover(source: Any, quality: int | None = None) -> JpegCover:
    """``source`` as a JPEG cover: a :class:`JpegCover` as it is; a JPEG file (path, ``-``
    or bytes) read as coefficients (UsageError if ``quality`` is given: its own
    quantisation is kept); any other image (a path, bytes or an (H, W, 3) uint8 array)
    compressed once at ``quality`` (default :data:`DEFAULT_QUALITY`)."""
    from stegnet.errors import UsageError

    if isinstance(source, JpegCover):
        return source
    data = source_bytes(source)
    if data is not None and is_jpeg(data):
        if quality is not None:
            raise UsageError("--quality applies to a cover that is not a JPEG (a JPEG "
                             "cover keeps its own quantisation)")
        return read_jpeg(data)
    if data is not None:
        from stegnet.imageio import load_rgb

        label = fspath(source) if isinstance(source, (str, os.PathLike)) else None
        source = load_rgb(data, name=label)
    return compress(source, quality or DEFAULT_QUALITY)


def decode_pixels(cover: JpegCover) -> np.ndarray:
    """The (H, W, 3) uint8 RGB image a viewer shows for ``cover`` (Pillow's decoder, EXIF
    orientation applied, as :func:`stegnet.imageio.load_rgb` reads files)."""
    from stegnet.imageio import load_rgb

    return load_rgb(to_bytes(cover), name="<jpeg>", min_side=1)

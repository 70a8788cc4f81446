"""The ``jpeg`` channel: cost-adaptive +-1 on a JPEG's quantised DCT coefficients.

The JPEG twin of :mod:`stegnet.channels.pixel`. The cover and the stego are
:class:`~stegnet.jpegio.JpegCover` (the file's own coefficients, read and written losslessly
by libjpeg, see :mod:`stegnet.jpegio`); nothing is decompressed to pixels and re-compressed,
so the stego keeps the cover's quantisation tables and there is no second compression for
a steganalyser to see.

Channel positions: every AC coefficient of every component (Y, then Cb, Cr), in
:meth:`~stegnet.jpegio.JpegCover.coefficients` order with the DC terms left out, i.e.
``63`` per 8 x 8 block. A +-1 change can make a zero non-zero and back, so a channel over the
non-zero coefficients only would not be the same set in the stego; the set of all AC
coefficients depends only on the image size and subsampling, which the extractor reads from
the stego. DC terms are never changed (they are not positions at all: a DC change shifts a
whole block's brightness).

Coding: the frame is :mod:`stegnet.payload.exact`'s (magic :data:`MAGIC`; a 13-byte header,
CRC32 without a key, ChaCha20-Poly1305 with one, no Reed-Solomon: the channel is exact), its
positions key-seeded. Its body is coded *ternary*: a coefficient's parity ``c & 1`` and its
second bit ``(c >> 1) & 1`` are two syndrome-trellis codes over every AC coefficient, so
the direction of a change carries information too (+1 and -1 each flip the parity, and
exactly one of them flips the second bit); only +-1023, the limits of an 8-bit JPEG's AC
terms, forbid one direction. Which coefficients change, and which way, is decided by the
codes under J-UNIWARD costs (default) or UERD (:mod:`stegnet.costs_jpeg`): cheap in
textured blocks and in high-energy neighbourhoods, expensive in smooth ones; the costs treat
zero and non-zero coefficients alike, as the published methods do. (Never moving towards
zero only, as nsF5 does, which shrinks the histogram in a detectable way.) Stegos of the
first frame format (``SGN6``: parity only, Reed-Solomon parity) are still read.

Capacity: the frame may take at most :data:`MAX_BPNZAC` bits per non-zero AC coefficient of
the cover (bpnzAC, counting the framing; :func:`capacity_bytes`), the usual unit for JPEG
payloads.
That is a ceiling, not a safe rate: published detectors find J-UNIWARD well above chance
from ~0.1-0.2 bpnzAC on, so the report gives ``bpnzac`` (payload) and ``frame_bpnzac``.
The embedder writes the stego to bytes, reads it back and decodes it before returning it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stegnet import costs_jpeg, jpegio
from stegnet.channels.base import Progress, Report
from stegnet.errors import PayloadError, PayloadTooLarge, StegnetError, UsageError, more_telling
from stegnet.payload import container, exact, ternary

MAGIC = b"SGN7"
"""Frame magic of the channel's frames (:mod:`stegnet.payload.exact`, the exact frame).
Frames of the first version (``SGN6``: :data:`stegnet.payload.container.JPEG`, binary
parity coding, Reed-Solomon parity) are still read."""

MAX_BPNZAC = 0.5
"""Frame bits allowed per non-zero AC coefficient of the cover (see the module doc). Half a
bit: up to 0.4 bpnzAC the stego file stayed within 1.4 % of the cover's size on held-out
photos (q75 and q95), at 1 bpnzAC it grew by 7-23 %; and beyond ~0.4 published detectors
find J-UNIWARD reliably, so a larger ceiling would only offer room that gives it away."""


def ac_index(n_coefficients: int) -> np.ndarray:
    """Flat indices (int64, increasing) of the AC terms among ``n_coefficients`` in
    :meth:`~stegnet.jpegio.JpegCover.coefficients` order (every index not divisible by
    64)."""
    return np.arange(n_coefficients, dtype=np.int64).reshape(-1, 64)[:, 1:].reshape(-1)


def channel_bits(cover: jpegio.JpegCover) -> int:
    """Channel positions of ``cover``: its AC coefficients (63 per block)."""
    return 63 * sum(c.shape[0] * c.shape[1] for c in cover.components)


def nzac(cover: jpegio.JpegCover) -> int:
    """Non-zero AC coefficients of ``cover`` (all components)."""
    return int(sum(np.count_nonzero(c.reshape(-1, 64)[:, 1:]) for c in cover.components))


def capacity_bytes(cover: jpegio.JpegCover, keyed: bool) -> int:
    """Net payload bytes ``cover`` carries: the frame within :data:`MAX_BPNZAC` bits per
    non-zero AC coefficient and within the channel's positions."""
    limit = int(MAX_BPNZAC * nzac(cover))
    by_rate = max(0, (limit - exact.needed_bits(0, keyed)) // 8)
    return min(by_rate, exact.capacity_bytes(channel_bits(cover), keyed))


def _check_fits(cover: jpegio.JpegCover, payload: bytes, keyed: bool) -> None:
    """PayloadTooLarge (stating the capacity) unless the frame keeps within
    :data:`MAX_BPNZAC` and the channel's positions."""
    if len(payload) <= capacity_bytes(cover, keyed):
        return
    if exact.needed_bits(0, keyed) > MAX_BPNZAC * nzac(cover):
        raise PayloadTooLarge(
            f"the cover is too small or too smooth to carry any payload (the framing alone "
            f"needs {exact.needed_bits(0, keyed) / MAX_BPNZAC:.0f} non-zero AC "
            f"coefficients, it has {nzac(cover)})")
    raise PayloadTooLarge(f"payload is {len(payload)} bytes but the capacity is "
                          f"{capacity_bytes(cover, keyed)} bytes")


def embed(cover: jpegio.JpegCover, payload: bytes, key: bytes | None,
          costs: str = costs_jpeg.DEFAULT, progress: Progress = None) -> Report:
    """Embed ``payload`` in ``cover`` by +-1 changes of its cheapest AC coefficients.

    ``costs``: ``"juniward"`` or ``"uerd"`` (:mod:`stegnet.costs_jpeg`). Returns the report
    with the stego (a :class:`~stegnet.jpegio.JpegCover`), decoded after a write and read
    back (``raw_bit_errors``: wrong syndromes, i.e. 0). Raises PayloadTooLarge (stating the
    capacity) if the payload does not fit, UsageError for an unknown cost.
    """
    if costs not in costs_jpeg.COSTS:
        raise UsageError(f"unknown JPEG costs {costs!r} (one of {', '.join(costs_jpeg.COSTS)})")
    payload = bytes(payload)
    _check_fits(cover, payload, key is not None)
    steps = 3
    if progress is not None:
        progress(0, steps)
    flat = cover.coefficients()
    ac = ac_index(flat.size)
    values = flat[ac]
    rho = costs_jpeg.cover_costs(cover, costs)[ac].astype(np.float32)
    rho_plus, rho_minus = ternary.directed_costs(rho, values, -jpegio.MAX_AC, jpegio.MAX_AC)
    if progress is not None:
        progress(1, steps)
    change, coding = exact.embed(values, rho_plus, rho_minus, payload, key, MAGIC)
    changed = values + change
    new_flat = flat.copy()
    new_flat[ac] = changed
    stego = cover.with_coefficients(new_flat)
    if progress is not None:
        progress(2, steps)
    try:
        written = jpegio.read_jpeg(jpegio.to_bytes(stego))
        decodable = (np.array_equal(written.coefficients(), new_flat)
                     and extract(written, key) == payload)
    except PayloadError:
        decodable = False
    if progress is not None:
        progress(steps, steps)
    changed_at = np.flatnonzero(change)
    n_nzac = nzac(cover)
    details = {"changed_coefficients": int(changed_at.size), "nzac": n_nzac, "costs": costs,
               "ac_coefficients": int(ac.size),
               "bpnzac": round(8 * len(payload) / max(1, n_nzac), 4),
               "frame_bpnzac": round(coding["frame_bits"] / max(1, n_nzac), 4),
               "layer2_bits": coding["layer2_bits"], "code_height": coding["code_height"],
               "distortion": float(rho[changed_at].sum())}
    return Report(stego, "jpeg", "jpeg", int(ac.size), 0 if decodable else -1, 0,
                  decodable, details=details)


def extract(stego: jpegio.JpegCover, key: bytes | None) -> bytes:
    """The payload of a JPEG-channel stego (either frame version); PayloadNotFound /
    WrongKeyOrCorrupted if there is none (or not for this key)."""
    flat = stego.coefficients()
    values = flat[ac_index(flat.size)]
    try:
        return exact.extract(values, key, MAGIC)
    except PayloadError as error:
        failure = error
    try:
        return container.unpack((values & 1).astype(np.uint8), None, key, container.JPEG)
    except PayloadError as error:
        raise more_telling(failure, error) from None


class JpegChannel:
    """The ``jpeg`` channel (see the module docstring): no network, exact while the JPEG
    file is passed on unchanged."""

    name = "jpeg"
    summary = ("+-1 on a JPEG's quantised DCT coefficients where texture hides it "
               "(J-UNIWARD or UERD costs, syndrome-trellis coded); for JPEG covers and outputs")
    survives = ("the JPEG file passed on unchanged (e-mail, file transfer, send as "
                "document); not re-compression")
    medium = "jpeg"
    model_task = None
    options: tuple[str, ...] = ("costs", "quality")
    """``costs``: ``juniward`` (default) or ``uerd``; ``quality``: what a cover that is not a
    JPEG is compressed at first (the API does that, :func:`stegnet.jpegio.as_jpeg_cover`)."""
    min_cover_side = 8
    min_stego_side = 8

    def capacity(self, cover: jpegio.JpegCover, keyed: bool, model: Any = None,
                 **options: Any) -> int:
        """Net payload bytes of ``cover`` (see :func:`capacity_bytes`)."""
        return capacity_bytes(cover, keyed)

    def embed(self, cover: jpegio.JpegCover, payload: bytes, key: bytes | None,
              model: Any = None, progress: Progress = None, **options: Any) -> Report:
        """See :func:`embed` (option ``costs``: ``"juniward"``, the default, or
        ``"uerd"``); StegnetError if the stego did not decode (a bug: the channel is
        exact)."""
        report = embed(cover, payload, key, options.get("costs") or costs_jpeg.DEFAULT,
                       progress)
        if not report.decodable:
            raise StegnetError("the jpeg-channel stego did not decode; please report this")
        return report

    def extract(self, stego: jpegio.JpegCover, key: bytes | None, model: Any = None) -> bytes:
        """See :func:`extract`."""
        return extract(stego, key)


CHANNEL = JpegChannel()

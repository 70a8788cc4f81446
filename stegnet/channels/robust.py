"""The ``robust`` channel: bytes that survive a lossy path (``embed-bits --channel robust``).

Two layouts (``--layout``); extraction tries the whole-image one, then the tiled one:

* ``tiled`` (opt-in): the mark repeats in square tiles with a synchronisation template
  (:mod:`stegnet.models.robust_tiled`, :mod:`stegnet.sync`), so the payload survives crops
  that keep a whole tile, other aspect ratios, rotations of a few degrees and mirroring,
  as well as re-compression and resizing. Covers from 256 px on the short side.
* ``whole`` (default): the layout described below; a little more capacity, and in the
  study it also survives WebP and a 512 px copy re-compressed as JPEG, which the tiled
  layout often does not; no crop.

The robust model (:class:`stegnet.models.robust.RobustCodec`) offers ``n_slots`` slots,
low-frequency luminance DCT coefficients on a fixed internal grid. Slots are grouped,
by a public permutation, into channel bits of ``repeat`` slots each (spread over the
whole photo); a channel bit is read as the sign of the sum of its slots' soft values, and
the size of that sum is its reliability. The channel bits go to the payload container
(:mod:`stegnet.payload.container`): the same header, Reed-Solomon coding with erasures,
key-secret positions, CRC32 without a key and ChaCha20-Poly1305 with one, as plain
``embed-bits``. Channel bits the frame does not use are left as the cover has them, so a
small payload changes less of the photo.

Embedding sets each used slot to the nearest lattice point of its bit, draws the change
as a luminance residual at full size, rounds to 8 bits, re-reads the slots from the
rounded stego and corrects what rounding, clipping and the resampling moved, for up to
``iterations`` passes; it then proves that the stego decodes to the payload.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stegnet.channels.base import Progress, Report
from stegnet.errors import (
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    StegnetError,
    UsageError,
)
from stegnet.imageio import require_min_side
from stegnet.models.robust import public_uniform
from stegnet.payload import container

if TYPE_CHECKING:
    from stegnet.models.robust import RobustCodec
    from stegnet.models.robust_tiled import TiledMark
    from stegnet.zoo import LoadedModel

MIN_COVER_SIDE = 512  # whole layout: a half-size copy must still resolve the grid's band
MIN_TILED_COVER_SIDE = 256  # tiled layout: the working grid is at most doubled
MIN_STEGO_SIDE = 64  # extraction (a stego may have been shrunk on the way)
LAYOUTS = ("whole", "tiled")
DEFAULT_LAYOUT = "whole"
TILED_NSYM = 96  # Reed-Solomon parity bytes per codeword of the tiled layout
_LAYOUT_SEED = 0x0B057


def _codec(model: LoadedModel) -> RobustCodec:
    return model.module


def channel_bits(model: LoadedModel) -> int:
    """Channel bits the robust model offers (the same for every photo size)."""
    codec = _codec(model)
    return codec.n_slots // codec.config.repeat


def capacity_bytes(model: LoadedModel, keyed: bool, layout: str = "whole") -> int:
    """Payload bytes a layout carries (the same for every photo size)."""
    check_layout(layout)
    if layout == "tiled":
        return container.capacity_bytes(tiled_mark(model).channel_bits, keyed, TILED_NSYM)
    return container.capacity_bytes(channel_bits(model), keyed, _codec(model).config.nsym)


def check_layout(layout: str) -> None:
    """UsageError unless ``layout`` is one of :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r} (layouts: {', '.join(LAYOUTS)})")


def tiled_mark(model: LoadedModel) -> TiledMark:
    """The tiled layout of ``model`` (its fitted steps and frequencies), cached."""
    return _tiled_mark_of(_codec(model), str(model.device))


@lru_cache(maxsize=4)
def _tiled_mark_of(codec: RobustCodec, device: str) -> TiledMark:
    # keyed on the codec object itself (held by the cache), not on its id(), which a
    # later codec could reuse
    from stegnet.models.robust_tiled import TiledMark

    return TiledMark(codec.steps.detach(), codec.config.positions, device)


@lru_cache(maxsize=4)
def _layout_cached(n_slots: int, repeat: int) -> np.ndarray:
    order = np.argsort(public_uniform(n_slots, _LAYOUT_SEED), kind="stable")
    n_bits = n_slots // repeat
    return order[: n_bits * repeat].reshape(n_bits, repeat)


def layout(model: LoadedModel) -> np.ndarray:
    """(channel_bits, repeat) slot indices of each channel bit (a public permutation)."""
    codec = _codec(model)
    return _layout_cached(codec.n_slots, codec.config.repeat)


def _as_tensor(image: np.ndarray, device: str) -> torch.Tensor:
    return torch.from_numpy(np.array(image, dtype=np.float32)).to(device)


def read_channel(image: np.ndarray, model: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """-> (bits (channel_bits,) 0/1, reliability (channel_bits,) >= 0) of an RGB image."""
    with torch.no_grad():
        coeffs = _codec(model).analyse(_as_tensor(image, model.device))
    return _decide(coeffs, model)


def _decide(coeffs: torch.Tensor, model: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """Slot coefficients (n_slots,) -> (channel bits, reliabilities), see read_channel."""
    soft = _codec(model).soft(coeffs)
    sums = soft.cpu().double().numpy()[layout(model)].sum(axis=1)
    return (sums < 0).astype(np.uint8), np.abs(sums)


def extract(stego: np.ndarray, key: bytes | None, model: LoadedModel) -> bytes:
    """The payload of a robust stego of either layout (also after JPEG, resizing, noise;
    a tiled stego also after crops, rotation, mirroring); raises PayloadNotFound /
    WrongKeyOrCorrupted, never returns garbage."""
    require_min_side(stego, MIN_STEGO_SIDE, "stego image")
    bits, reliability = read_channel(stego, model)
    try:
        return container.unpack(bits, reliability, key)
    except PayloadError as whole_error:
        try:
            return extract_tiled(stego, key, model)
        except PayloadNotFound:
            raise whole_error from None


def read_tiled(image: np.ndarray, model: LoadedModel):
    """-> (bits, reliability, geometry) of the tiled layout, or None if no tile is found."""
    with torch.no_grad():
        return tiled_mark(model).read(_as_tensor(image, model.device))


def extract_tiled(stego: np.ndarray, key: bytes | None, model: LoadedModel) -> bytes:
    """The payload of a tiled-layout stego (see :func:`extract`)."""
    found = read_tiled(stego, model)
    if found is None:
        raise PayloadNotFound("no stegnet payload found (no robust tile in this image)")
    bits, reliability, _ = found
    return container.unpack(bits, reliability, key)


def embed_tiled(cover: np.ndarray, payload: bytes, key: bytes | None,
                model: LoadedModel) -> Report:
    """Hide ``payload`` in the tiled layout (see :func:`embed`)."""
    require_min_side(cover, MIN_TILED_COVER_SIDE, "cover")
    mark = tiled_mark(model)
    positions, frame_bits = container.pack(payload, mark.channel_bits, key, TILED_NSYM)
    slot_bits = torch.full((mark.n_slots,), -1, dtype=torch.long)
    for column in range(mark.layout.shape[1]):
        slot_bits[torch.from_numpy(mark.layout[positions, column])] = torch.from_numpy(
            frame_bits.astype(np.int64))
    with torch.no_grad():
        stego_t, coeffs, ids = mark.embed(_as_tensor(cover, model.device),
                                          slot_bits.to(model.device))
    stego = stego_t.cpu().numpy()
    bits, reliability = mark.channel_soft(mark.soft(coeffs, ids), ids)
    errors = int((bits[positions] != frame_bits).sum())
    try:
        decoded = extract_tiled(stego, key, model)
    except StegnetError:
        decoded = None
    if decoded != bytes(payload):
        raise PayloadTooLarge("the robust stego does not decode (the photo is too saturated "
                              "or flat to carry the payload); try a smaller payload or "
                              "--layout whole")
    return Report(stego, "robust", "tiled", int(positions.size), errors, TILED_NSYM, True,
                  model.name, {"min_margin": float(reliability[positions].min()),
                               "positions": positions, "frame_bits": frame_bits})


def embed(cover: np.ndarray, payload: bytes, key: bytes | None,
          model: LoadedModel) -> Report:
    """Hide ``payload`` in ``cover`` (H, W, 3) uint8; -> the 8-bit stego and a report.

    ``report.details``: ``min_margin`` (smallest |sum of soft values| of a frame bit, in
    [0, repeat]), ``iterations``, ``positions`` and ``frame_bits`` (the frame's channel
    positions and the 0/1 bit each carries).
    Raises PayloadTooLarge if the payload exceeds :func:`capacity_bytes`, or if the stego as
    written does not decode (e.g. a photo saturated almost everywhere).
    """
    require_min_side(cover, MIN_COVER_SIDE, "cover")
    codec, device = _codec(model), model.device
    nsym = codec.config.nsym
    positions, frame_bits = container.pack(payload, channel_bits(model), key, nsym)
    slots_np = layout(model)[positions]  # (m, repeat)
    slots = torch.from_numpy(slots_np.reshape(-1)).to(device)
    bits = torch.from_numpy(np.repeat(frame_bits, codec.config.repeat)).to(device)
    height, width = cover.shape[:2]
    rgb = _as_tensor(cover, device)
    with torch.no_grad():
        start = codec.analyse(rgb)
        target = codec.targets(start, bits, slots)
        limit = codec.config.clip_margin * codec.slot_steps()[slots]
        change = torch.zeros_like(start)
        change[slots] = target - start[slots]
        done = 0
        for done in range(1, codec.config.iterations + 1):  # noqa: B007 - reported
            residual = codec.synthesise(change, height, width)
            stego_t = (rgb + residual[..., None]).round().clamp(0, 255)
            coeffs = codec.analyse(stego_t)  # what the extractor will read
            error = target - coeffs[slots]
            if float(error.abs().max() / limit.min()) < 0.05:
                break
            change[slots] = torch.maximum(torch.minimum(change[slots] + error, limit), -limit)
    stego = stego_t.to(torch.uint8).cpu().numpy()
    read_bits, reliability = _decide(coeffs, model)
    errors = int((read_bits[positions] != frame_bits).sum())
    try:
        decoded = container.unpack(read_bits, reliability, key)
    except StegnetError:
        decoded = None
    if decoded != bytes(payload):
        raise PayloadTooLarge("the robust stego does not decode (the photo is too saturated "
                              "or flat to carry the payload); try a smaller payload")
    return Report(stego, "robust", "whole", int(positions.size), errors, nsym, True,
                  model.name, {"min_margin": float(reliability[positions].min()),
                               "iterations": done, "positions": positions,
                               "frame_bits": frame_bits})


class RobustChannel:
    """The ``robust`` channel (see the module docstring); its network is the zoo's
    ``robust`` model (:class:`stegnet.models.robust.RobustCodec`)."""

    name = "robust"
    summary = ("a few hundred bytes in the low-frequency luminance of the whole photo "
               "(or, with --layout tiled, of repeated tiles), read back after "
               "re-compression and resizing")
    survives = ("JPEG and WebP re-compression, resizing, noise; with --layout tiled also "
                "most small crops, turns of a degree and mirrors, but less often WebP")
    medium = "pixels"
    model_task = "robust"
    options: tuple[str, ...] = ("layout",)
    min_cover_side = MIN_TILED_COVER_SIDE
    min_stego_side = MIN_STEGO_SIDE

    @staticmethod
    def check_options(layout: str = DEFAULT_LAYOUT, **_: Any) -> None:
        """UsageError for an unknown layout (before any work)."""
        check_layout(layout)

    def capacity(self, cover: Any, keyed: bool, model: Any = None,
                 layout: str = DEFAULT_LAYOUT,
                 **options: Any) -> int:
        """Net payload bytes of ``layout`` (the same for every photo it accepts: from
        :data:`MIN_TILED_COVER_SIDE` px on the short side tiled, :data:`MIN_COVER_SIDE`
        whole; InputError below)."""
        check_layout(layout)
        if isinstance(cover, np.ndarray):
            require_min_side(cover, MIN_COVER_SIDE if layout == "whole" else
                             MIN_TILED_COVER_SIDE, "cover")
        return capacity_bytes(_loaded(model), keyed, layout)

    def embed(self, cover: np.ndarray, payload: bytes, key: bytes | None, model: Any = None,
              progress: Progress = None, layout: str = DEFAULT_LAYOUT,
              **options: Any) -> Report:
        """See :func:`embed` (default) and :func:`embed_tiled` (``layout="tiled"``)."""
        check_layout(layout)
        if layout == "tiled":
            return embed_tiled(cover, payload, key, _loaded(model))
        return embed(cover, payload, key, _loaded(model))

    def extract(self, stego: np.ndarray, key: bytes | None, model: Any = None) -> bytes:
        """See :func:`extract`."""
        return extract(stego, key, _loaded(model))


def _loaded(model: LoadedModel | None) -> LoadedModel:
    """``model``, or the default robust model on the CPU."""
    from stegnet.zoo import load

    return model if model is not None else load("robust")


CHANNEL = RobustChannel()

"""The byte API behind ``embed-bits`` / ``extract-bits`` / ``capacity``: one channel
chosen by name (:mod:`stegnet.channels.registry`), or every channel tried in the registry's
order. It resolves the cover in the channel's medium (pixels, or a JPEG's coefficients),
the channel's network and its options, and reports in one vocabulary.

Re-exported by :mod:`stegnet.api` (``api.embed``, ``api.extract``, ``api.capacity``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stegnet.errors import (
    InputError,
    PayloadError,
    PayloadNotFound,
    PayloadTooLarge,
    UsageError,
    more_telling,
)
from stegnet.imageio import require_min_side
from stegnet.keys import KeyLike, as_key
from stegnet.loading import ImageLike, Progress, check_model_name, load_image, load_model

if TYPE_CHECKING:
    from stegnet.channels import Channel, Report
    from stegnet.zoo import LoadedModel


def byte_channel_holding(image: np.ndarray, device: str) -> str | None:
    """The first channel, in the registry's order, whose frame is in ``image``, among those
    that need no network or only the small robust codec; None if none holds one. A keyed
    frame counts (found but not readable); the flow is judged by reveal's own check."""
    from stegnet.channels import in_extraction_order
    from stegnet.errors import PayloadNotFound, StegnetError

    for chosen in in_extraction_order("pixels"):
        if chosen.model_task not in (None, "robust") or min(image.shape[:2]) < \
                chosen.min_stego_side:
            continue
        net = load_model(chosen.model_task, None, device) if chosen.model_task else None
        try:
            chosen.extract(image, None, net)
        except PayloadNotFound:
            continue
        except StegnetError:  # a frame, but encrypted or damaged
            return chosen.name
        return chosen.name
    return None


@dataclass
class Embedded:
    """The stego of :func:`embed` and what it cost.

    ``stego``: in the channel's medium (an (H, W, 3) uint8 array, or a
    :class:`stegnet.jpegio.JpegCover` for the ``jpeg`` channel); ``report``: the channel's
    :class:`~stegnet.channels.Report`; ``changed``: share of the cover's pixels (JPEG: of
    its coefficients) that differ in the stego.
    """

    stego: Any
    report: Report
    capacity_bytes: int
    changed: float

    @property
    def channel(self) -> str:
        return self.report.channel

    @property
    def changed_pixels(self) -> float:  # the name scripts used before the JPEG channel
        return self.changed


def changed_share(cover: Any, stego: Any) -> float:
    """Share of ``cover``'s pixels (H, W, 3 arrays: any sample differs) or coefficients
    (JPEG covers) that differ in ``stego``; in [0, 1]."""
    if isinstance(cover, np.ndarray):
        from stegnet.metrics import changed_pixels

        return changed_pixels(cover, stego)
    from stegnet.jpegio import changed_share as changed_coefficients

    return changed_coefficients(cover, stego)


def choose(channel: str | None, mode: str | None, robust: bool, options: dict,
           default: str = "pixel") -> tuple[Channel, dict]:
    """The chosen channel and its options (the deprecated ``mode`` / ``robust`` spellings
    resolved; options it does not take are a UsageError)."""
    from stegnet.channels import registry

    name, implied = registry.resolve(channel, mode, robust, default)
    chosen = registry.get(name)
    options = {**implied, **{k: v for k, v in options.items() if v is not None}}
    registry.check_options(chosen, options)
    return chosen, options


def _channel_model(chosen: Channel, model: Any, device: str) -> LoadedModel | None:
    """The channel's network (``model``: a name, path or loaded model of its task), or
    None; a model for a channel without a network is a UsageError."""
    if chosen.model_task is None:
        if model is not None:
            check_model_name(model)  # a bad name says so first
            raise UsageError(f"--model names a network, and the {chosen.name} channel uses "
                             f"none (models are for the flow and robust channels)")
        return None
    return load_model(chosen.model_task, model, device)


def _cover(cover: Any, chosen: Channel, min_side: int, label: str, options: dict) -> Any:
    """``cover`` (path or array) in ``chosen``'s medium."""
    if chosen.medium == "jpeg":
        from stegnet.jpegio import as_jpeg_cover

        return as_jpeg_cover(cover, options.get("quality"))
    return load_image(cover, min_side, label)


def too_small_message(width: int, height: int, keyed: bool, chosen: Channel,
                      model: Any = None) -> str:
    """Why an image carries no payload on ``chosen``, with the smallest square that does."""
    def carries(side: int) -> bool:
        blank = np.zeros((side, side, 3), np.uint8)
        return chosen.capacity(blank, keyed, model, measured=False) > 0

    side = None
    if chosen.medium == "pixels":
        side = next((s for s in range(chosen.min_cover_side, 8193) if carries(s)), None)
    need = f"; it needs about {side}x{side} pixels or more" if side else ""
    return (f"this image ({width}x{height}) is too small to carry any payload on the "
            f"{chosen.name} channel{' with a key' if keyed else ''}{need}")


def embed(cover: ImageLike, payload: bytes, *, channel: str | None = None,
          key: KeyLike = None, model: Any = None, device: str = "auto",
          progress: Progress = None, label: str = "", mode: str | None = None,
          robust: bool = False, **options: Any) -> Embedded:
    """Hide ``payload`` bytes in ``cover`` on ``channel`` (default ``pixel``; the names and
    what each survives: :mod:`stegnet.channels`).

    ``options`` belong to the channel (a UsageError names the channel an option belongs
    to): the flow's ``flow_mode``, ``temperature``, ``allow_grey``; the JPEG channel's
    ``quality`` (for a cover that is not a JPEG yet). ``model``: the channel's network (a
    name, path or :class:`~stegnet.zoo.LoadedModel`). ``mode`` / ``robust``: the former
    spellings of the channel (``mode`` ``flow``/``sparse``/``full`` = the flow channel).
    Raises PayloadTooLarge if the payload does not fit (the message says the capacity).
    """
    prefix = f"{label}: " if label else ""
    chosen, options = choose(channel, mode, robust, options)
    cover_obj = _cover(cover, chosen, chosen.min_cover_side, "cover", options)
    net = _channel_model(chosen, model, device)
    key_bytes = as_key(key)
    cap = _capacity_of(chosen, cover_obj, key_bytes is not None, net, options)
    if cap <= 0:
        height, width = _size(cover_obj)
        raise PayloadTooLarge(prefix + too_small_message(width, height, key_bytes is not None,
                                                         chosen, net))
    try:
        report = chosen.embed(cover_obj, payload, key_bytes, net, progress, **options)
    except (PayloadTooLarge, InputError) as error:
        raise type(error)(f"{prefix}{error}") from None
    return Embedded(report.stego, report, cap, changed_share(cover_obj, report.stego))


def _size(cover: Any) -> tuple[int, int]:
    return (cover.shape[0], cover.shape[1]) if isinstance(cover, np.ndarray) else (
        cover.height, cover.width)


def _capacity_of(chosen: Channel, cover: Any, keyed: bool, net: Any, options: dict) -> int:
    """Nominal (size-only) capacity: what embedding checks before trying (only the flow
    measures; every channel takes the option)."""
    return chosen.capacity(cover, keyed, net, **{**options, "measured": False})


@dataclass
class Extracted:
    """What :func:`extract_found` recovered, from which channel and with which model."""

    payload: bytes
    channel: str  # a name of stegnet.channels.ORDER
    model: str  # the channel's network, "" if it uses none


def extract_found(stego: ImageLike, *, key: KeyLike = None, model: Any = None,
                  device: str = "auto", channel: str | None = None,
                  robust: bool | None = None) -> Extracted:
    """Like :func:`extract`, also saying which channel held the payload.

    ``channel``: read only that channel; None (default) tries every channel in the
    registry's order (:data:`stegnet.channels.ORDER`) that fits the stego (a JPEG file's
    coefficients, or its pixels). ``model``: the network of the chosen channel, or with no
    channel the colour flow's. A frame that a channel found but could not repair (wrong key,
    damage) is reported if the others find nothing either. ``robust``: the former
    spelling of ``channel="robust"`` (False: every channel but the robust one).
    """
    from stegnet.channels import in_extraction_order, registry

    key_bytes = as_key(key)
    if channel is not None or robust:
        candidates = [registry.get(registry.resolve(channel, None, bool(robust))[0])]
    else:
        candidates = [c for c in in_extraction_order()
                      if not (robust is False and c.name == "robust")]
    sources = _stego_sources(stego, candidates, explicit=len(candidates) == 1)
    worst: PayloadError | None = None
    for chosen in candidates:
        source = sources.get(chosen.medium)
        if source is None or (len(candidates) > 1 and min(_size(source)) < chosen.min_stego_side):
            continue
        if len(candidates) == 1 and chosen.medium == "pixels":
            require_min_side(source, chosen.min_stego_side, "stego image")
        given = model if (len(candidates) == 1 or chosen.model_task == "flow"
                          or _task_of(model) == chosen.model_task) else None
        net = _channel_model(chosen, given, device) if chosen.model_task else None
        try:
            payload = chosen.extract(source, key_bytes, net)
        except PayloadError as error:
            worst = more_telling(worst, error)
            continue
        return Extracted(payload, chosen.name, net.name if net is not None else "")
    if worst is None:
        raise PayloadNotFound("no payload found (no channel can read this file)")
    raise worst from None


def _task_of(model: Any) -> str | None:
    from stegnet.zoo import LoadedModel

    return model.info.task if isinstance(model, LoadedModel) else None


def _stego_sources(stego: Any, candidates: list[Channel], explicit: bool) -> dict[str, Any]:
    """The stego in each medium the candidates read: ``pixels`` (decoded as a viewer shows
    it), and ``jpeg`` (the coefficients) when it is a JPEG file or a JpegCover. The file is
    read once (standard input included)."""
    from stegnet.jpegio import JpegCover, decode_pixels, is_jpeg, read_jpeg, source_bytes

    media = {c.medium for c in candidates}
    data = source_bytes(stego)
    sources: dict[str, Any] = {}
    if isinstance(stego, JpegCover):
        sources["jpeg"] = stego
    elif data is not None and is_jpeg(data) and "jpeg" in media:
        try:
            sources["jpeg"] = read_jpeg(data)
        except InputError:  # e.g. a CMYK JPEG: the pixel channels may still read it
            if explicit:
                raise
    if "jpeg" in media and "jpeg" not in sources and explicit:
        raise InputError("the jpeg channel reads JPEG files only")
    if "pixels" in media:
        if isinstance(stego, JpegCover):
            sources["pixels"] = decode_pixels(stego)
        elif data is not None:
            from stegnet.imageio import load_rgb

            label = str(stego) if isinstance(stego, str | os.PathLike) else None
            sources["pixels"] = load_rgb(data, name=label, min_side=1)
        else:
            sources["pixels"] = load_image(stego, 1, "stego image")
    return sources


def extract(stego: ImageLike, *, key: KeyLike = None, model: Any = None,
            device: str = "auto", channel: str | None = None,
            robust: bool | None = None) -> bytes:
    """The bytes :func:`embed` hid; PayloadNotFound / WrongKeyOrCorrupted, never garbage.
    ``channel``: see :func:`extract_found` (default: every channel in the registry's
    order)."""
    return extract_found(stego, key=key, model=model, device=device, channel=channel,
                         robust=robust).payload


@dataclass
class Capacity:
    """How many payload bytes a cover carries on a channel (after framing and ECC)."""

    capacity_bytes: int
    nominal_capacity_bytes: int  # size-only figure (the flow: its weakest error correction)
    width: int
    height: int
    keyed: bool
    measured: bool  # True: a trial embedding measured it on this cover
    channel: str = "pixel"
    model: str = ""

    @property
    def bits_per_pixel(self) -> float:
        return round(8 * self.capacity_bytes / (self.width * self.height), 4)


def capacity(cover: ImageLike, *, channel: str | None = None, keyed: bool = False,
             model: Any = None, device: str = "auto", mode: str | None = None,
             robust: bool = False, **options: Any) -> Capacity:
    """Payload bytes ``cover`` carries on ``channel`` (default ``pixel``). The exact
    channels' capacity depends only on the size (the JPEG channel's on its coefficients);
    the flow's is measured by a trial embedding unless ``measured=False``; the robust
    channel's is the same for every photo it accepts. InputError if it carries none.
    ``options``, ``mode``, ``robust``: as for :func:`embed`."""
    chosen, options = choose(channel, mode, robust, options)
    cover_obj = _cover(cover, chosen, chosen.min_cover_side, "cover", options)
    height, width = _size(cover_obj)
    net = _channel_model(chosen, model, device)
    nominal = _capacity_of(chosen, cover_obj, keyed, net, options)
    label = f"{cover}: " if isinstance(cover, str | os.PathLike) else ""
    if nominal <= 0:
        raise InputError(label + too_small_message(width, height, keyed, chosen, net))
    measured = "measured" in chosen.options and options.get("measured", True)
    cap = chosen.capacity(cover_obj, keyed, net, **options) if measured else nominal
    return Capacity(cap, nominal, width, height, keyed, bool(measured), chosen.name,
                    net.name if net is not None else "")

"""The user API: what the ``stegnet`` commands do, callable from Python.

Images are ``H x W x 3`` uint8 numpy arrays (or paths, read with
:func:`stegnet.imageio.load_rgb`); results are 8-bit images to be written losslessly
(:func:`stegnet.imageio.save_png`). The key, the model and the device are resolved here,
once, and passed down as bytes and a :class:`~stegnet.zoo.LoadedModel`:

* ``key``: text, bytes or None (:mod:`stegnet.keys`);
* ``model``: a shipped model's name, a ``.safetensors`` path, an already loaded
  :class:`~stegnet.zoo.LoadedModel`, or None for the task's default;
* ``device``: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

Example::

    from stegnet import api
    stego = api.hide("cover.png", "secret.png", key="pass phrase")
    report = api.embed("cover.png", b"meet at noon", key="k")
    assert api.extract(report.stego, key="k") == b"meet at noon"

Errors are :class:`stegnet.errors.StegnetError` subclasses with a one-line message
(wrong key, no payload, payload too large, bad input); nothing returns garbage.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from stegnet.errors import InputError, NoHiddenImage, PayloadTooLarge, UsageError
from stegnet.keys import KeyLike, as_key

if TYPE_CHECKING:
    from stegnet.bits import EmbedReport
    from stegnet.hiding import Detection
    from stegnet.zoo import LoadedModel

ImageLike = np.ndarray | str | os.PathLike
Progress = Callable[[int, int], None] | None

GREY_COVER_MESSAGE = (
    "cover is grey-scale: embed-bits hides bytes in colour detail, which would make a grey "
    "photo visibly colourful; use a colour photo (or --allow-grey)")


def load_model(task: str, model: Any = None, device: str = "auto") -> LoadedModel:
    """Resolve ``model`` (name, path, LoadedModel or None) and ``device`` for ``task``."""
    from stegnet.device import resolve_device
    from stegnet.zoo import LoadedModel, get_model_info, load

    if isinstance(model, LoadedModel):
        return model
    get_model_info(task, model)  # a bad name is a usage error before torch is touched
    return load(task, model, resolve_device(device))


def _image(image: ImageLike, min_side: int, label: str) -> np.ndarray:
    from stegnet.imageio import load_rgb, require_min_side

    if isinstance(image, np.ndarray):
        require_min_side(image, min_side, label)
        return image
    return load_rgb(image, min_side=min_side)


# ---------------------------------------------------------------- image in image
def hide(cover: ImageLike, secret: ImageLike, *, key: KeyLike = None, model: Any = None,
         device: str = "auto", progress: Progress = None, precision: str = "auto",
         ) -> np.ndarray:
    """Hide ``secret`` (fitted to the cover, aspect kept) in ``cover``; -> 8-bit stego of
    the cover's size. With a key only :func:`reveal` with the same key gives it back.
    ``precision``: ``auto``, ``float32`` or ``bfloat16``, the network's working precision
    (:func:`stegnet.device.resolve_precision`)."""
    from stegnet import hiding

    cover_img = _image(cover, hiding.MIN_COVER_SIDE, "cover")
    secret_img = _image(secret, 1, "secret")
    net = load_model("hide", model, device)
    return hiding.hide(cover_img, secret_img, net, progress=progress, key=as_key(key),
                       precision=precision)


@dataclass
class Revealed:
    """What :func:`reveal` recovered, and the check that found it (None if skipped)."""

    image: np.ndarray
    detection: Detection | None = None


def reveal(stego: ImageLike, *, key: KeyLike = None, model: Any = None, device: str = "auto",
           check: bool = True, progress: Progress = None, label: str = "",
           precision: str = "auto") -> Revealed:
    """Recover the image hidden by :func:`hide` (``precision`` as there).

    With ``check`` (default) it first tests that ``stego`` carries a hidden image
    (:func:`stegnet.hiding.detect`) and raises :class:`NoHiddenImage` if not.
    """
    from stegnet import hiding

    stego_img = _image(stego, hiding.MIN_COVER_SIDE, "stego image")
    net = load_model("hide", model, device)
    found = None
    if check:
        found = hiding.detect(stego_img, load_model("bits", None, net.device))
        if not found.detected:
            if _carries_robust_payload(stego_img, net.device):
                looks = "an embed-bits --robust stego: try `stegnet extract-bits`"
            elif found.cnn_logit > 0:
                looks = "an embed-bits stego: try `stegnet extract-bits`"
            else:
                looks = "a clean photo"
            prefix = f"{label}: " if label else ""
            raise NoHiddenImage(f"{prefix}no hidden image found (it looks like {looks}; "
                                f"--anyway reveals regardless)")
    image = hiding.reveal(stego_img, net, progress=progress, key=as_key(key),
                          precision=precision)
    return Revealed(image, found)


def _carries_robust_payload(image: np.ndarray, device: str) -> bool:
    """Whether an unkeyed robust frame is in ``image`` (keyed ones are invisible here)."""
    from stegnet import robust as robust_channel
    from stegnet.errors import PayloadNotFound, StegnetError

    if min(image.shape[:2]) < robust_channel.MIN_STEGO_SIDE:
        return False
    try:
        robust_channel.extract(image, None, load_model("robust", None, device))
    except PayloadNotFound:
        return False
    except StegnetError:  # a frame, but encrypted or damaged
        return True
    return True


# ---------------------------------------------------------------- bytes
@dataclass
class Embedded:
    """The stego of :func:`embed` and what it cost (``report``: raw errors, mode, ECC)."""

    stego: np.ndarray
    report: EmbedReport
    capacity_bytes: int
    changed_pixels: float  # share of pixels that differ from the cover
    extra: dict = field(default_factory=dict)


def too_small_message(width: int, height: int, keyed: bool, nsym: int | None) -> str:
    """Why an image carries no payload at all, with the smallest square that does
    (``nsym``: the colour flow's error correction; None for the adaptive channel)."""
    from stegnet import adaptive, bits

    def carries(side: int) -> bool:
        if nsym is None:
            return adaptive.capacity(side, side, keyed) > 0
        return bits.capacity(side, side, keyed, nsym) > 0

    side = next((s for s in range(bits.MIN_COVER_SIDE, 8193) if carries(s)), None)
    need = f"; it needs about {side}x{side} pixels or more" if side else ""
    return (f"this image ({width}x{height}) is too small to carry any payload"
            f"{' with a key' if keyed else ''}{need}")


def embed(cover: ImageLike, payload: bytes, *, key: KeyLike = None, model: Any = None,
          device: str = "auto", mode: str = "auto", temperature: float = 0.6,
          allow_grey: bool = False, progress: Progress = None, label: str = "",
          robust: bool = False) -> Embedded:
    """Hide ``payload`` bytes in the colour of ``cover`` (bit-exact after an 8-bit PNG).

    ``mode``: ``auto`` (default) = ``adaptive``: +-1 changes at the cheapest pixel samples
    (:mod:`stegnet.adaptive`; ``model`` and ``temperature`` do not apply); the colour
    flow's ``flow`` (cover-preserving ``sparse`` for small payloads, ``full`` re-synthesis
    for large ones), ``sparse`` or ``full`` (see :mod:`stegnet.bits`). Grey-scale covers
    are refused unless ``allow_grey``. Raises PayloadTooLarge if the payload does not fit.

    ``robust``: use the robust channel instead (:mod:`stegnet.robust`; ``model`` then
    names a robust model): a few hundred bytes in the luminance of any photo that survive
    JPEG re-compression, resizing and noise. ``mode`` and ``temperature`` do not apply;
    grey covers stay grey.
    """
    from stegnet import bits
    from stegnet.greyscale import is_grey

    prefix = f"{label}: " if label else ""
    if robust:
        return _embed_robust(cover, payload, as_key(key), load_model("robust", model, device),
                             prefix)
    bits.check_temperature(temperature)
    bits.check_mode(mode)
    cover_img = _image(cover, bits.MIN_COVER_SIDE, "cover")
    if not allow_grey and is_grey(cover_img):
        raise InputError(f"{prefix}{GREY_COVER_MESSAGE}")
    key_bytes = as_key(key)
    height, width = cover_img.shape[:2]
    if mode not in bits.FLOW_MODES:
        from stegnet import adaptive
        from stegnet.zoo import LoadedModel, get_model_info

        if model is not None and not isinstance(model, LoadedModel):
            get_model_info("bits", model)  # ignored by this mode, but a bad name is an error
        cap = adaptive.capacity(height, width, key_bytes is not None)
        if cap <= 0:
            raise PayloadTooLarge(prefix + too_small_message(width, height,
                                                             key_bytes is not None, None))
        try:
            report = bits.embed(cover_img, payload, key_bytes, mode=mode)
        except PayloadTooLarge as error:
            raise PayloadTooLarge(f"{prefix}{error}") from None
        changed = float((report.stego != cover_img).any(axis=-1).mean())
        return Embedded(report.stego, report, cap, changed)
    flow = load_model("bits", model, device)
    nsym = bits.ecc_nsym(flow)
    cap = bits.capacity(height, width, key_bytes is not None, nsym)
    if cap <= 0:
        raise PayloadTooLarge(prefix + too_small_message(width, height, key_bytes is not None,
                                                         nsym))
    report = bits.embed(cover_img, payload, key_bytes, flow, progress=progress,
                        temperature=temperature, mode=mode)
    changed = float((report.stego != cover_img).any(axis=-1).mean())
    return Embedded(report.stego, report, cap, changed)


def _embed_robust(cover: ImageLike, payload: bytes, key: bytes | None, model: LoadedModel,
                  prefix: str) -> Embedded:
    from stegnet import robust as robust_channel

    cover_img = _image(cover, robust_channel.MIN_COVER_SIDE, "cover")
    cap = robust_channel.capacity(model, key is not None)
    try:
        report = robust_channel.embed(cover_img, payload, key, model)
    except PayloadTooLarge as error:
        raise PayloadTooLarge(f"{prefix}{error}") from None
    changed = float((report.stego != cover_img).any(axis=-1).mean())
    return Embedded(report.stego, report, cap, changed)


@dataclass
class Extracted:
    """What :func:`extract_found` recovered, and from which channel and model."""

    payload: bytes
    channel: str  # "robust", "adaptive" or "standard" (the colour flow's)
    model: str


def extract_found(stego: ImageLike, *, key: KeyLike = None, model: Any = None,
                  device: str = "auto", robust: bool | None = None) -> Extracted:
    """Like :func:`extract`, also saying which channel held the payload.

    ``robust``: True reads only the robust channel (``model`` names a robust model),
    False only the standard ones, None (default) the robust channel first (fast) and then
    the standard ones: adaptive (no network), then the colour flow's (``model`` names a
    standard model). A frame that a channel found but could not repair is reported if the
    others find nothing either.
    """
    from stegnet import adaptive, bits
    from stegnet import robust as robust_channel
    from stegnet.errors import PayloadError, PayloadNotFound

    key_bytes = as_key(key)
    min_side = robust_channel.MIN_STEGO_SIDE if robust else bits.MIN_COVER_SIDE
    stego_img = _image(stego, min_side, "stego image")
    robust_error: PayloadError | None = None
    if robust is not False and min(stego_img.shape[:2]) >= robust_channel.MIN_STEGO_SIDE:
        net = load_model("robust", model if robust else None, device)
        try:
            return Extracted(robust_channel.extract(stego_img, key_bytes, net), "robust",
                             net.name)
        except PayloadError as error:
            if robust:
                raise
            robust_error = error
    try:
        return Extracted(adaptive.extract(stego_img, key_bytes), "adaptive", "hill-stc")
    except PayloadError as error:
        adaptive_error = error
    flow = load_model("bits", model, device)
    try:
        return Extracted(bits.extract_flow(stego_img, key_bytes, flow), "standard", flow.name)
    except PayloadError as error:
        worst = bits.more_telling(adaptive_error, error)
        if robust_error is not None and isinstance(worst, PayloadNotFound):
            worst = robust_error
        raise worst from None


def extract(stego: ImageLike, *, key: KeyLike = None, model: Any = None,
            device: str = "auto", robust: bool | None = None) -> bytes:
    """The bytes :func:`embed` hid; PayloadNotFound / WrongKeyOrCorrupted, never garbage.
    ``robust``: see :func:`extract_found` (default: try the robust channel, then the
    standard one)."""
    return extract_found(stego, key=key, model=model, device=device, robust=robust).payload


@dataclass
class Capacity:
    """How many payload bytes a cover carries (after framing and error correction)."""

    capacity_bytes: int
    nominal_capacity_bytes: int  # size-only figure for the weakest error correction
    width: int
    height: int
    keyed: bool
    measured: bool  # True: a trial embedding measured it on this cover

    @property
    def bits_per_pixel(self) -> float:
        return round(8 * self.capacity_bytes / (self.width * self.height), 4)


def capacity(cover: ImageLike, *, keyed: bool = False, model: Any = None,
             device: str = "auto", measured: bool = True,
             temperature: float = 0.6, robust: bool = False, mode: str = "auto") -> Capacity:
    """Payload bytes ``cover`` carries reliably. ``mode`` as for :func:`embed`: the default
    (adaptive) channel is exact, so its capacity depends only on the size; the colour
    flow's modes measure it by a trial embedding (default), or give the nominal size-only
    figure (``measured=False``). InputError if it carries none.
    ``robust``: the robust channel's capacity (the same for every photo it accepts)."""
    from stegnet import bits
    from stegnet.zoo import LoadedModel, get_model_info

    if robust:
        from stegnet import robust as robust_channel

        cover_img = _image(cover, robust_channel.MIN_COVER_SIDE, "cover")
        height, width = cover_img.shape[:2]
        cap = robust_channel.capacity(load_model("robust", model, device), keyed)
        return Capacity(cap, cap, width, height, keyed, False)
    bits.check_temperature(temperature)
    bits.check_mode(mode)
    cover_img = _image(cover, bits.MIN_COVER_SIDE, "cover")
    height, width = cover_img.shape[:2]
    label = f"{cover}: " if not isinstance(cover, np.ndarray) else ""
    if mode not in bits.FLOW_MODES:
        from stegnet import adaptive

        cap = adaptive.capacity(height, width, keyed)
        if cap <= 0:
            raise InputError(label + too_small_message(width, height, keyed, None))
        return Capacity(cap, cap, width, height, keyed, False)
    card = model.card if isinstance(model, LoadedModel) else get_model_info("bits", model).card
    nsym = int(card.get("ecc_nsym", bits.container.DEFAULT_NSYM))
    nominal = bits.capacity(height, width, keyed, nsym)
    if nominal <= 0:
        raise InputError(label + too_small_message(width, height, keyed, nsym))
    if not measured:
        return Capacity(nominal, nominal, width, height, keyed, False)
    flow = load_model("bits", model, device)
    try:
        cap = bits.measured_capacity(cover_img, keyed, flow, temperature)
    except PayloadTooLarge:  # the stronger error corrections leave no room at all
        cap = 0
    return Capacity(cap, nominal, width, height, keyed, True)


# ---------------------------------------------------------------- steganalysis
def analyze(image: ImageLike, *, learned: bool = True) -> dict[str, float]:
    """Classic detectors (chi-square, RS, SPA) and, with ``learned``, the shipped CNN
    steganalysers (``cnn_<method>``: probability of a stego of that method; skipped for
    images under 32x32)."""
    from stegnet import analysis

    img = _image(image, 1, "image")
    stats = analysis.analyze(img)
    if learned and min(img.shape[:2]) >= 32:
        from stegnet.device import apply_threads

        apply_threads()
        stats.update(analysis.learned(img))
    return stats


def compare(reference: ImageLike, test: ImageLike) -> dict[str, float]:
    """PSNR (dB), SSIM and CIEDE2000 (mean, max) between two images of the same size."""
    from stegnet.color import delta_e00_rgb
    from stegnet.metrics import psnr, ssim

    first, second = _image(reference, 1, "reference"), _image(test, 1, "test image")
    if first.shape != second.shape:
        raise UsageError(f"{test}: size {second.shape[1]}x{second.shape[0]} differs from "
                         f"{reference} ({first.shape[1]}x{first.shape[0]})")
    delta_e = delta_e00_rgb(first, second)
    return {"psnr": round(psnr(first, second), 3), "ssim": round(ssim(first, second), 5),
            "delta_e00_mean": round(float(delta_e.mean()), 4),
            "delta_e00_max": round(float(delta_e.max()), 4)}

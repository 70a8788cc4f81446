"""The ``robust`` channel: bytes that survive a lossy path (``embed-bits --channel robust``).

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
from stegnet.errors import PayloadTooLarge, StegnetError
from stegnet.imageio import require_min_side
from stegnet.models.robust import public_uniform
from stegnet.payload import container

if TYPE_CHECKING:
    from stegnet.models.robust import RobustCodec
    from stegnet.zoo import LoadedModel

MIN_COVER_SIDE = 512  # embedding: a half-size copy must still resolve the grid's band
MIN_STEGO_SIDE = 64  # extraction (a stego may have been shrunk on the way)
_LAYOUT_SEED = 0x0B057


def _codec(model: LoadedModel) -> RobustCodec:
    return model.module


def channel_bits(model: LoadedModel) -> int:
    """Channel bits the robust model offers (the same for every photo size)."""
    codec = _codec(model)
    return codec.n_slots // codec.config.repeat


def capacity_bytes(model: LoadedModel, keyed: bool) -> int:
    """Payload bytes the robust channel carries (the same for every photo size)."""
    return container.capacity_bytes(channel_bits(model), keyed, _codec(model).config.nsym)


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
    """The payload of a robust stego (also after JPEG, resizing, noise); raises
    PayloadNotFound / WrongKeyOrCorrupted, never returns garbage."""
    require_min_side(stego, MIN_STEGO_SIDE, "stego image")
    bits, reliability = read_channel(stego, model)
    return container.unpack(bits, reliability, key)


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
    return Report(stego, "robust", "robust", int(positions.size), errors, nsym, True,
                  model.name, {"min_margin": float(reliability[positions].min()),
                               "iterations": done, "positions": positions,
                               "frame_bits": frame_bits})


class RobustChannel:
    """The ``robust`` channel (see the module docstring); its network is the zoo's
    ``robust`` model (:class:`stegnet.models.robust.RobustCodec`)."""

    name = "robust"
    summary = ("a few hundred bytes in the low-frequency luminance of the whole photo, "
               "read back after re-compression and resizing")
    survives = ("JPEG re-compression (quality 50 and up), resizing the whole photo (to half "
                "size and up), noise; not cropping or rotation")
    medium = "pixels"
    model_task = "robust"
    options: tuple[str, ...] = ()
    min_cover_side = MIN_COVER_SIDE
    min_stego_side = MIN_STEGO_SIDE

    def capacity(self, cover: Any, keyed: bool, model: Any = None, **options: Any) -> int:
        """Net payload bytes (the same for every photo of at least :data:`MIN_COVER_SIDE`
        pixels on the short side)."""
        return capacity_bytes(_loaded(model), keyed)

    def embed(self, cover: np.ndarray, payload: bytes, key: bytes | None, model: Any = None,
              progress: Progress = None, **options: Any) -> Report:
        """See :func:`embed`."""
        return embed(cover, payload, key, _loaded(model))

    def extract(self, stego: np.ndarray, key: bytes | None, model: Any = None) -> bytes:
        """See :func:`extract`."""
        return extract(stego, key, _loaded(model))


def _loaded(model: LoadedModel | None) -> LoadedModel:
    """``model``, or the default robust model on the CPU."""
    from stegnet.zoo import load

    return model if model is not None else load("robust")


CHANNEL = RobustChannel()

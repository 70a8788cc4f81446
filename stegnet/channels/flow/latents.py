"""The colour flow's latents as a channel of sign bits (what the ``flow`` channel writes into).

An 8-bit image HxWx3 (even size) has ``6 * H/2 * W/2`` latents (:func:`latent_shape`):
:func:`analyse` computes them as the extractor does, :func:`synthesise` makes an image
from the cover's lightness and given latents. Large images are processed in overlapping
tiles (:data:`TILE`, :data:`MARGIN`, bounded memory). :func:`refine` is the embedder's
loop that runs the extractor on its own 8-bit stego and pushes the latents that read
wrong, until the payload provably decodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from stegnet.channels.base import Report
from stegnet.errors import StegnetError
from stegnet.payload import container
from stegnet.tensors import image_to_tensor, tensor_to_image
from stegnet.tiling import tile_boxes

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel

TILE = 1024  # pixels per tile side for large images (memory bound), overlapping by MARGIN
MARGIN = 64


def flow_report(stego: np.ndarray, channel_bits: int, raw_bit_errors: int, nsym: int,
                decodable: bool, temperature: float, mode: str, latents: int,
                model: LoadedModel) -> Report:
    """The colour flow's :class:`~stegnet.channels.base.Report` (``mode`` ``sparse`` or
    ``full``; ``details``: the ``temperature`` used, 0 for sparse, 1.0 after a fallback, and
    the image's ``latents``, used or not)."""
    return Report(stego, "flow", mode, channel_bits, raw_bit_errors, nsym, decodable,
                  model.name, {"temperature": temperature, "latents": latents})


def latent_shape(height: int, width: int) -> tuple[int, int, int]:
    """(channels, rows, cols) of the latent carrying bits for an image of that size."""
    return 6, height // 2, width // 2


def channel_bits(height: int, width: int) -> int:
    """Raw channel bits an image of that size offers."""
    channels, rows, cols = latent_shape(height, width)
    return channels * rows * cols


def half_res_tiles(height: int, width: int):
    """(outer, inner) boxes on the half-resolution latent grid (see :mod:`stegnet.tiling`)."""
    return tile_boxes(height // 2, width // 2, TILE // 2, MARGIN // 2)


def analyse(model: LoadedModel, image: np.ndarray) -> np.ndarray:
    """8-bit image HxWx3 (even size) -> latent (6, H/2, W/2) float32, ~N(0, 1) for a
    natural photo; computed tile by tile for large images (what extraction reads)."""
    import torch

    device, flow = model.device, model.module
    height, width = image.shape[:2]
    latent = np.empty(latent_shape(height, width), dtype=np.float32)
    for (top, left, bottom, right), (i_top, i_left, i_bottom, i_right) in half_res_tiles(
        height, width
    ):
        tile = image[2 * top : 2 * bottom, 2 * left : 2 * right]
        with torch.inference_mode():
            z = flow.analyse(image_to_tensor(tile, device))[0].float().cpu().numpy()
        latent[:, i_top:i_bottom, i_left:i_right] = z[
            :, i_top - top : i_bottom - top, i_left - left : i_right - left
        ]
    return latent


def synthesise(model: LoadedModel, cover: np.ndarray, z: np.ndarray,
                rounded: bool = True) -> np.ndarray:
    """8-bit cover (even size) + latent (6, h, w) -> 8-bit stego, tile by tile
    (``rounded=False``: float32 levels 0-255 before rounding)."""
    import torch

    device, flow = model.device, model.module
    height, width = cover.shape[:2]
    stego = np.empty(cover.shape, np.uint8 if rounded else np.float32)
    for (top, left, bottom, right), (i_top, i_left, i_bottom, i_right) in half_res_tiles(
        height, width
    ):
        tile = cover[2 * top : 2 * bottom, 2 * left : 2 * right]
        with torch.inference_mode():
            latent = torch.from_numpy(np.ascontiguousarray(z[:, top:bottom, left:right]))
            out = flow.synthesise(image_to_tensor(tile, device), latent.to(device).unsqueeze(0))
        out = (tensor_to_image(out) if rounded
               else out[0].permute(1, 2, 0).float().cpu().numpy() * 255)
        stego[2 * i_top : 2 * i_bottom, 2 * i_left : 2 * i_right] = out[
            2 * (i_top - top) : 2 * (i_bottom - top), 2 * (i_left - left) : 2 * (i_right - left)
        ]
    return stego


def split_even(cover: np.ndarray) -> tuple[np.ndarray, int, int]:
    height, width = cover.shape[:2]
    even_h, even_w = height // 2 * 2, width // 2 * 2
    return np.ascontiguousarray(cover[:even_h, :even_w]), even_h, even_w


def refine(make_stego: Callable[[], np.ndarray],
           check: Callable[[np.ndarray], tuple[int, np.ndarray]],
           push: Callable[[np.ndarray], bool | None], payload: bytes, key: bytes | None,
           model: LoadedModel, rounds: int, progress, min_rounds: int
           ) -> tuple[int, np.ndarray, bool]:
    """The embedder's refinement loop: -> (frame errors, 8-bit stego, decodable).

    Each round ``make_stego()`` gives the current 8-bit stego (even size) and the
    extractor's own computation is run on it; ``check(latent)`` (flat latents) gives the
    number of frame bits read wrong and what ``push`` needs to correct the next stego
    (:func:`sign_check`: which frame latents read wrong). Stops as soon as the payload
    decodes WITHOUT the reliability hints extraction will have (a safety margin), after at
    least ``min_rounds`` rounds, or when ``push`` returns True (it gives up); otherwise the
    round with the fewest errors is kept and checked once more with the hints.
    """
    best: tuple[int, np.ndarray, np.ndarray] | None = None
    for round_index in range(rounds + 1):
        stego_even = make_stego()
        latent = analyse(model, stego_even).reshape(-1)
        errors, found = check(latent)
        if best is None or errors < best[0]:
            best = (errors, stego_even, latent)
        if progress is not None:
            progress(round_index + 1, rounds + 1)
        if round_index >= min_rounds and (
                errors == 0 or decodes(latent, payload, key, reliable=False)):
            return errors, stego_even, True
        if round_index < rounds and push(found):
            break
    assert best is not None
    return best[0], best[1], decodes(best[2], payload, key, reliable=True)


def sign_check(positions: np.ndarray, target: np.ndarray
               ) -> Callable[[np.ndarray], tuple[int, np.ndarray]]:
    """``check`` for :func:`refine` of a direct frame: frame bit ``i`` is the sign of latent
    ``positions[i]``, which should be ``target[i]`` (+-1) -> (errors, wrong mask (m,))."""
    def check(latent: np.ndarray) -> tuple[int, np.ndarray]:
        wrong = np.sign(latent[positions]) != target
        return int(wrong.sum()), wrong
    return check


def decodes(latent: np.ndarray, payload: bytes, key: bytes | None, reliable: bool) -> bool:
    """Would extraction from this latent (flat) give back exactly ``payload``?"""
    try:
        recovered = container.unpack((latent > 0).astype(np.uint8),
                                     np.abs(latent) if reliable else None, key)
    except StegnetError:
        return False
    return recovered == payload

"""Is there a hidden image? ``reveal``'s check before it writes anything.

Two tests must agree: the shipped CNN steganalyser for ``hide`` (``xunet-hide``, mean logit
over tiles) and the heavy tails of the colour flow's latents (the noise ``hide`` leaves is
not Gaussian). Images are (H, W, 3) uint8 arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from stegnet.errors import ModelError
from stegnet.tensors import image_to_tensor

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel


DETECTOR = "xunet-hide"  # the shipped CNN steganalyser for `hide` (weights/detectors)
DETECT_TILE = 256  # both statistics are computed on tiles of this size ...
DETECT_MAX_TILES = 8  # ... at most this many, spread over the image (bounded time)
#: Mean logit above which the CNN test passes. Its trained decision is 0; 4 keeps a margin
#: of 2 to the lowest hide stego measured (held-out: 6.0 to 7.6) while refusing the
#: faint embedding noise of sparse embed-bits (measured up to 3.6) and clean photos
#: (held-out: at most -2.5).
CNN_THRESHOLD = 4.0
TAIL_LEVEL = 4.0  # |z| beyond this counts as a tail latent (Gaussian: 6e-5 of them)
TAIL_THRESHOLD = 0.01  # share of tail latents above which the noise is hide's ...
KURTOSIS_THRESHOLD = 50.0  # ... or latent kurtosis above which it is


@dataclass(frozen=True)
class Detection:
    """The evidence that a picture carries an image hidden by :func:`hide`.

    ``cnn_logit``: mean logit of the shipped ``xunet-hide`` CNN steganalyser over
    :data:`DETECT_TILE` px tiles (> 0: some kind of stego; > :data:`CNN_THRESHOLD`:
    the strong embedding noise of `hide` or of full embed-bits).
    ``latent_tail`` and ``latent_kurtosis``: how heavy-tailed the colour-detail latents of
    the embed-bits colour flow are (:func:`colour_latent_stats`; above
    :data:`TAIL_THRESHOLD` or :data:`KURTOSIS_THRESHOLD`: the noise of `hide`).
    ``detected`` needs the CNN and one of the two latent statistics.
    """

    detected: bool
    cnn_logit: float
    latent_tail: float
    latent_kurtosis: float

    def to_dict(self) -> dict:
        """JSON-friendly form (rounded)."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _hide_detector():
    """The shipped hide steganalyser in eval mode (cached); ModelError if it is missing."""
    from stegnet.zoo import get_model_info, load

    try:
        get_model_info("detect", DETECTOR)
    except ModelError:
        raise ModelError(f"the hide detector {DETECTOR} is missing (reveal --anyway skips "
                         f"the check)") from None
    return load("detect", DETECTOR).module


def _tile_starts(length: int, tile: int) -> list[int]:
    """Starts of tiles of ``tile`` px covering ``length`` (the last one flush with the end)."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, tile))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def detection_tiles(image: np.ndarray, tile: int = DETECT_TILE,
                    max_tiles: int = DETECT_MAX_TILES) -> list[np.ndarray]:
    """The ``tile`` px tiles (even-sized) both statistics look at: all of them, or
    ``max_tiles`` spread evenly over a large image."""
    height, width = image.shape[:2]
    boxes = [(top, left) for top in _tile_starts(height, tile)
             for left in _tile_starts(width, tile)]
    if len(boxes) > max_tiles:
        picks = np.linspace(0, len(boxes) - 1, max_tiles).round().astype(int)
        boxes = [boxes[i] for i in picks]
    tiles = []
    for top, left in boxes:
        crop = image[top : top + tile, left : left + tile]
        crop = crop[: crop.shape[0] // 2 * 2, : crop.shape[1] // 2 * 2]
        tiles.append(np.ascontiguousarray(crop))
    return tiles


def detector_logit(tiles: list[np.ndarray]) -> float:
    """Mean logit of the shipped hide detector over ``tiles`` (:func:`detection_tiles`).

    The detector was trained on 128 px crops of 256 px images; averaging its logits over
    256 px tiles keeps every input at the scale it knows and the memory bounded.
    """
    import torch

    model = _hide_detector()
    logits = []
    with torch.inference_mode():
        for crop in tiles:
            batch = torch.from_numpy(crop).permute(2, 0, 1)[None].float()
            logits.append(float(model(batch)[0]))
    return float(np.mean(logits))


def colour_latent_stats(tiles: list[np.ndarray],
                        bits_model: LoadedModel | None = None) -> tuple[float, float]:
    """(tail share, kurtosis) of the latents z the embed-bits colour flow gives for the
    colour detail of ``tiles``: the share of ``|z| > TAIL_LEVEL`` and ``E[z^4] / E[z^2]^2``.

    The flow was trained to map a photo's colour detail to Gaussian latents (tail share
    6e-5, kurtosis 3). Measured on training photos: clean photos give mildly heavy tails
    (tail share up to 0.006, kurtosis 3-12), embed-bits stego images near-Gaussian ones
    (their colour detail was synthesised from Gaussian latents, or is the cover's where
    sparse embedding left it), and the noise of `hide` very heavy ones (tail share 0.02 to
    0.4, or kurtosis 100 to 10,000): this tells the two kinds of stego apart.
    """
    import torch

    from stegnet.zoo import load

    model = bits_model if bits_model is not None else load("flow")
    flow, device = model.module, model.device
    second = fourth = 0.0
    tail = count = 0
    with torch.inference_mode():
        for crop in tiles:
            z = flow.analyse(image_to_tensor(crop, device))[0].double().cpu().numpy()
            squared = z.reshape(-1) ** 2
            second += float(squared.sum())
            fourth += float((squared**2).sum())
            tail += int(np.count_nonzero(squared > TAIL_LEVEL**2))
            count += squared.size
    if count == 0 or second == 0:
        return 0.0, 0.0
    return tail / count, (fourth / count) / (second / count) ** 2


def detect(stego: np.ndarray, bits_model: LoadedModel | None = None) -> Detection:
    """Does ``stego`` carry an image hidden by :func:`hide`?

    Two measured tests must agree: the CNN steganalyser sees embedding noise (this rules
    out clean photos) and the colour latents are as heavy-tailed as hide's noise makes
    them (this rules out embed-bits stego images, which the CNN also flags, and is itself
    far from clean photos). The thresholds and their measured error rates on held-out photos:
    ``scripts/measure_reveal_detection.py`` (``results/reveal-detection.json``).
    """
    tiles = detection_tiles(stego)
    logit = detector_logit(tiles)
    tail, kurtosis = colour_latent_stats(tiles, bits_model)
    heavy = tail > TAIL_THRESHOLD or kurtosis > KURTOSIS_THRESHOLD
    return Detection(bool(logit > CNN_THRESHOLD and heavy), logit, tail, kurtosis)

"""Is a photo grey-scale? (embed-bits refuses such covers unless asked.)

embed-bits hides bytes in the colour detail of a photo: on a grey photo (R == G == B
everywhere) that detail is synthesised from nothing and the stego comes out visibly
colourful, which gives it away at a glance. A cover counts as grey when at least
:data:`GREY_FRACTION` of its pixels have all three channels within
:data:`GREY_TOLERANCE` levels of each other (so a grey scan with a few coloured specks, or
rounding noise from a converted file, is still grey).
"""

from __future__ import annotations

import numpy as np

GREY_TOLERANCE = 1  # max - min over R, G, B, in 8-bit levels
GREY_FRACTION = 0.99  # share of such pixels for the whole image to count as grey
_ROWS_PER_CHUNK = 512  # bounded temporary memory on very large images


def grey_fraction(image: np.ndarray, tolerance: int = GREY_TOLERANCE) -> float:
    """Share of the pixels of ``image`` (H x W x 3 uint8) whose channels differ by at most
    ``tolerance`` levels (1.0 for an empty image)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 image, got shape {image.shape}")
    height, width = image.shape[:2]
    if height * width == 0:
        return 1.0
    grey = 0
    for top in range(0, height, _ROWS_PER_CHUNK):
        rows = image[top : top + _ROWS_PER_CHUNK]
        spread = rows.max(axis=2).astype(np.int16) - rows.min(axis=2)
        grey += int(np.count_nonzero(spread <= tolerance))
    return grey / (height * width)


def is_grey(image: np.ndarray, tolerance: int = GREY_TOLERANCE,
            fraction: float = GREY_FRACTION) -> bool:
    """True when at least ``fraction`` of the pixels are grey (see :func:`grey_fraction`)."""
    return grey_fraction(image, tolerance) >= fraction

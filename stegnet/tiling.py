"""Run a fully convolutional image-to-image function over a large image in tiles.

Memory stays bounded by the tile size whatever the image size. Tiles overlap by
``margin`` pixels on each side; only each tile's inner part is kept, so seams
see the same context as the interior (up to the margin). Tile origins are
multiples of ``align`` (2 for one Haar level) so wavelet grids line up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad an HxWxC array at the bottom/right to multiples of ``multiple``."""
    height, width = image.shape[:2]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return image
    mode = "reflect" if min(height, width) > 1 else "edge"
    return np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode=mode)


def tile_boxes(
    height: int, width: int, tile: int, margin: int
) -> Iterator[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Yield (outer box, inner box) as (top, left, bottom, right) covering the image."""
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            outer = (max(0, top - margin), max(0, left - margin),
                     min(height, bottom + margin), min(width, right + margin))
            yield outer, (top, left, bottom, right)


def run_tiled(
    images: list[np.ndarray],
    function: Callable[[list[np.ndarray]], np.ndarray],
    tile: int = 512,
    margin: int = 32,
    align: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Apply ``function`` tile by tile to same-sized HxWxC arrays.

    ``function`` receives the list of tiles (each h x w x C, h and w multiples
    of ``align``) and returns one h x w x C' array; the results are stitched into
    an H x W x C' array (H, W: the input size, which must be multiples of ``align``).
    """
    height, width = images[0].shape[:2]
    if height % align or width % align:
        raise ValueError("image size must be a multiple of align; pad first")
    tile = max(align, tile - tile % align)
    margin = margin - margin % align
    boxes = list(tile_boxes(height, width, tile, margin))
    result: np.ndarray | None = None
    for index, (outer, inner) in enumerate(boxes):
        top, left, bottom, right = outer
        out = function([img[top:bottom, left:right] for img in images])
        if result is None:
            result = np.empty((height, width, out.shape[2]), dtype=out.dtype)
        i_top, i_left, i_bottom, i_right = inner
        result[i_top:i_bottom, i_left:i_right] = out[
            i_top - top : i_bottom - top, i_left - left : i_right - left
        ]
        if progress is not None:
            progress(index + 1, len(boxes))
    assert result is not None
    return result

"""SPAM-686: second-order subtractive pixel adjacency features (Pevny, Bas, Fridrich,
"Steganalysis by subtractive pixel adjacency matrix", IEEE TIFS 5(2), 2010).

For an 8-bit plane ``I`` (``H x W``) and a direction ``s`` (one of the 8 unit steps
``(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (-1, 1), (1, -1)``; row, column), the
difference array along ``s`` is

    D_s(p) = I(p) - I(p + s),

truncated to ``[-T, T]`` (``T = 3``: ``2T + 1 = 7`` values), and its second-order
co-occurrence (the sample of the 2nd-order Markov chain along ``s``) is

    M_s(u, v, w) = #{p : D_s(p) = u, D_s(p + s) = v, D_s(p + 2s) = w} / N_s,

``u, v, w`` in ``-3..3``, over the ``N_s`` positions ``p`` where ``p``, ``p + s``,
``p + 2s`` and ``p + 3s`` are all inside the image (``N_s = H (W - 3)`` for the horizontal
directions, ``(H - 3) W`` for the vertical ones, ``(H - 3)(W - 3)`` for the diagonals).
The paper writes the model as the transition probabilities ``Pr(D(p + 2s) = w | D(p + s)
= v, D(p) = u)``; like the authors' reference implementation (``spam686.m``, DDE Lab)
this module keeps the joint normalised counts ``M_s``, which carry the same information
without dividing by rare (u, v) cells. The 8 directions are averaged into two groups of
``7^3 = 343``:

    F_straight = (M_(0,1) + M_(0,-1) + M_(1,0) + M_(-1,0)) / 4,
    F_diagonal = (M_(1,1) + M_(-1,-1) + M_(-1,1) + M_(1,-1)) / 4,

and the feature is ``[F_straight, F_diagonal]`` (686,). Cell ``(u, v, w)`` of a group is
entry ``49 (u + 3) + 7 (v + 3) + (w + 3)``; every value is in ``[0, 1]`` and each group
sums to 1 (the image must be at least 4 x 4). A reverse direction ``-s`` is the forward
one read backwards with the signs flipped, ``M_-s(u, v, w) = M_s(-w, -v, -u)``: only 4
co-occurrences are counted.

Colour: a ``H x W x 3`` image is treated as three grey planes whose counts are pooled
(added before normalising; the same as the mean of the three planes' features), as the
colour rich models pool their co-occurrences over channels (Goljan, Fridrich, Cogranne
2014). The per-channel +-1 changes that the study's embedders make survive that; an
integer luminance would round many of them away. ~5 ms for a 256 x 256 RGB image.
"""

from __future__ import annotations

import numpy as np

T = 3
"""Truncation of the differences: ``-T..T``."""
BINS = (2 * T + 1) ** 3
"""Cells of one second-order co-occurrence: 343."""
DIMENSION = 2 * BINS
"""686: the straight and the diagonal group."""

# the forward step of each direction pair (its reverse is counted by symmetry)
_STRAIGHT = ((0, 1), (1, 0))
_DIAGONAL = ((1, 1), (-1, 1))


def _cooccurrence(planes: np.ndarray, step: tuple[int, int]) -> np.ndarray:
    """Counts (343,) of ``(D(p), D(p + s), D(p + 2s))`` along ``step`` over every plane
    (``planes``: (C, H, W) int16)."""
    height, width = planes.shape[1:]
    rows, cols = height - 3 * abs(step[0]), width - 3 * abs(step[1])
    r0 = 3 if step[0] < 0 else 0  # first row of p with p + 3s inside the image
    c0 = 3 if step[1] < 0 else 0
    pixels = [planes[:, r0 + k * step[0] : r0 + k * step[0] + rows,
                     c0 + k * step[1] : c0 + k * step[1] + cols] for k in range(4)]
    index = np.zeros(pixels[0].shape, np.int16)
    for k, weight in enumerate((49, 7, 1)):
        diff = np.clip(pixels[k] - pixels[k + 1], -T, T)
        index += (diff + T) * weight
    return np.bincount(index.ravel(), minlength=BINS)


def _with_reverse(counts: np.ndarray) -> np.ndarray:
    """Counts of the forward direction plus those of its reverse: ``M_-s(u, v, w) =
    M_s(-w, -v, -u)``."""
    cube = counts.reshape(7, 7, 7)
    return (cube + cube[::-1, ::-1, ::-1].transpose(2, 1, 0)).ravel()


def spam686(image: np.ndarray) -> np.ndarray:
    """SPAM-686 features (module doc) of an 8-bit image: ``(H, W)`` grey or ``(H, W, 3)``
    colour (the three planes pooled), ``H, W >= 4``. -> (686,) float32 in [0, 1]: the
    straight group (343, sums to 1), then the diagonal group (343, sums to 1)."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or min(array.shape[:2]) < 4:
        raise ValueError(f"SPAM needs an (H, W) or (H, W, C) image of at least 4 x 4, "
                         f"got {array.shape}")
    planes = np.ascontiguousarray(np.moveaxis(array, -1, 0), dtype=np.int16)
    groups = []
    for steps in (_STRAIGHT, _DIAGONAL):
        # each direction's matrix is normalised by its own count before averaging
        group = sum(_with_reverse(c) / (2.0 * c.sum())
                    for c in (_cooccurrence(planes, s) for s in steps))
        groups.append(group / len(steps))
    return np.concatenate(groups).astype(np.float32)

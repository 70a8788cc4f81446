"""A syndrome-trellis code over *all* of a channel's positions, solved in compiled code.

The code of :mod:`stegnet.payload.stc` gives every message bit the same number ``w`` of
columns, so a frame of ``m`` bits reads ``m * w`` positions and leaves the rest of the
channel unused (``n / m = 4.9`` gives ``w = 4``: a fifth of the channel, often its cheapest
positions), and it searches many short lanes at once in NumPy, which only pays with large
messages. The exact frame (:mod:`stegnet.payload.exact`) uses this code instead:

* **spread widths**: message bit ``i`` owns columns ``[s_i, s_{i+1})`` with
  ``s_i = floor(i n / m)``, i.e. ``floor(n / m)`` or one more, so the code reads every one
  of the ``n`` positions it is given (:func:`spread`). Column ``k`` of a block is the
  ``h``-bit vector ``hhat[k]`` of :func:`stegnet.payload.stc.parity_columns` for the widest
  block, placed on rows ``i .. i + h - 1``;
* **few long lanes, compiled**: the message is cut into :func:`lanes` chains of at least
  :data:`LANE_BITS` bits (rows that would reach past a lane's end are cut), each searched
  by a Viterbi loop compiled with `numba <https://numba.pydata.org>`_ (~50x faster than a
  NumPy loop over columns, which is what lets a code use every position at a useful
  height), the lanes in parallel on the cores;
* **wet positions**: a cost of ``inf`` forbids a flip; :func:`embed` returns
  ``None`` when no stego meets the syndrome (e.g. a message bit whose columns are all wet).

Shapes: ``x``, ``y``, ``rho`` are (n,) in column order; the message is (m,), ``1 <= m <= n``.
Bits are uint8 0/1; costs float >= 0 (``inf`` allowed; the search adds them in float32).
"""

from __future__ import annotations

import numpy as np

from stegnet.payload.stc import parity_columns

__all__ = ["MAX_WORK", "height", "lanes", "spread", "syndrome", "embed"]

LANE_BITS = 1024
"""Message bits per lane, at least (a lane's boundary costs a little efficiency)."""
MAX_LANES = 8

MAX_WORK = 2**28
"""Trellis steps (columns x states) a code's height keeps within (~0.3 s on two cores; the
back-pointers take ``MAX_WORK / 8`` bytes, or 4 bytes per column below 32 states)."""


def height(n: int, low: int = 4, high: int = 10) -> int:
    """The constraint height for a code over ``n`` columns: the largest in ``low .. high``
    with ``n * 2^h <= MAX_WORK`` (a taller code needs fewer changes, each step doubles the
    time and memory)."""
    h = low
    while h < high and n << (h + 1) <= MAX_WORK:
        h += 1
    return h


def spread(n: int, m: int) -> np.ndarray:
    """Block starts (m + 1,) int64: message bit ``i`` owns columns ``[s_i, s_{i+1})``,
    ``s_0 = 0``, ``s_m = n``, each block ``floor(n / m)`` or ``ceil(n / m)`` wide."""
    if not 1 <= m <= n:
        raise ValueError(f"a code needs 1 <= m <= n (m={m}, n={n})")
    return (np.arange(m + 1, dtype=np.int64) * n) // m


def lanes(m: int) -> np.ndarray:
    """Lane bounds (L + 1,) int64: the code is cut into ``L = clip(m // LANE_BITS, 1,
    MAX_LANES)`` independent chains of consecutive message bits (lane ``j`` owns bits
    ``[b_j, b_{j+1})`` and their columns; a row that would reach past its lane is cut), so
    the search runs on several cores."""
    count = int(min(MAX_LANES, max(1, m // LANE_BITS)))
    return (np.arange(count + 1, dtype=np.int64) * m) // count


def _code(n: int, m: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(block starts (m + 1,), the widest block's hhat vectors (w,) int64): a block's
    column ``k`` is ``hhat[k]``."""
    starts = spread(n, m)
    return starts, parity_columns(int(np.diff(starts).max()), h)


def syndrome(y: np.ndarray, m: int, h: int) -> np.ndarray:
    """The message (m,) uint8 carried by stego bits ``y`` (n,): ``H y`` over GF(2)."""
    y = np.asarray(y, dtype=np.uint8).reshape(-1)
    starts, hhat = _code(y.size, m, h)
    widths = np.diff(starts)
    hcol = hhat[np.arange(y.size, dtype=np.int64) - np.repeat(starts[:-1], widths)]
    words = np.bitwise_xor.reduceat(np.where(y == 1, hcol, 0), starts[:-1])
    lane = np.repeat(np.arange(len(bounds := lanes(m)) - 1), np.diff(bounds))
    message = np.zeros(m, dtype=np.uint8)
    for r in range(min(h, m)):  # row r of block b lands on message bit b + r (same lane)
        same = lane[r:] == lane[: m - r]
        message[r:] ^= (((words[: m - r] >> r) & 1) * same).astype(np.uint8)
    return message


def embed(x: np.ndarray, rho: np.ndarray, message: np.ndarray, h: int
          ) -> tuple[np.ndarray, float] | None:
    """Cheapest stego bits ``y`` (n,) with ``syndrome(y, m, h) == message``.

    Args:
        x: cover bits (n,) 0/1.
        rho: cost of flipping each bit (n,), >= 0; ``inf``: the bit must keep its value.
        message: (m,) 0/1, ``1 <= m <= n``.
        h: constraint height (1 .. 16).

    Returns:
        ``(y, cost)``, ``y`` (n,) uint8 and the summed cost of its flips; None if no ``y``
        has that syndrome without flipping a wet bit.
    """
    from stegnet.payload._viterbi import viterbi

    x = np.ascontiguousarray(x, dtype=np.uint8).reshape(-1)
    rho = np.asarray(rho).reshape(-1)
    message = np.ascontiguousarray(message, dtype=np.uint8).reshape(-1)
    if rho.shape != x.shape or np.isnan(rho).any() or (rho < 0).any():
        raise ValueError("rho must be (n,) costs >= 0 (inf allowed), like x")
    if not 1 <= h <= 16:
        raise ValueError(f"bad constraint height {h}")
    starts, hhat = _code(x.size, message.size, h)
    y, cost = viterbi(x, np.ascontiguousarray(rho, dtype=np.float32), starts, hhat, message,
                      h, lanes(message.size))
    if not np.isfinite(cost):
        return None
    return y, float(rho[y != x].sum(dtype=np.float64))

"""Syndrome-trellis codes (STC): carry m message bits in n >= m cover bits, changing few.

The message is the *syndrome* ``H y`` (over GF(2)) of the stego bits ``y`` (n,), so the
extractor only multiplies; the embedder is free to pick, among all ``y`` with that
syndrome, the one closest to the cover bits ``x`` under per-bit flip costs ``rho``
(Filler, Judas & Fridrich, "Minimizing additive distortion in steganography using
syndrome-trellis codes", 2011). ``H`` is banded: message bit ``i`` owns a block of ``w``
consecutive columns, and column ``k`` of every block is the same ``h``-bit vector
``hhat[k]`` placed on rows ``i .. i + h - 1``. The embedder finds the cheapest ``y`` with a
Viterbi search over the ``2^h`` partial syndromes (the trellis); at relative payload
``1/w`` it needs far fewer flips than writing the message into ``m`` bits directly (where
half of them flip) and puts them where ``rho`` is small.

Lanes: the trellis is one long chain, so a NumPy search would loop over every column. To
vectorise, the message is cut into ``L`` independent chains of consecutive bits (lane
``j`` holds message bits ``[j * B, (j + 1) * B)``, ``B = ceil(m / L)`` blocks; the last
lane may be shorter): the search runs over the lanes at once, one column per step, and
costs little efficiency while each lane keeps :data:`LANE_BLOCKS` or more blocks. Rows
that a lane's last blocks would reach past its end are dropped (the tail of ``H`` is
cut), as in the original construction. A wrong stego bit spoils message bits within
``h`` of each other, i.e. one or two bytes, which byte-wise Reed-Solomon then repairs
cheaply. (Format version 3 dealt message bits out round-robin, bit ``i`` to lane
``i % L``, which spread one wrong bit over up to ``h`` bytes; :func:`syndrome` still
reads it with ``interleaved=True``.)

Shapes: ``x``, ``y``, ``rho`` are (m * w,) in block order (block ``i`` = columns
``[i * w, (i + 1) * w)``); the message is (m,). Bits are uint8 0/1.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

__all__ = ["HEIGHT", "LANE_BLOCKS", "Frame", "lanes", "parity_columns", "syndrome", "embed"]

HEIGHT = 7
"""Constraint height h: 2^7 = 128 trellis states (efficiency vs time, the usual choice)."""

LANE_BLOCKS = 96
"""Blocks (message bits) per lane the lane count aims for (fewer lanes = longer chains)."""

_MAX_LANES = 512


def lanes(m: int) -> int:
    """Number of interleaved lanes for an m-bit message (a function of m only)."""
    return int(max(1, min(_MAX_LANES, m // LANE_BLOCKS)))


@lru_cache(maxsize=64)
def parity_columns(w: int, h: int = HEIGHT) -> np.ndarray:
    """The ``w`` columns of the sub-matrix Hhat as h-bit integers (row r = bit r).

    Fixed for a given (w, h) (derived from a public hash, not from a NumPy generator
    whose stream may change): every column has its first and last row set, which keeps
    the code's minimum distance up; the other rows are pseudo-random.
    """
    if w < 1 or not 1 <= h <= 16:
        raise ValueError(f"bad STC shape w={w}, h={h}")
    digest = b""
    counter = 0
    while len(digest) < 2 * w:
        digest += hashlib.sha256(f"stegnet-stc:{h}:{w}:{counter}".encode()).digest()
        counter += 1
    raw = np.frombuffer(digest[: 2 * w], dtype=">u2").astype(np.int64)
    cols = (raw & ((1 << h) - 1)) | 1 | (1 << (h - 1))
    cols.flags.writeable = False
    return cols


def _row_matrix(w: int, h: int) -> np.ndarray:
    """Hhat as a (h, w) 0/1 matrix: entry (r, k) = bit r of column k."""
    cols = parity_columns(w, h)
    return ((cols[None, :] >> np.arange(h)[:, None]) & 1).astype(np.uint8)


def syndrome(y: np.ndarray, m: int, w: int, h: int = HEIGHT,
             interleaved: bool = False) -> np.ndarray:
    """The message carried by stego bits ``y`` (m * w,): ``H y`` -> (m,) uint8 0/1.
    ``interleaved``: the round-robin lanes of format version 3 (see the module doc)."""
    y = np.asarray(y, dtype=np.uint8).reshape(m, w)
    n_lanes = lanes(m)
    blocks = -(-m // n_lanes)
    # (m, h) parities; float32 sums of at most w <= 2^24 ones are exact, and BLAS-fast
    contrib = (y.astype(np.float32) @ _row_matrix(w, h).T.astype(np.float32)).astype(
        np.int64) & 1
    contrib = np.concatenate([contrib, np.zeros((blocks * n_lanes - m, h), np.int64)])
    if interleaved:  # message bit i = block i // L of lane i % L
        contrib = contrib.reshape(blocks, n_lanes, h).transpose(1, 0, 2)
    else:  # message bit i = block i % B of lane i // B
        contrib = contrib.reshape(n_lanes, blocks, h)
    message = np.zeros((n_lanes, blocks), dtype=np.uint8)
    for r in range(min(h, blocks)):  # row r of block b lands on block b + r of its lane
        message[:, r:] ^= contrib[:, : blocks - r, r].astype(np.uint8)
    return (message.T if interleaved else message).reshape(-1)[:m]


def embed(x: np.ndarray, rho: np.ndarray, message: np.ndarray, w: int,
          h: int = HEIGHT) -> np.ndarray:
    """Cheapest stego bits ``y`` (m * w,) with ``syndrome(y) == message``.

    Args:
        x: cover bits (m * w,) 0/1.
        rho: cost of flipping each cover bit (m * w,), finite and >= 0.
        message: (m,) 0/1.
        w: columns per message bit (1 / relative payload).
        h: constraint height.

    Returns:
        y (m * w,) uint8; it differs from ``x`` where flipping was cheapest overall.
    """
    message = np.asarray(message, dtype=np.uint8)
    m = message.size
    x = np.asarray(x, dtype=np.uint8).reshape(m, w)
    rho = np.asarray(rho, dtype=np.float64).reshape(m, w)
    n_lanes = lanes(m)
    blocks = -(-m // n_lanes)
    pad = blocks * n_lanes - m
    # Lane layout: (blocks, lanes, w); padded blocks (past the message) may not flip.
    x_l = np.concatenate([x, np.zeros((pad, w), np.uint8)]).reshape(
        n_lanes, blocks, w).transpose(1, 0, 2)
    rho_l = np.concatenate([rho, np.zeros((pad, w))]).reshape(
        n_lanes, blocks, w).transpose(1, 0, 2)
    msg_l = np.concatenate([message, np.zeros(pad, np.uint8)]).reshape(n_lanes, blocks).T
    active = (np.arange(blocks * n_lanes) < m).reshape(n_lanes, blocks).T
    cols = parity_columns(w, h)
    states = 1 << h
    index = np.arange(states)
    flip_from = [index ^ int(c) for c in cols]  # y = 1 in column k comes from state s ^ c
    cost = np.full((n_lanes, states), np.inf)
    cost[:, 0] = 0.0
    # Which states took y = 1, one bit per state (packed: 16 bytes per lane and column).
    took_one = np.zeros((blocks, w, n_lanes, (states + 7) // 8), dtype=np.uint8)
    chosen_bit = np.zeros((blocks, n_lanes), dtype=np.int64)  # the parity kept per block
    half = np.arange(states // 2) << 1
    for b in range(blocks):
        for k in range(w):
            xk, rk = x_l[b, :, k], rho_l[b, :, k]
            add0 = np.where(xk == 1, rk, 0.0)[:, None]
            add1 = np.where(xk == 0, rk, 0.0)
            add1 = np.where(active[b], add1, np.inf)[:, None]
            stay = cost + add0
            move = cost[:, flip_from[k]] + add1
            pick = move < stay
            took_one[b, k] = np.packbits(pick, axis=1)
            cost = np.where(pick, move, stay)
        # Bit 0 of the state is this block's syndrome bit: keep the states that match it
        # (padded blocks: whichever parity is cheaper), then shift to the next block.
        best_even = cost[:, 0::2].min(axis=1)
        best_odd = cost[:, 1::2].min(axis=1)
        free = np.where(best_odd < best_even, 1, 0)
        bit = np.where(active[b], msg_l[b], free)
        chosen_bit[b] = bit
        shifted = np.full_like(cost, np.inf)
        shifted[:, : states // 2] = np.take_along_axis(cost, half[None, :] | bit[:, None],
                                                       axis=1)
        cost = shifted
    # Back-track from the cheapest final state of every lane.
    state = np.argmin(cost, axis=1)
    lane_index = np.arange(n_lanes)
    y_l = np.zeros((blocks, n_lanes, w), dtype=np.uint8)
    for b in range(blocks - 1, -1, -1):
        state = (state << 1) | chosen_bit[b]
        for k in range(w - 1, -1, -1):
            one = (took_one[b, k, lane_index, state >> 3] >> (7 - (state & 7))) & 1
            y_l[b, :, k] = one
            state = np.where(one, state ^ int(cols[k]), state)
    return y_l.transpose(1, 0, 2).reshape(blocks * n_lanes, w)[:m].reshape(-1)


class Frame:
    """A message laid out as syndromes of several column sets, each with its own width.

    ``parts``: ``(columns, message, w, h)``: ``columns`` (len(message) * w,) int64,
    distinct positions in a channel of bits; ``message`` (m,) uint8 0/1, the syndrome those
    columns must have; ``w`` and ``h`` the code's width and constraint height. What an
    embedder holds while it refines a stego: it can re-solve
    for the cheapest changes from whatever the channel reads now.
    """

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray, int, int]]) -> None:
        self.parts = parts
        self.positions = np.concatenate([columns for columns, *_ in parts])

    def solve(self, bits: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """Channel bits now (n,) 0/1 and flip costs (n,) -> the 0/1 bit each of
        :attr:`positions` must hold, the cheapest change that makes every syndrome right."""
        return np.concatenate([embed(bits[columns], costs[columns], message, w, h)
                               for columns, message, w, h in self.parts])

    def errors(self, bits: np.ndarray) -> int:
        """Message bits that channel bits (n,) 0/1 read wrong."""
        return sum(int((syndrome(bits[columns], len(message), w, h) != message).sum())
                   for columns, message, w, h in self.parts)

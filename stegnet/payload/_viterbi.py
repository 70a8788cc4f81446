"""The compiled Viterbi search of :mod:`stegnet.payload.trellis` (numba, cached on disk).

Kept in its own module so that reading a stego (which only multiplies) never imports numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _chain(x, rho, starts, hhat, message, h, first, stop, y):  # pragma: no cover
    """Viterbi over message bits ``[first, stop)`` (one lane): writes its columns of ``y``
    and returns the cost (inf if no solution)."""
    states = 1 << h
    words = max(1, states >> 5)
    lo, hi = starts[first], starts[stop]
    path = np.zeros((hi - lo, words), dtype=np.uint32)
    cost = np.full(states, np.inf, dtype=np.float32)
    cost[0] = 0.0
    new = np.empty(states, dtype=np.float32)
    half = states >> 1
    for i in range(first, stop):
        for j in range(starts[i], starts[i + 1]):
            c = hhat[j - starts[i]]
            r = rho[j]
            add0 = r if x[j] else np.float32(0.0)
            add1 = np.float32(0.0) if x[j] else r
            row = j - lo
            for wi in range(words):
                word = np.uint32(0)
                top = min(32, states - (wi << 5))
                base = wi << 5
                for b in range(top):  # branch-free: ~1.3x faster than an if / else
                    s = base | b
                    stay = cost[s] + add0
                    move = cost[s ^ c] + add1
                    take = move < stay
                    new[s] = move if take else stay
                    word |= np.uint32(take) << np.uint32(b)
                path[row, wi] = word
            cost, new = new, cost
        bit = message[i]
        for t in range(half):
            new[t] = cost[(t << 1) | bit]
        for t in range(half, states):
            new[t] = np.inf
        cost, new = new, cost
    best = 0
    for s in range(states):
        if cost[s] < cost[best]:
            best = s
    state = best
    for i in range(stop - 1, first - 1, -1):
        state = ((state << 1) | message[i]) & (states - 1)
        for j in range(starts[i + 1] - 1, starts[i] - 1, -1):
            if (path[j - lo, state >> 5] >> np.uint32(state & 31)) & np.uint32(1):
                y[j] = 1
                state ^= hhat[j - starts[i]]
    return cost[best]


@njit(cache=True, parallel=True)
def viterbi(x, rho, starts, hhat, message, h, bounds):  # pragma: no cover - compiled
    """Cheapest ``y`` with syndrome ``message`` (see :func:`stegnet.payload.trellis.embed`):
    x (n,) uint8, rho (n,) float32, starts (m + 1,) int64 block starts, hhat (w,) int64 the
    vector of a block's k-th column, message (m,) uint8, h the height, bounds (L + 1,) int64
    the lanes' first message bits -> (y (n,) uint8, total cost; inf if infeasible).
    Costs add up in float32 (the search's decisions; the caller sums the exact cost)."""
    y = np.zeros(x.size, dtype=np.uint8)
    lanes = bounds.size - 1
    totals = np.zeros(lanes)
    for lane in prange(lanes):
        totals[lane] = _chain(x, rho, starts, hhat, message, h, bounds[lane],
                              bounds[lane + 1], y)
    return y, totals.sum()

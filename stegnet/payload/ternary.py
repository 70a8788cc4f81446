"""+-1 embedding as two binary layers: ternary syndrome coding (double-layered STC).

A +-1 change has three outcomes (-1, 0, +1), so a position can carry up to log2(3) bits,
and the direction of a change is information too: at the same change rate ``2p`` a
ternary embedder carries ``2p`` bits per position more than a binary one, which only uses
the parity (Filler, Judas & Fridrich 2011, section "multi-layered construction"). Two
binary codes (:mod:`stegnet.payload.trellis`) do it:

* **layer 2**, the second bit ``(v >> 1) & 1`` of every value ``v`` (floor semantics,
  so for negative values too): of +1 and -1 exactly one flips it (-1 when ``v`` is even,
  +1 when it is odd). It carries ``m2`` message bits under the binary costs
  ``ln((1 - p2) / p2)``, ``p2`` the probability that the optimal ternary embedder at this
  payload (a Gibbs distribution ``p(+-1) ~ exp(-lambda rho(+-1))``) makes that change;
* **layer 1**, the parity ``v & 1``, carries the other ``m1`` bits: where layer 2 made its
  change, the parity has flipped with it and may not move again (wet); elsewhere it flips
  by the other direction, the one that keeps layer 2, at that direction's cost.

The split ``m2`` is what the Gibbs distribution's layer 2 carries (:func:`split`), so the
extractor needs it: the frame stores it (:mod:`stegnet.payload.exact`). Reading is two
syndromes (:func:`read`). Shapes: all arrays (n,) over the positions the frame uses,
values int (any width), costs float64 >= 0 with ``inf`` = that change is not allowed.
"""

from __future__ import annotations

import numpy as np

from stegnet.payload import trellis

__all__ = ["directed_costs", "layer_bits", "split", "embed", "read"]

_SAMPLE = 50_000  # positions the payload-limited search over lambda looks at
_CHUNK = 1 << 22


def directed_costs(rho: np.ndarray, values: np.ndarray, low: int, high: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(cost of +1, cost of -1), each (n,): ``rho`` (n,), ``inf`` where that change would
    take a value out of ``low .. high`` (e.g. 0 .. 255 for pixel samples)."""
    return np.where(values >= high, np.inf, rho), np.where(values <= low, np.inf, rho)


def layer_bits(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(parity ``v & 1``, second bit ``(v >> 1) & 1``) of int values (n,), uint8."""
    values = np.asarray(values)
    return (values & 1).astype(np.uint8), ((values >> 1) & 1).astype(np.uint8)


def _second_bit_step(values: np.ndarray) -> np.ndarray:
    """The change (+1 or -1, int8 (n,)) that flips each value's second bit."""
    return np.where(np.asarray(values) & 1, np.int8(1), np.int8(-1))


def _gibbs_logs(rho_plus: np.ndarray, rho_minus: np.ndarray, lam: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln p(+1), ln p(-1), ln p(0)) of the Gibbs distribution at ``lam`` (stable for
    large and infinite costs)."""
    a = -lam * rho_plus
    b = -lam * rho_minus
    top = np.maximum(np.maximum(a, b), 0.0)
    log_z = top + np.log(np.exp(-top) + np.exp(a - top) + np.exp(b - top))
    return a - log_z, b - log_z, -log_z


def _entropy_bits(log_ps: tuple[np.ndarray, ...]) -> float:
    total = 0.0
    for log_p in log_ps:
        p = np.exp(log_p)
        total -= float(np.sum(p * np.where(p > 0, log_p, 0.0)))
    return total / np.log(2)


def _sample(n: int) -> slice:
    """Evenly spaced positions (at most :data:`_SAMPLE`) the searches look at."""
    return slice(None, None, max(1, n // _SAMPLE))


def _lambda(rho_plus: np.ndarray, rho_minus: np.ndarray, bits: float) -> float:
    """The payload-limited sender's lambda: the ternary entropy of the Gibbs distribution
    over these positions is ``bits``."""

    def carried(lam: float) -> float:  # decreasing in lam
        return _entropy_bits(_gibbs_logs(rho_plus, rho_minus, lam))

    low, high = 1.0, 1.0
    while carried(high) > bits and high < 1e30:
        low, high = high, high * 8
    while carried(low) <= bits and low > 1e-30:
        low, high = low / 8, low
    for _ in range(50):  # geometric bisection: carried(low) > bits >= carried(high)
        mid = float(np.sqrt(low * high))
        if carried(mid) > bits:
            low = mid
        else:
            high = mid
        if high <= low * (1 + 1e-3):
            break
    return high


def split(values: np.ndarray, rho_plus: np.ndarray, rho_minus: np.ndarray, bits: int
          ) -> tuple[int, np.ndarray]:
    """How many of ``bits`` message bits layer 2 carries, and layer 2's flip costs (n,).

    The payload-limited sender's Gibbs distribution carrying ``bits`` (lambda and ``m2``
    searched on at most :data:`_SAMPLE` evenly spaced positions, scaled to all): ``m2`` is
    the entropy of its second-bit flips, kept within ``1 .. bits - 1`` (0 when
    ``bits < 2``); a position's layer-2 cost is ``ln((1 - p2) / p2)`` (float32; ``inf``
    where that change is not allowed).
    """
    n = values.size
    if bits < 2 or n == 0:
        return 0, np.zeros(n, np.float32)
    values = np.asarray(values)
    at = _sample(n)
    sample_plus = rho_plus[at].astype(np.float64)
    sample_minus = rho_minus[at].astype(np.float64)
    share = sample_plus.size / n
    lam = _lambda(sample_plus, sample_minus, bits * share)
    log_plus, log_minus, _ = _gibbs_logs(sample_plus, sample_minus, lam)
    log_p2 = np.where(values[at] & 1, log_plus, log_minus)
    m2 = _entropy_bits((log_p2, np.log1p(-np.minimum(np.exp(log_p2), 0.5)))) / share
    m2 = int(min(max(1, round(m2)), bits - 1, n))
    costs = np.empty(n, dtype=np.float32)
    for first in range(0, n, _CHUNK):  # in chunks: the temporaries stay small
        part = slice(first, first + _CHUNK)
        a = (-lam * rho_plus[part]).astype(np.float32)
        b = (-lam * rho_minus[part]).astype(np.float32)
        log_z = np.logaddexp(np.float32(0), np.logaddexp(a, b))
        log_p2 = np.where(values[part] & 1, a, b) - log_z
        with np.errstate(divide="ignore"):
            costs[part] = np.log1p(-np.minimum(np.exp(log_p2), np.float32(0.5))) - log_p2
    return m2, costs


def embed(values: np.ndarray, rho_plus: np.ndarray, rho_minus: np.ndarray,
          message: np.ndarray, m2: int, layer2_costs: np.ndarray, h2: int, h1: int
          ) -> np.ndarray | None:
    """The +-1 changes (n,) int8 in {-1, 0, 1} that make layer 2 carry ``message[:m2]``
    and layer 1 ``message[m2:]`` (see :func:`split` for ``m2`` and ``layer2_costs``;
    ``h2``, ``h1`` the codes' heights); None if a layer's code found no solution."""
    message = np.asarray(message, dtype=np.uint8)
    parity, second = layer_bits(values)
    flips_second = _second_bit_step(values)
    change = np.zeros(values.size, dtype=np.int8)
    if m2:
        solved = trellis.embed(second, layer2_costs, message[:m2], h2)
        if solved is None:
            return None
        forced = solved[0] != second
        change[forced] = flips_second[forced]
    else:
        forced = np.zeros(values.size, dtype=bool)
    m1 = message.size - m2
    if m1:
        keep_second = -flips_second
        rho1 = np.where(keep_second > 0, rho_plus, rho_minus).astype(np.float32)
        rho1[forced] = np.inf
        solved = trellis.embed(parity ^ forced.astype(np.uint8), rho1, message[m2:], h1)
        if solved is None:
            return None
        moved = solved[0] != (parity ^ forced.astype(np.uint8))
        change[moved] = keep_second[moved]
    return change


def read(values: np.ndarray, m2: int, m1: int, h2: int, h1: int) -> np.ndarray:
    """The message (m2 + m1,) uint8 that :func:`embed` put in ``values`` (n,)."""
    parity, second = layer_bits(values)
    parts = []
    if m2:
        parts.append(trellis.syndrome(second, m2, h2))
    if m1:
        parts.append(trellis.syndrome(parity, m1, h1))
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)

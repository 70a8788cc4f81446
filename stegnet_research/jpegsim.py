"""The JPEG detection study's peer embedders: conseal's J-UNIWARD, UERD and nsF5 simulators
on a :class:`~stegnet.jpegio.JpegCover`, and the J-UNIWARD distortion of a change.

Used by :mod:`stegnet_research.jpegstudy` (the peers of the jpeg channel),
:mod:`stegnet_research.jpegcoding` (optimal-coding simulations) and the benchmark (the
speed peer). Costs are conseal's, with J-UNIWARD in the paper's window alignment
(``JUNIWARD_FIX_OFF_BY_ONE``), as stegnet's own costs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conseal_rhos", "simulate", "juniward_distortion"]


def conseal_rhos(cover, method: str) -> tuple[np.ndarray, np.ndarray]:
    """conseal's (+1, -1) costs of every coefficient of ``cover``, flat in
    :meth:`~stegnet.jpegio.JpegCover.coefficients` order."""
    import conseal as cl

    from stegnet.costs_jpeg import decompress

    plus, minus = [], []
    for coefficients, qt in zip(cover.components, cover.quant_tables, strict=True):
        if method == "juniward":
            rp, rm = cl.juniward.compute_cost_adjusted(
                x0=decompress(coefficients, qt), y0=coefficients, qt=qt,
                implementation=cl.juniward.JUNIWARD_FIX_OFF_BY_ONE)
        else:
            rp, rm = cl.uerd.compute_cost_adjusted(y0=coefficients, qt=qt)
        plus.append(np.asarray(rp).reshape(-1))
        minus.append(np.asarray(rm).reshape(-1))
    return np.concatenate(plus), np.concatenate(minus)


def simulate(cover, method: str, bits: int, nzac: int, rhos: dict, seed: int):
    """A simulated stego (:class:`~stegnet.jpegio.JpegCover`) of ``method`` carrying
    ``bits`` bits (``juniward``/``uerd``: jointly over the components, ``rhos`` caches their
    costs; ``nsf5``: per component at the same bpnzAC)."""
    import conseal as cl

    flat = cover.coefficients().astype(np.int64)
    alpha = bits / nzac
    if method == "nsf5":
        parts = [cl.nsF5.simulate_single_channel(y0=c.astype(np.int64), alpha=alpha,
                                                 seed=(seed + i) % 2**32).reshape(-1)
                 for i, c in enumerate(cover.components)]
        return cover.with_coefficients(np.concatenate(parts))
    if method not in rhos:
        rhos[method] = conseal_rhos(cover, method)
    delta = cl.simulate.ternary(rhos=rhos[method], alpha=alpha, n=nzac, seed=seed % 2**32)
    return cover.with_coefficients(flat + np.asarray(delta, np.int64))


def juniward_distortion(cover, delta: np.ndarray, rhos: dict) -> float:
    """J-UNIWARD distortion (conseal's costs, as the ``juniward`` simulator uses them) of
    the coefficient changes ``delta`` (flat, :meth:`coefficients` order) of ``cover``."""
    if "juniward" not in rhos:
        rhos["juniward"] = conseal_rhos(cover, "juniward")
    plus, minus = rhos["juniward"]
    return float(plus[delta > 0].sum() + minus[delta < 0].sum())

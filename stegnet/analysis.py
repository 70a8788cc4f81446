"""Classic steganalysis: how detectable is a stego image? (``stegnet analyze``)

Three detectors of LSB-style embedding, each applied per colour channel of an
8-bit image (H x W x 3 uint8) and averaged:

* :func:`chi_square` -- Westfeld & Pfitzmann's chi-square attack. LSB replacement
  equalises the counts of each pair of values (2k, 2k+1); the statistic compares
  the histogram with that equalised one. Returns the probability of embedding
  ``p = Q(dof/2, chi2/2)`` (near 1: pairs are suspiciously equal). It only sees
  embedding that equalises the pairs of the samples tested: a full LSB replacement,
  or the part of the image a sequential embedder wrote. :func:`chi_square_sequential`
  is Westfeld's scan for the latter: the test on growing prefixes of the samples in
  raster order (R, G, B of each pixel in turn), returning the fraction of prefixes
  judged embedded, an estimate of how much of the image was written. Neither can see
  a partial embedding at random positions (pairs only partly equalised): that is what
  RS and SPA are for.
* :func:`rs_analysis` -- Fridrich, Goljan & Du's RS steganalysis. Estimates the
  embedded message length (fraction of samples carrying a message bit) from how
  flipping LSBs changes the smoothness of pixel groups.
* :func:`sample_pairs` -- Dumitrescu, Wu & Wang's Sample Pair Analysis: estimates the
  same rate from the statistics of horizontally adjacent pairs.

:func:`lsb_replace` is the reference embedder the detectors must catch.

Learned detectors (:func:`learned`): the CNN steganalysers shipped in
``weights/detectors/xunet-<method>.safetensors`` (:mod:`stegnet.models.detector`,
trained by :mod:`stegnet_research.train.detector` on our own cover / stego pairs), one per
embedding method; each gives the probability that the image is a stego of that method.
"""

from __future__ import annotations

import numpy as np


def lsb_replace(image: np.ndarray, rate: float, seed: int = 0,
                sequential: bool = False) -> np.ndarray:
    """Replace the least significant bit of a ``rate`` fraction of samples.

    ``rate`` = 1 is 3 bit/pixel on RGB; the bits are random (an encrypted message).
    The samples are chosen at random, or with ``sequential`` the first ones in raster
    order (R, G, B of each pixel), as naive LSB tools do.
    """
    rng = np.random.default_rng(seed)
    flat = image.reshape(-1).copy()
    if sequential:
        chosen = np.arange(flat.size) < round(rate * flat.size)
    else:
        chosen = rng.random(flat.size) < rate
    bits = rng.integers(0, 2, int(chosen.sum()), dtype=np.uint8)
    flat[chosen] = (flat[chosen] & 0xFE) | bits
    return flat.reshape(image.shape)


def _channels(image: np.ndarray) -> list[np.ndarray]:
    return [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]


def _pair_probability(samples: np.ndarray) -> float:
    """Chi-square probability that the pairs (2k, 2k+1) of these uint8 samples are equalised."""
    import torch

    histogram = np.bincount(samples, minlength=256).astype(np.float64)
    even, odd = histogram[0::2], histogram[1::2]
    expected = (even + odd) / 2
    used = expected > 4  # categories with too few samples make chi-square unreliable
    dof = int(used.sum()) - 1
    if dof < 1:
        return 0.0
    chi2 = float((((even - expected) ** 2)[used] / expected[used]).sum())
    q = torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64),
                                torch.tensor(chi2 / 2, dtype=torch.float64))
    return float(q)


def chi_square(image: np.ndarray) -> float:
    """Probability that LSB replacement was used over the whole image (mean over channels)."""
    return float(np.mean([_pair_probability(c.reshape(-1)) for c in _channels(image)]))


def chi_square_sequential(image: np.ndarray, steps: int = 20) -> float:
    """Fraction of the image a sequential LSB embedder wrote, by Westfeld's prefix scan.

    The pair test runs on the first 1/steps, 2/steps, ... of the samples in raster
    order (all channels interleaved); the result is the fraction of those prefixes whose
    probability of embedding exceeds 0.5 (0 for a clean photo, 1 if all was written).
    """
    flat = image.reshape(-1)
    prefixes = [flat[: max(1, round(flat.size * k / steps))] for k in range(1, steps + 1)]
    return float(np.mean([_pair_probability(p) > 0.5 for p in prefixes]))


def _smoothness(groups: np.ndarray) -> np.ndarray:
    """Discrimination function f: sum of |differences| inside each group (rows of 4)."""
    return np.abs(np.diff(groups.astype(np.int32), axis=1)).sum(axis=1)


def _flip(groups: np.ndarray, mask: np.ndarray, negative: bool) -> np.ndarray:
    """Apply F1 (0<->1, 2<->3, ...) or F-1 (-1<->0, 1<->2, ...) where mask is 1."""
    values = groups.astype(np.int32)
    if negative:
        flipped = ((values + 1) ^ 1) - 1
    else:
        flipped = values ^ 1
    return np.where(mask.astype(bool), flipped, values)


def _rs_counts(groups: np.ndarray) -> tuple[float, float, float, float]:
    mask = np.array([0, 1, 1, 0])
    base = _smoothness(groups)
    positive = _smoothness(_flip(groups, mask, negative=False))
    negative = _smoothness(_flip(groups, mask, negative=True))
    count = len(groups)
    return (float((positive > base).sum()) / count, float((positive < base).sum()) / count,
            float((negative > base).sum()) / count, float((negative < base).sum()) / count)


def rs_analysis(image: np.ndarray) -> float:
    """Estimated fraction of samples carrying LSB-replaced message bits (mean over channels)."""
    estimates = []
    for channel in _channels(image):
        width = channel.shape[1] // 4 * 4
        groups = channel[:, :width].reshape(-1, 4)
        r_m, s_m, r_neg, s_neg = _rs_counts(groups)
        r_m1, s_m1, r_neg1, s_neg1 = _rs_counts(groups ^ 1)  # all LSBs flipped
        d0, d1 = r_m - s_m, r_m1 - s_m1
        e0, e1 = r_neg - s_neg, r_neg1 - s_neg1
        a, b, c = 2 * (d1 + d0), e0 - e1 - d1 - 3 * d0, d0 - e0
        if abs(a) < 1e-12:
            estimate = 0.0 if abs(b) < 1e-12 else -c / b
        else:
            disc = max(b * b - 4 * a * c, 0.0)
            roots = [(-b + s * np.sqrt(disc)) / (2 * a) for s in (1, -1)]
            z = min(roots, key=abs)
            estimate = z / (z - 0.5)
        estimates.append(float(np.clip(estimate, 0.0, 1.0)))
    return float(np.mean(estimates))


def sample_pairs(image: np.ndarray) -> float:
    """Sample Pair Analysis estimate of the LSB-replacement rate (mean over channels).

    For horizontally adjacent samples (u, v) with P pairs in all::

        X: (v even and u < v) or (v odd and u > v)
        Y: (v even and u > v) or (v odd and u < v)
        Z: u == v
        W: pairs in Y that differ only in the LSB (u >> 1 == v >> 1)

    and the rate is the smaller root of ``(W + Z)/2 p^2 + (2X - P) p + (Y - X) = 0``.
    """
    estimates = []
    for channel in _channels(image):
        u = channel[:, :-1].reshape(-1).astype(np.int32)
        v = channel[:, 1:].reshape(-1).astype(np.int32)
        v_even = v % 2 == 0
        x_count = int(((v_even & (u < v)) | (~v_even & (u > v))).sum())
        y_count = int(((v_even & (u > v)) | (~v_even & (u < v))).sum())
        z_count = int((u == v).sum())
        w_count = int((((u >> 1) == (v >> 1)) & (u != v)).sum())
        a = 0.5 * (w_count + z_count)
        b = 2 * x_count - u.size
        c = y_count - x_count
        if abs(a) < 1e-12:
            estimate = 0.0 if b == 0 else -c / b
        else:
            disc = max(b * b - 4 * a * c, 0.0)
            estimate = min(((-b + sign * np.sqrt(disc)) / (2 * a) for sign in (1, -1)), key=abs)
        estimates.append(float(np.clip(estimate, 0.0, 1.0)))
    return float(np.mean(estimates))


def analyze(image: np.ndarray) -> dict[str, float]:
    """All classic detectors on one image: chi-square probability, the sequential scan's
    written fraction, and the RS and SPA rate estimates."""
    return {"chi_square_p": chi_square(image), "chi_square_seq": chi_square_sequential(image),
            "rs_rate": rs_analysis(image), "spa_rate": sample_pairs(image)}


LEGACY_METHODS = {"bits-full": "flow-full", "bits-half": "flow-half"}
"""Detector methods named before the byte channels had one name (the colour flow's)."""


def detector_method(name: str) -> str:
    """The method a shipped ``xunet-<method>`` detector was trained on, in the channel
    vocabulary: ``flow-full`` (the flow channel, full re-synthesis), ``hide``, ``lsb-*``
    (LSB replacement, the classic reference)."""
    method = name.removeprefix("xunet-")
    return LEGACY_METHODS.get(method, method)


def channels_without_detector() -> list[str]:
    """The byte channels (registry order) that no shipped CNN detector was trained on: a
    low score from :func:`learned` says nothing about them."""
    from stegnet.channels import ORDER
    from stegnet.zoo import list_models

    seen = {detector_method(info.name).split("-")[0] for info in list_models("detect")}
    return [name for name in ORDER if name not in seen]


def _learned_models() -> tuple:
    """(method, module) of every shipped ``xunet-*`` detector of the zoo."""
    from stegnet.zoo import list_models, load

    return tuple((detector_method(info.name), load("detect", info.name).module)
                 for info in list_models("detect") if info.name.startswith("xunet-"))


def learned(image: np.ndarray) -> dict[str, float]:
    """``{"cnn_<method>": probability of stego}`` from each shipped CNN detector.

    ``image``: H x W x 3 uint8 (H, W >= 32). Empty if no detector is shipped.
    """
    import torch

    batch = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        return {f"cnn_{method}": float(torch.sigmoid(model(batch))[0])
                for method, model in _learned_models()}

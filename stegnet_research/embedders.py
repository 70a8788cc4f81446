"""Reference embedders that steganalysis studies compare ``embed-bits`` with.

Payloads are given as a *rate* in bits per pixel (an H x W x 3 image of ``rate`` carries
``rate * H * W`` message bits, whatever the number of colours), the unit of the
steganalysis literature (bpp; per colour sample it is a third of that).

* :func:`lsb_match` -- LSB matching (+-1 embedding): ``rate * H * W`` samples are chosen
  at random among the ``3 H W``; where a sample's least significant bit differs from its
  message bit, it is moved by +1 or -1 at random (+1 at 0, -1 at 255: never clipped).
  On average half of the chosen samples change. Unlike LSB replacement
  (:func:`stegnet.analysis.lsb_replace`) it leaves no pairs-of-values asymmetry, so RS
  and SPA, built for replacement, are not expected to see it.
* :func:`adaptive` -- content-adaptive embedding with the costs of HILL (Li et al.,
  ICIP 2014) or S-UNIWARD (Holub et al., 2014), simulated at the payload-limited
  sender's optimum (the change probabilities whose ternary entropy is the payload, as
  syndrome-trellis codes nearly reach), with the ``conseal`` package (``pip install
  stegnet[research]``). Colour: each channel gets a third of the bits and is embedded on
  its own costs; changes are +-1 and never leave 0..255 (wet costs at the bounds).
"""

from __future__ import annotations

import numpy as np

ADAPTIVE = ("hill", "suniward")


def message_bits(height: int, width: int, rate: float) -> int:
    """Number of message bits at ``rate`` bit/pixel in an ``height x width`` image."""
    return int(round(rate * height * width))


def lsb_match_plan(shape: tuple[int, ...], rate: float, seed: int) -> tuple[np.ndarray,
                                                                            np.ndarray,
                                                                            np.ndarray]:
    """-> (flat sample positions, message bits, signs +-1) that :func:`lsb_match` uses."""
    rng = np.random.default_rng(seed)
    samples = int(np.prod(shape))
    count = message_bits(shape[0], shape[1], rate)
    if count > samples:
        raise ValueError(f"rate {rate} bit/pixel needs {count} samples, the image has "
                         f"{samples}")
    positions = rng.choice(samples, count, replace=False)
    bits = rng.integers(0, 2, count, dtype=np.uint8)
    signs = rng.choice(np.array([-1, 1], dtype=np.int16), count)
    return positions, bits, signs


def lsb_match(image: np.ndarray, rate: float, seed: int = 0) -> np.ndarray:
    """LSB matching of ``rate`` bit/pixel of random bits at random positions (see module)."""
    positions, bits, signs = lsb_match_plan(image.shape, rate, seed)
    flat = image.reshape(-1).astype(np.int16)
    values = flat[positions]
    change = (values & 1) != bits
    step = np.where(values == 0, 1, np.where(values == 255, -1, signs))
    flat[positions] = values + np.where(change, step, 0)
    return flat.astype(np.uint8).reshape(image.shape)


def _cost_module(method: str):
    import conseal

    if method not in ADAPTIVE:
        raise ValueError(f"unknown adaptive method {method!r}; one of {ADAPTIVE}")
    return getattr(conseal, method)


def adaptive_costs(image: np.ndarray, method: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per colour channel, the (cost of +1, cost of -1) maps of ``method``.

    They do not depend on the payload: compute once, then :func:`adaptive` at every rate.
    """
    module = _cost_module(method)
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    return [tuple(module.compute_cost_adjusted(x0=np.ascontiguousarray(p))) for p in planes]


def adaptive(image: np.ndarray, rate: float, method: str, seed: int = 0,
             costs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Simulated HILL / S-UNIWARD embedding of ``rate`` bit/pixel (see module).

    ``costs``: :func:`adaptive_costs` of ``image`` if already known.
    """
    from conseal.simulate import ternary

    costs = costs if costs is not None else adaptive_costs(image, method)
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    alpha = rate / channels  # bits per sample of each channel: a third of them each on RGB
    stego = image.astype(np.int16)
    planes = [stego] if image.ndim == 2 else [stego[..., c] for c in range(channels)]
    for index, (plane, rhos) in enumerate(zip(planes, costs, strict=True)):
        if alpha <= 0:
            break
        delta = ternary(rhos=rhos, alpha=alpha, n=height * width,
                        seed=seed * 7 + index).astype(np.int16)
        plane += delta
    if stego.min() < 0 or stego.max() > 255:  # wet costs forbid it; never wrap around
        raise RuntimeError(f"{method}: a change left 0..255")
    return stego.astype(np.uint8)

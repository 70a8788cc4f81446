"""The user API: what the ``stegnet`` commands do, callable from Python.

* images: :func:`hide` / :func:`reveal` (the hiding network), :func:`compare`,
  :func:`analyze`;
* bytes: :func:`embed` / :func:`extract` / :func:`capacity` on a channel named as in
  :mod:`stegnet.channels` (re-exported from :mod:`stegnet.channels.dispatch`).

Images are ``H x W x 3`` uint8 numpy arrays (or paths, read with
:func:`stegnet.imageio.load_rgb`); results are 8-bit images to be written losslessly
(:func:`stegnet.imageio.save_png`), or a JPEG for the ``jpeg`` channel
(:func:`stegnet.jpegio.write_jpeg`). The key, the model and the device are resolved once
and passed down as bytes and a :class:`~stegnet.zoo.LoadedModel`:

* ``key``: text, bytes or None (:mod:`stegnet.keys`);
* ``model``: a shipped model's name, a ``.safetensors`` path, an already loaded
  :class:`~stegnet.zoo.LoadedModel`, or None for the task's default;
* ``device``: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

Example::

    from stegnet import api
    stego = api.hide("cover.png", "secret.png", key="pass phrase")
    report = api.embed("cover.png", b"meet at noon", key="k")  # the pixel channel
    assert api.extract(report.stego, key="k") == b"meet at noon"

Errors are :class:`stegnet.errors.StegnetError` subclasses with a one-line message
(wrong key, no payload, payload too large, bad input); nothing returns garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from stegnet.channels.dispatch import (  # noqa: F401  (the byte API, re-exported)
    Capacity,
    Embedded,
    Extracted,
    byte_channel_holding,
    capacity,
    changed_share,
    choose,
    embed,
    extract,
    extract_found,
    too_small_message,
)
from stegnet.errors import NoHiddenImage, UsageError
from stegnet.keys import KeyLike, as_key
from stegnet.loading import (  # noqa: F401  (re-exported)
    ImageLike,
    Progress,
    check_model_name,
    load_image,
    load_model,
)

if TYPE_CHECKING:
    from stegnet.hiding import Detection

# ---------------------------------------------------------------- image in image
def hide(cover: ImageLike, secret: ImageLike, *, key: KeyLike = None, model: Any = None,
         device: str = "auto", progress: Progress = None, precision: str = "auto",
         ) -> np.ndarray:
    """Hide ``secret`` (fitted to the cover, aspect kept) in ``cover``; -> 8-bit stego of
    the cover's size. With a key only :func:`reveal` with the same key gives it back.
    ``precision``: ``auto``, ``float32`` or ``bfloat16``, the network's working precision
    (:func:`stegnet.device.resolve_precision`)."""
    from stegnet import hiding

    cover_img = load_image(cover, hiding.MIN_COVER_SIDE, "cover")
    secret_img = load_image(secret, 1, "secret")
    net = load_model("hide", model, device)
    return hiding.hide(cover_img, secret_img, net, progress=progress, key=as_key(key),
                       precision=precision)


@dataclass
class Revealed:
    """What :func:`reveal` recovered, and the check that found it (None if skipped)."""

    image: np.ndarray
    detection: Detection | None = None


def reveal(stego: ImageLike, *, key: KeyLike = None, model: Any = None, device: str = "auto",
           check: bool = True, progress: Progress = None, label: str = "",
           precision: str = "auto") -> Revealed:
    """Recover the image hidden by :func:`hide` (``precision`` as there).

    With ``check`` (default) it first tests that ``stego`` carries a hidden image
    (:func:`stegnet.hiding.detect`) and raises :class:`NoHiddenImage` if not.
    """
    from stegnet import hiding

    stego_img = load_image(stego, hiding.MIN_COVER_SIDE, "stego image")
    net = load_model("hide", model, device)
    found = None
    if check:
        found = hiding.detect(stego_img, load_model("flow", None, net.device))
        if not found.detected:
            holder = byte_channel_holding(stego_img, net.device)
            if holder is not None:
                looks = (f"an embed-bits --channel {holder} stego: try `stegnet "
                         f"extract-bits`")
            elif found.cnn_logit > 0:
                looks = "an embed-bits stego: try `stegnet extract-bits`"
            else:
                looks = "a clean photo"
            prefix = f"{label}: " if label else ""
            raise NoHiddenImage(f"{prefix}no hidden image found (it looks like {looks}; "
                                f"--anyway reveals regardless)")
    image = hiding.reveal(stego_img, net, progress=progress, key=as_key(key),
                          precision=precision)
    return Revealed(image, found)


# ---------------------------------------------------------------- steganalysis
def analyze(image: ImageLike, *, learned: bool = True) -> dict[str, float]:
    """Classic detectors (chi-square, RS, SPA) and, with ``learned``, the shipped CNN
    steganalysers (``cnn_<method>``: probability of a stego of that method; skipped for
    images under 32x32)."""
    from stegnet import analysis

    img = load_image(image, 1, "image")
    stats = analysis.analyze(img)
    if learned and min(img.shape[:2]) >= 32:
        from stegnet.device import apply_threads

        apply_threads()
        stats.update(analysis.learned(img))
    return stats


def compare(reference: ImageLike, test: ImageLike) -> dict[str, float]:
    """PSNR (dB), SSIM and CIEDE2000 (mean, max) between two images of the same size."""
    from stegnet.color import delta_e00_rgb
    from stegnet.metrics import psnr, ssim

    first, second = load_image(reference, 1, "reference"), load_image(test, 1, "test image")
    if first.shape != second.shape:
        raise UsageError(f"{test}: size {second.shape[1]}x{second.shape[0]} differs from "
                         f"{reference} ({first.shape[1]}x{first.shape[0]})")
    delta_e = delta_e00_rgb(first, second)
    return {"psnr": round(psnr(first, second), 3), "ssim": round(ssim(first, second), 5),
            "delta_e00_mean": round(float(delta_e.mean()), 4),
            "delta_e00_max": round(float(delta_e.max()), 4)}

"""Evaluation of both methods on folders of photos, after a real 8-bit PNG round trip.

Every stego image is encoded as PNG and decoded again before anything is measured or
extracted, exactly as a user's saved file would be.

Results are plain dicts ready for JSON: ``per_image`` rows and an ``aggregate`` with mean /
min / max / percentiles (:func:`stegnet.metrics.summary`).

Every study (:func:`eval_hide`, :func:`eval_robustness`, and the byte channels' round trips
and rate-distortion in :mod:`stegnet_research.channel_studies`) takes ``model`` (a shipped
model's name or a ``.safetensors`` weight file; None: the task's default) and ``device``
(``"cpu"`` or ``"cuda"``, resolved by the caller) as keyword arguments and loads the model
once, with :func:`stegnet.zoo.load`. The detectability study is
:func:`stegnet_research.steganalysis.eval_steganalysis` (re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stegnet.imageio import decode_png_roundtrip, load_rgb
from stegnet_research.data import center_square, list_photos, load_photo, split_photos
from stegnet_research.detection_stats import (  # noqa: F401 - re-exported for callers
    accuracy_at,
    best_threshold,
    detection_scores,
    wilson_interval,
)
from stegnet_research.steganalysis import eval_steganalysis  # noqa: F401 - re-exported

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel

ODD_SIZE = (511, 383)  # width, height of the odd-sized test case


@dataclass
class Sample:
    """One evaluation image: a name and an HxWx3 uint8 array."""

    name: str
    image: np.ndarray


def held_out_samples(data_dir: str | Path, size: int, odd: bool = True,
                     split: str = "every10") -> list[Sample]:
    """Held-out photos, centre-cropped to size x size.

    ``split``: ``"every10"`` (every 10th photo by name: the split the shipped models were
    trained with) or ``"package"`` (whole source packages held out by rule, see
    :func:`stegnet_research.data.split_by_package`) or ``"both"`` (held out by both rules).
    With ``odd`` two extra samples are added:
    the first two held-out photos cropped to :data:`ODD_SIZE` (odd width and height).
    """
    from stegnet_research.data import split_by_package

    if split == "package":
        _, held_out = split_by_package(data_dir)
    elif split == "both":  # held out by both rules: photos no shipped model was trained on
        every10 = set(split_photos(data_dir)[1])
        held_out = [p for p in split_by_package(data_dir)[1] if p in every10]
    else:
        _, held_out = split_photos(data_dir)
    samples = [Sample(p.stem, center_square(load_photo(p, size), size)) for p in held_out]
    if odd:
        width, height = ODD_SIZE
        for path in held_out[:2]:
            square = center_square(load_photo(path, max(width, height)), max(width, height))
            top, left = (square.shape[0] - height) // 2, (square.shape[1] - width) // 2
            crop = square[top : top + height, left : left + width]
            samples.append(Sample(f"{path.stem}_{width}x{height}", np.ascontiguousarray(crop)))
    return samples


def folder_samples(folder: str | Path) -> list[Sample]:
    """Every image of a folder, as it is."""
    return [Sample(p.stem, load_rgb(p)) for p in list_photos(folder)]


def load_model_once(task: str, model: str | None, device: str) -> LoadedModel:
    """The model of ``task`` named ``model`` (None: the default) on ``device``: each study
    calls this once per task, before its loop."""
    from stegnet.zoo import load

    return load(task, model, device)


def with_summary(rows: list[dict], keys: list[str]) -> dict:
    from stegnet.metrics import summary

    return {key: summary([row[key] for row in rows if key in row]) for key in keys}


def eval_hide(
    covers: list[Sample],
    secrets: list[Sample] | None = None,
    *,
    model: str | None = None,
    device: str = "cpu",
    latent: str = "zeros",
    progress: Callable[[int, int], None] | None = None,
    precision: str = "auto",
    key: bytes | None = None,
) -> dict:
    """Hide secret i (default: cover i+1, cyclically) in cover i; measure after PNG.

    ``model``: the hiding network (name or weight file; None: the default) on ``device``,
    run at ``precision`` (:func:`stegnet.device.resolve_precision`); with ``key`` both
    hide and reveal are keyed.

    Returns ``{"per_image": [...], "aggregate": {...}}`` with PSNR / SSIM of
    cover vs stego and of the fitted secret vs the recovered one, and timings.
    """
    from stegnet import hiding
    from stegnet.color import delta_e00_rgb
    from stegnet.device import resolve_precision
    from stegnet.metrics import psnr, ssim

    net = load_model_once("hide", model, device)
    precision = resolve_precision(precision, net.device)
    if secrets is None:
        secrets = covers[1:] + covers[:1]
    rows = []
    for index, cover in enumerate(covers):
        secret = secrets[index % len(secrets)]
        height, width = cover.image.shape[:2]
        started = time.perf_counter()
        stego = hiding.hide(cover.image, secret.image, net, precision=precision, key=key)
        hide_seconds = time.perf_counter() - started
        stego = decode_png_roundtrip(stego)
        started = time.perf_counter()
        revealed = hiding.reveal(stego, net, latent=latent, precision=precision, key=key)
        reveal_seconds = time.perf_counter() - started
        fitted = hiding.fit_secret(secret.image, height, width)
        delta_e = delta_e00_rgb(cover.image, stego)
        rows.append({
            "cover": cover.name,
            "secret": secret.name,
            "width": width,
            "height": height,
            "stego_psnr": psnr(cover.image, stego),
            "stego_ssim": ssim(cover.image, stego),
            "stego_delta_e00_mean": float(delta_e.mean()),
            "secret_psnr": psnr(fitted, revealed),
            "secret_ssim": ssim(fitted, revealed),
            "hide_seconds": hide_seconds,
            "reveal_seconds": reveal_seconds,
        })
        if progress is not None:
            progress(index + 1, len(covers))
    keys = ["stego_psnr", "stego_ssim", "stego_delta_e00_mean", "secret_psnr", "secret_ssim",
            "hide_seconds", "reveal_seconds"]
    return {"method": "hide", "latent": latent, "precision": precision, "keyed": key is not None,
            "per_image": rows,
            "aggregate": with_summary(rows, keys)}


def robustness_models(model: str | None, device: str) -> tuple[LoadedModel, LoadedModel]:
    """(hiding network, colour flow) of the robustness study, each loaded once.

    ``model`` (a name or a weight file) replaces the default of the task it serves (a
    ``hide`` or a ``bits`` model); the other task keeps its default. UnknownModel if it is
    neither.
    """
    from stegnet.errors import ModelError, UnknownModel

    if model is None:
        return load_model_once("hide", None, device), load_model_once("flow", None, device)
    reasons = []
    for task, other in (("hide", "flow"), ("flow", "hide")):
        try:
            loaded = load_model_once(task, model, device)
        except ModelError as exc:  # UnknownModel included: not a model of this task
            reasons.append(str(exc))
            continue
        default = load_model_once(other, None, device)
        return (loaded, default) if task == "hide" else (default, loaded)
    raise UnknownModel(f"{model}: neither a hide nor a flow model ({'; '.join(reasons)})")


def eval_robustness(covers: list[Sample], progress: Callable[[int, int], None] | None = None,
                    *, model: str | None = None, device: str = "cpu") -> dict:
    """What survives: recovered-secret PSNR (hide) and raw BER / success (bits) after each
    distortion of the saved stego image.

    ``model``: a hide or a bits model (name or weight file) replacing that task's default
    (:func:`robustness_models`); both models run on ``device``.
    """
    from stegnet import hiding
    from stegnet.channels.flow import embed as bits  # the colour flow, as the rows say
    from stegnet.errors import PayloadError
    from stegnet.metrics import psnr

    net, flow = robustness_models(model, device)
    from stegnet_research.distortions import robustness_study

    distortions = robustness_study()
    rows = []
    flow_nsym = bits.ecc_nsym(flow)
    for index, cover in enumerate(covers):
        image = cover.image
        height, width = image.shape[:2]
        even = (slice(0, height // 2 * 2), slice(0, width // 2 * 2))
        secret = covers[(index + 1) % len(covers)].image
        stego = hiding.hide(image, secret, net)
        cap = bits.capacity(height, width, False, flow_nsym)
        payload = np.random.default_rng(index).integers(0, 256, cap // 2, dtype=np.uint8)
        payload_bytes = payload.tobytes()
        bits_stego = bits.embed(image, payload_bytes, model=flow, mode="auto").stego
        clean_latent = bits.analyse(flow, np.ascontiguousarray(bits_stego[even]))
        for name, distort in distortions.items():
            revealed = hiding.reveal(distort(stego), net)
            damaged = distort(bits_stego)
            latent = bits.analyse(flow, np.ascontiguousarray(damaged[even]))
            ber = float(np.mean(np.sign(latent) != np.sign(clean_latent)))
            try:
                ok = bits.extract(damaged, model=flow) == payload_bytes
            except PayloadError:
                ok = False
            rows.append({"image": cover.name, "distortion": name,
                         "secret_psnr": psnr(secret, revealed) if secret.shape == image.shape
                         else None, "bits_raw_ber": ber, "bits_ok": ok})
        if progress is not None:
            progress(index + 1, len(covers))
    table = {}
    for name in distortions:
        subset = [r for r in rows if r["distortion"] == name]
        table[name] = {
            "secret_psnr_mean": float(np.mean([r["secret_psnr"] for r in subset
                                               if r["secret_psnr"] is not None])),
            "bits_raw_ber_mean": float(np.mean([r["bits_raw_ber"] for r in subset])),
            "bits_success": f"{sum(r['bits_ok'] for r in subset)}/{len(subset)}",
        }
    return {"method": "robustness", "images": len(covers), "table": table, "per_image": rows}

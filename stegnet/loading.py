"""Resolving what the user API is given: images (arrays or paths) and models (names,
weight files or loaded models) on a device. Used by :mod:`stegnet.api` and
:mod:`stegnet.channels.dispatch`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from stegnet.zoo import LoadedModel

ImageLike = np.ndarray | str | os.PathLike
Progress = Callable[[int, int], None] | None


def load_model(task: str, model: Any = None, device: str = "auto") -> LoadedModel:
    """Resolve ``model`` (name, path, LoadedModel or None) and ``device`` for ``task``."""
    from stegnet.device import resolve_device
    from stegnet.zoo import LoadedModel, get_model_info, load

    if isinstance(model, LoadedModel):
        return model
    get_model_info(task, model)  # a bad name is a usage error before torch is touched
    return load(task, model, resolve_device(device))


def load_image(image: ImageLike, min_side: int, label: str) -> np.ndarray:
    """``image`` as an (H, W, 3) uint8 array (a path is read; InputError if a side is under
    ``min_side``)."""
    from stegnet.imageio import load_rgb, require_min_side

    if isinstance(image, np.ndarray):
        require_min_side(image, min_side, label)
        return image
    return load_rgb(image, min_side=min_side)


def check_model_name(model: Any) -> None:
    """UnknownModel for a model name that no task ships (or a missing weight file); a
    loaded model or a known name passes."""
    from stegnet.zoo import LoadedModel, get_model_info, list_models

    if isinstance(model, LoadedModel):
        return
    if str(model).endswith(".safetensors") or model not in {m.name for m in list_models()}:
        get_model_info("flow", str(model))  # raises, listing the flow models

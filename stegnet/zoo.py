"""The model zoo: shipped weights, their cards, and loading them as one object.

Every shipped model is two files in the weights folder (detectors in ``detectors/``):

* ``<name>.safetensors`` -- the tensors, with metadata ``{"arch": ..., "config": json}``;
  ``arch`` is a name registered with :func:`stegnet.models.registry.register_model`;
* ``<name>.json`` -- its card: task (:data:`TASKS`), architecture,
  training data and steps, and the metrics measured by ``stegnet eval`` (the same numbers
  as ``results/``). A human-readable ``<name>.md`` card is generated from it.

:func:`load` returns a :class:`LoadedModel`: the module (eval mode, on its device) and its
card together, so everything that depends on the model (e.g. the error-correction
strength of a ``flow`` model) is read from the one object that was loaded.

The weights folder is found in this order: ``$STEGNET_WEIGHTS``, the ``weights/`` folder
beside the package (a source checkout or an editable install), ``<sys.prefix>/share/
stegnet/weights`` (where a wheel installs them). Nothing is ever downloaded. Listing
models does not import torch.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stegnet.errors import ModelError, UnknownModel

if TYPE_CHECKING:  # torch is imported lazily: listing models must not pay for it
    import torch

TASKS = ("hide", "flow", "robust", "detect")
"""What a model is for: ``hide`` (image in image), a byte channel's network named after
the channel (``flow``, ``robust``; :mod:`stegnet.channels`), ``detect`` (steganalysers)."""
TASK_COMMANDS = {"hide": "hide / reveal", "flow": "embed-bits --channel flow",
                 "robust": "embed-bits --channel robust",
                 "detect": "analyze / reveal's check"}
LEGACY_TASKS = {"bits": "flow"}  # cards written before the channels had one name


def weights_dir() -> Path:
    """The folder holding the shipped weights and cards."""
    env = os.environ.get("STEGNET_WEIGHTS")
    candidates = [Path(env)] if env else []
    candidates += [
        Path(__file__).resolve().parent.parent / "weights",
        Path(sys.prefix) / "share" / "stegnet" / "weights",
    ]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.safetensors")):
            return folder
    return candidates[0]


@dataclass(frozen=True)
class ModelInfo:
    """One zoo entry: the card's content plus the weight file path."""

    name: str
    task: str
    card: dict
    path: Path

    @property
    def metrics(self) -> dict:
        return self.card.get("metrics", {})


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A loaded model: ``module`` (eval mode, on ``device``) with its card (``info``)."""

    info: ModelInfo
    module: Any  # torch.nn.Module
    device: str

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def card(self) -> dict:
        return self.info.card


def _entries(folder: Path) -> list[ModelInfo]:
    models = []
    for card_path in sorted(folder.glob("*.json")):
        card = json.loads(card_path.read_text())
        weights = folder / f"{card_path.stem}.safetensors"
        task = LEGACY_TASKS.get(card.get("task"), card.get("task"))
        if task in TASKS and weights.exists():
            models.append(ModelInfo(card_path.stem, task, card, weights))
    return models


def list_models(task: str | None = None) -> list[ModelInfo]:
    """Shipped models (optionally only one task), each task's default model first."""
    folder = weights_dir()
    models = _entries(folder) + _entries(folder / "detectors")
    models = [m for m in models if task is None or m.task == task]
    return sorted(models, key=lambda m: (TASKS.index(m.task), not m.card.get("default", False),
                                         m.name))


def get_model_info(task: str, name: str | None = None) -> ModelInfo:
    """The named model, or the task's default.

    ``name`` may also be a path to a ``.safetensors`` file written by the training
    code (e.g. ``runs/hide/best.safetensors``), for evaluating a run before publishing.
    Raises :class:`UnknownModel` (a usage error, exit code 2) for a name that is neither
    a shipped model of ``task`` nor an existing weight file; the message lists the
    available names. :class:`ModelError` (exit code 1) if no model is shipped at all.
    """
    task = LEGACY_TASKS.get(task, task)
    if name is not None and name.endswith(".safetensors"):
        path = Path(name)
        if not path.is_file():
            raise UnknownModel(f"--model {name}: no such weight file")
        card_path = path.with_suffix(".json")
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        return ModelInfo(path.stem, task, card, path)
    models = list_models(task)
    if not models:
        raise ModelError(f"no shipped '{task}' model found in {weights_dir()}")
    if name is None:
        return models[0]
    for info in models:
        if info.name == name:
            return info
    known = ", ".join(m.name for m in models)
    other = [m for m in list_models() if m.name == name]
    hint = (f"; {name} is a model for {TASK_COMMANDS.get(other[0].task, other[0].task)}"
            if other else "")
    raise UnknownModel(f"unknown {task} model '{name}' (available: {known}{hint}; "
                       f"see `stegnet models`)")


def save_weights(module: torch.nn.Module, path: str | Path, arch: str, config: dict) -> None:
    """Write a module's state dict as safetensors with architecture metadata."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    metadata = {"arch": arch, "config": json.dumps(config)}
    save_file(tensors, str(path), metadata=metadata)


def read_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], str, dict]:
    """-> (state_dict, arch, config) from a safetensors file written by :func:`save_weights`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - any parse failure is a model error
        raise ModelError(f"{path}: cannot read weights ({exc})") from None
    if "arch" not in metadata or "config" not in metadata:
        raise ModelError(f"{path}: weight file lacks stegnet metadata")
    return {k: v.float() for k, v in tensors.items()}, metadata["arch"], json.loads(
        metadata["config"]
    )


def build_model(arch: str, config: dict) -> torch.nn.Module:
    """Instantiate a registered architecture (:mod:`stegnet.models.registry`)."""
    from stegnet.models import registry

    try:
        return registry.build(arch, config)
    except KeyError:
        raise ModelError(f"unknown architecture '{arch}'") from None
    except TypeError as error:  # a config key the architecture does not have (any more)
        raise ModelError(f"a '{arch}' model with an unusable config ({error})") from None


def architecture_task(arch: str) -> str | None:
    """The task a registered architecture serves (:data:`TASKS`)."""
    from stegnet.models import registry

    entry = registry.architecture(arch)
    return entry.task if entry is not None else None


def load_weights(path: str | Path, task: str | None = None) -> torch.nn.Module:
    """Build and load any weight file in eval mode on the CPU (ModelError if its
    architecture is unknown or serves another ``task``)."""
    state, arch, config = read_weights(path)
    if task is not None and architecture_task(arch) != task:
        raise ModelError(f"{path}: a '{arch}' model cannot be used for {task}")
    module = build_model(arch, config)
    module.load_state_dict(state)
    return module.eval()


@lru_cache(maxsize=16)
def load(task: str, name: str | None = None, device: str = "cpu") -> LoadedModel:
    """The named (or default) model of ``task`` with its card, on ``device`` (cached).

    On the CPU the convolution weights are stored channels-last (NHWC): oneDNN then runs the
    subnets without reordering every activation, about 2x faster for the colour flow and
    1.4x for the hiding network on 2 cores, with the same results up to float rounding.
    """
    import torch

    info = get_model_info(task, name)
    module = load_weights(info.path, info.task).to(device)
    if device == "cpu":
        module = module.to(memory_format=torch.channels_last)
    return LoadedModel(info, module, device)

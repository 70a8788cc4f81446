"""The architecture registry: ``@register_model("name", Config)`` on a model class.

A weight file (:mod:`stegnet.zoo`) names its architecture; :func:`stegnet.zoo.build_model`
looks it up here. Adding a model means writing its module in :mod:`stegnet.models`,
decorating the class, and importing the module in :data:`MODEL_MODULES`. This file
imports nothing from stegnet, so every model module can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Modules whose import registers their architectures (imported on first lookup).
MODEL_MODULES = ("stegnet.models.hinet", "stegnet.models.cinn", "stegnet.models.detector",
                 "stegnet.models.robust")


@dataclass(frozen=True)
class Architecture:
    """One registered architecture: its module class, its config dataclass, its task."""

    name: str
    module: type
    config: type
    task: str  # a zoo task (stegnet.zoo.TASKS)


ARCHITECTURES: dict[str, Architecture] = {}


def register_model(name: str, config: type, task: str,
                   aliases: tuple[str, ...] = ()) -> Callable[[type], type]:
    """Class decorator: make ``name`` (and ``aliases``) build this class from ``config``."""

    def decorate(cls: type) -> type:
        for key in (name, *aliases):
            ARCHITECTURES[key] = Architecture(name, cls, config, task)
        return cls

    return decorate


def architecture(name: str) -> Architecture | None:
    """The registered architecture ``name`` (importing the model modules first), or None."""
    import importlib

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return ARCHITECTURES.get(name)


def build(name: str, config: dict[str, Any]) -> Any:
    """Instantiate architecture ``name`` with ``config`` (KeyError if unknown)."""
    entry = architecture(name)
    if entry is None:
        raise KeyError(name)
    return entry.module(entry.config(**config))

"""The model zoo: registry of architectures, shipped entries with cards, one loaded object."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stegnet import zoo
from stegnet.errors import ModelError, UnknownModel
from stegnet.models import registry


def test_every_shipped_architecture_is_registered_with_its_task() -> None:
    for info in zoo.list_models():
        _, arch, _ = zoo.read_weights(info.path)
        assert zoo.architecture_task(arch) == info.task, info.name


def test_each_task_has_a_default_and_detectors_are_entries() -> None:
    tasks = {info.task for info in zoo.list_models()}
    assert tasks == {"hide", "flow", "robust", "detect"}
    assert zoo.get_model_info("hide").card.get("default") is True
    assert zoo.get_model_info("bits").card.get("default") is True
    assert "xunet-hide" in {info.name for info in zoo.list_models("detect")}


def test_load_returns_the_module_with_its_own_card() -> None:
    loaded = zoo.load("flow", "cinn-s6", "cpu")
    assert loaded.name == "cinn-s6" and loaded.device == "cpu"
    assert loaded.card == json.loads((zoo.weights_dir() / "cinn-s6.json").read_text())
    assert not loaded.module.training
    assert zoo.load("flow", "cinn-s6", "cpu") is loaded  # cached


def test_a_model_of_another_task_is_refused_with_a_hint() -> None:
    with pytest.raises(UnknownModel, match="hinet-s8 is a model for hide"):
        zoo.get_model_info("bits", "hinet-s8")
    info = zoo.get_model_info("hide", "hinet-s8")
    with pytest.raises(ModelError, match="cannot be used for bits"):
        zoo.load_weights(info.path, "bits")


def test_unknown_architecture_or_config_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="unknown architecture"):
        zoo.build_model("no-such-net", {})
    with pytest.raises(ModelError, match="unusable config"):
        zoo.build_model("hinet", {"blocks": 2, "refine": 4})  # the removed refiner


def test_register_model_adds_an_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class TinyConfig:
        width: int = 2

    monkeypatch.setattr(registry, "ARCHITECTURES", dict(registry.ARCHITECTURES))

    @registry.register_model("tiny", TinyConfig, task="detect", aliases=("tiny-alias",))
    class Tiny:
        def __init__(self, config: TinyConfig) -> None:
            self.config = config

    built = zoo.build_model("tiny-alias", {"width": 5})
    assert isinstance(built, Tiny) and built.config.width == 5
    assert zoo.architecture_task("tiny") == "detect"


def test_weights_are_found_env_then_checkout_then_prefix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = zoo.weights_dir()
    env = tmp_path / "env"
    env.mkdir()
    (env / "x.safetensors").write_bytes(b"")
    monkeypatch.setenv("STEGNET_WEIGHTS", str(env))
    assert zoo.weights_dir() == env
    monkeypatch.delenv("STEGNET_WEIGHTS")
    assert zoo.weights_dir() == checkout
    # an installed wheel: no weights/ beside the package, they are under <prefix>/share
    prefix = tmp_path / "prefix"
    installed = prefix / "share" / "stegnet" / "weights"
    installed.mkdir(parents=True)
    (installed / "y.safetensors").write_bytes(b"")
    monkeypatch.setattr(zoo, "__file__", str(tmp_path / "site" / "stegnet" / "zoo.py"))
    monkeypatch.setattr(sys, "prefix", str(prefix))
    assert zoo.weights_dir() == installed


def test_bits_error_correction_comes_from_the_loaded_models_card() -> None:
    from stegnet.channels.flow import embed as bits

    loaded = zoo.load("flow")
    fake = zoo.LoadedModel(loaded.info.__class__(loaded.name, "flow",
                                                 {**loaded.card, "ecc_nsym": 96},
                                                 loaded.info.path), loaded.module, "cpu")
    assert bits.ecc_nsym(fake) == 96
    assert bits.ecc_nsym(loaded) == loaded.card["ecc_nsym"]

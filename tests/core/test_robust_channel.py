"""The robust channel: its transform, its coding, and survival of lossy channels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stegnet import api
from stegnet.channels import robust
from stegnet.errors import InputError, PayloadNotFound, PayloadTooLarge, WrongKeyOrCorrupted
from stegnet.models.robust import RobustCodec, RobustConfig, dct_matrix
from stegnet.synthetic import synthetic_photo
from stegnet.zoo import LoadedModel, ModelInfo, load


@pytest.fixture(scope="module")
def cover() -> np.ndarray:
    """~1 MP, the size the robust model's steps were fitted for."""
    return synthetic_photo(880, 1120, seed=3)


@pytest.fixture(scope="module")
def shipped() -> LoadedModel:
    return load("robust")


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    size = (round(width * factor), round(height * factor))
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


def test_dct_is_orthonormal():
    dct = dct_matrix().double()
    assert torch.allclose(dct @ dct.T, torch.eye(8, dtype=torch.float64), atol=1e-6)


def test_synthesis_is_read_back_by_analysis():
    codec = RobustCodec(RobustConfig(size=64))
    rgb = torch.rand(64, 64, 3) * 255
    change = torch.zeros(codec.n_slots)
    change[::7] = torch.linspace(-5, 5, len(change[::7]))
    residual = codec.synthesise(change, 64, 64)
    moved = codec.analyse(rgb + residual[..., None]) - codec.analyse(rgb)
    assert torch.allclose(moved, change, atol=1e-3)


def test_lattice_points_read_as_their_bits():
    codec = RobustCodec(RobustConfig(size=64))
    coeffs = torch.randn(codec.n_slots) * 40
    slots = torch.arange(codec.n_slots)
    bits = torch.randint(0, 2, (codec.n_slots,))
    soft = codec.soft(codec.targets(coeffs, bits, slots))
    assert torch.allclose(soft, 1 - 2 * bits.float(), atol=1e-4)
    moved = (codec.targets(coeffs, bits, slots) - coeffs).abs()
    assert float(moved.max()) <= float(codec.steps.max()) / 2 + 1e-3


def test_config_rejects_bad_geometry():
    with pytest.raises(ValueError):
        RobustCodec(RobustConfig(size=100))
    with pytest.raises(ValueError):
        RobustCodec(RobustConfig(positions=((8, 0),)))


def test_shipped_model_has_fitted_steps(shipped):
    steps = shipped.module.steps
    assert steps.shape == (len(shipped.module.config.positions),)
    assert float(steps.min()) > 1.0 and float(steps.max()) < 100.0
    assert shipped.card["task"] == "robust"


@pytest.mark.parametrize("key", [None, b"robust key"])
def test_round_trip_and_rejections(cover, shipped, key):
    payload = bytes(range(200))
    report = robust.embed(cover, payload, key, shipped)
    assert report.stego.shape == cover.shape and report.stego.dtype == np.uint8
    assert report.raw_bit_errors == 0
    assert robust.extract(report.stego, key, shipped) == payload
    with pytest.raises(WrongKeyOrCorrupted):
        robust.extract(report.stego, b"another key", shipped)
    with pytest.raises((PayloadNotFound, WrongKeyOrCorrupted)):
        robust.extract(cover, key, shipped)


_STEGOS: dict[bytes, np.ndarray] = {}


def _stego(cover: np.ndarray, payload: bytes, model: LoadedModel) -> np.ndarray:
    if payload not in _STEGOS:
        _STEGOS[payload] = robust.embed(cover, payload, None, model).stego
    return _STEGOS[payload]


@pytest.mark.parametrize("damage", ["jpeg75", "jpeg50", "half", "jpeg75-after-half", "noise"])
def test_survives_lossy_channels(cover, shipped, damage):
    payload = b"robust payload " * 16  # 240 bytes
    stego = _stego(cover, payload, shipped)
    received = {
        "jpeg75": lambda: _jpeg(stego, 75),
        "jpeg50": lambda: _jpeg(stego, 50),
        "half": lambda: _resize(stego, 0.5),
        "jpeg75-after-half": lambda: _jpeg(_resize(stego, 0.5), 75),
        "noise": lambda: np.clip(stego + np.random.default_rng(0).normal(0, 2, stego.shape),
                                 0, 255).round().astype(np.uint8),
    }[damage]()
    assert robust.extract(received, None, shipped) == payload


def test_small_payload_changes_less(cover, shipped):
    small = robust.embed(cover, b"hi", None, shipped).stego
    large = robust.embed(cover, bytes(robust.capacity_bytes(shipped, False)), None, shipped).stego
    def mse(stego):
        return float(((stego.astype(float) - cover) ** 2).mean())
    assert mse(small) < 0.5 * mse(large)


def test_capacity_is_fixed_and_enforced(cover, shipped):
    cap = robust.capacity_bytes(shipped, keyed=False)
    assert 256 <= cap < 2000
    assert robust.capacity_bytes(shipped, keyed=True) < cap
    with pytest.raises(PayloadTooLarge):
        robust.embed(cover, bytes(cap + 1), None, shipped)


def test_grey_cover_stays_grey(shipped):
    grey = synthetic_photo(512, 512, seed=5).mean(axis=-1, keepdims=True).astype(np.uint8)
    grey = np.repeat(grey, 3, axis=-1)
    done = api.embed(grey, b"grey", robust=True)
    assert (done.stego[..., 0] == done.stego[..., 1]).all()
    assert (done.stego[..., 1] == done.stego[..., 2]).all()
    assert api.extract(done.stego, robust=True) == b"grey"


def test_small_cover_refused(shipped):
    with pytest.raises(InputError):
        api.embed(synthetic_photo(300, 800), b"x", robust=True)
    with pytest.raises(InputError):
        api.embed(synthetic_photo(200, 800), b"x", robust=True, layout="tiled")


def test_tiled_layout_takes_small_covers(shipped):
    stego = api.embed(synthetic_photo(300, 400, seed=3), b"small photo", robust=True,
                      layout="tiled").stego
    assert stego.shape == (300, 400, 3)
    assert api.extract(stego) == b"small photo"


def test_api_auto_detects_the_channel(cover):
    stego = api.embed(cover, b"auto", key="k", robust=True).stego
    found = api.extract_found(_jpeg(stego, 80), key="k")
    assert (found.payload, found.channel) == (b"auto", "robust")
    small = synthetic_photo(96, 96, seed=1)
    standard = api.embed(small, b"std", key="k").stego
    found = api.extract_found(standard, key="k")
    assert (found.payload, found.channel) == (b"std", "pixel")
    flow_stego = api.embed(small, b"flow", key="k", mode="flow").stego
    found = api.extract_found(flow_stego, key="k")
    assert (found.payload, found.channel) == (b"flow", "flow")
    assert api.capacity(cover, robust=True).capacity_bytes == robust.capacity_bytes(
        load("robust"), False, "whole")
    assert api.capacity(cover, robust=True, layout="tiled").capacity_bytes == \
        robust.capacity_bytes(load("robust"), False, "tiled")


def test_codec_outside_the_zoo_round_trips(cover):
    codec = RobustCodec(RobustConfig(repeat=4)).eval()
    model = LoadedModel(ModelInfo("test", "robust", {}, Path("test")), codec, "cpu")
    stego = robust.embed(cover, b"steps 20", None, model).stego
    assert robust.extract(_jpeg(stego, 85), None, model) == b"steps 20"


def test_reveal_points_a_robust_stego_to_extract_bits(cover, shipped):
    from stegnet.errors import NoHiddenImage

    stego = _stego(cover, b"robust payload " * 16, shipped)
    with pytest.raises(NoHiddenImage, match="--channel robust stego"):
        api.reveal(stego)
    with pytest.raises(NoHiddenImage) as clean:
        api.reveal(cover)
    assert "--robust" not in str(clean.value)

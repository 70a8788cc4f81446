"""The user API (stegnet.api): key, model and device resolved once; errors, not garbage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stegnet import api, zoo
from stegnet.errors import (
    InputError,
    NoHiddenImage,
    UnknownModel,
    UsageError,
    WrongKeyOrCorrupted,
)
from stegnet.imageio import save_png
from stegnet.synthetic import synthetic_photo


@pytest.fixture(scope="module")
def cover() -> np.ndarray:
    return synthetic_photo(96, 96, 3)


def test_embed_extract_with_a_text_key_and_a_path(cover: np.ndarray, tmp_path: Path) -> None:
    done = api.embed(cover, b"meet at noon", key="pass phrase", device="cpu")
    assert (done.channel, done.report.mode) == ("pixel", "pixel") and 0 < done.changed < 0.1
    assert done.capacity_bytes > len(b"meet at noon")
    path = tmp_path / "stego.png"
    save_png(done.stego, path)
    assert api.extract(path, key=b"pass phrase", device="cpu") == b"meet at noon"
    with pytest.raises(WrongKeyOrCorrupted):
        api.extract(path, key="another key", device="cpu")


def test_a_loaded_model_is_used_as_given(cover: np.ndarray, monkeypatch) -> None:
    """The flow channel runs the very model object it is given, for embedding and for
    extraction (a spy on the model's analysis counts the calls)."""
    flow = zoo.load("flow", None, "cpu")
    calls = []
    real = flow.module.analyse
    monkeypatch.setattr(flow.module, "analyse", lambda *a, **k: (calls.append(1),
                                                                 real(*a, **k))[1])
    done = api.embed(cover, b"x", channel="flow", model=flow)
    assert done.report.model == flow.name and calls
    embedded = len(calls)
    found = api.extract_found(done.stego, model=flow)
    assert (found.payload, found.channel) == (b"x", "flow") and len(calls) > embedded
    with pytest.raises(UsageError, match="uses none"):
        api.embed(cover, b"x", model=flow)  # the pixel channel runs no network


def test_bad_model_name_is_a_usage_error_before_any_work(cover: np.ndarray) -> None:
    with pytest.raises(UnknownModel):
        api.embed(cover, b"x", channel="flow", model="no-such-model", device="cpu")


def test_grey_cover_refused_by_the_flow_unless_allowed_and_kept_grey_by_pixel() -> None:
    grey = np.repeat(synthetic_photo(64, 64, 1).mean(axis=2, keepdims=True), 3, axis=2)
    grey = grey.astype(np.uint8)
    with pytest.raises(InputError, match="grey-scale"):
        api.embed(grey, b"x", channel="flow", device="cpu")
    done = api.embed(grey, b"x")
    assert (done.stego == done.stego[..., :1]).all() and api.extract(done.stego) == b"x"


def test_options_belong_to_their_channel(cover: np.ndarray) -> None:
    with pytest.raises(UsageError, match="--temperature applies to the flow channel"):
        api.embed(cover, b"x", temperature=0.7)
    with pytest.raises(UsageError, match="unknown channel"):
        api.embed(cover, b"x", channel="lsb")
    with pytest.raises(UsageError, match="different channels"):
        api.embed(cover, b"x", channel="pixel", robust=True)
    legacy = api.embed(cover, b"x", mode="sparse")  # the former spelling still works
    assert (legacy.channel, legacy.report.mode) == ("flow", "sparse")


def test_reveal_checks_for_a_hidden_image(cover: np.ndarray) -> None:
    with pytest.raises(NoHiddenImage):
        api.reveal(cover, device="cpu")
    stego = api.hide(cover, synthetic_photo(96, 96, 4), key="k", device="cpu")
    assert stego.shape == cover.shape and stego.dtype == np.uint8
    revealed = api.reveal(stego, key="k", device="cpu")
    assert revealed.detection is not None and revealed.detection.detected
    assert revealed.image.shape == cover.shape


def test_capacity_nominal(cover: np.ndarray) -> None:
    nominal = api.capacity(cover, channel="flow", measured=False)
    assert nominal.capacity_bytes == nominal.nominal_capacity_bytes > 0
    assert nominal.bits_per_pixel == round(8 * nominal.capacity_bytes / 96 / 96, 4)
    keyed = api.capacity(cover, channel="flow", keyed=True, measured=False)
    assert 0 < keyed.capacity_bytes < nominal.capacity_bytes  # salt, nonce and tag cost room


def test_compare_and_analyze(cover: np.ndarray) -> None:
    same = api.compare(cover, cover)
    assert same["delta_e00_max"] == 0 and same["ssim"] == 1
    stats = api.analyze(cover, learned=False)
    assert {"chi_square_p", "rs_rate", "spa_rate"} <= set(stats)

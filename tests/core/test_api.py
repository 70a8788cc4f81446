"""The user API (stegnet.api): key, model and device resolved once; errors, not garbage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stegnet import api, zoo
from stegnet.errors import InputError, NoHiddenImage, UnknownModel, WrongKeyOrCorrupted
from stegnet.imageio import save_png
from stegnet.synthetic import synthetic_photo


@pytest.fixture(scope="module")
def cover() -> np.ndarray:
    return synthetic_photo(96, 96, 3)


def test_embed_extract_with_a_text_key_and_a_path(cover: np.ndarray, tmp_path: Path) -> None:
    done = api.embed(cover, b"meet at noon", key="pass phrase", device="cpu")
    assert done.report.mode == "adaptive" and 0 < done.changed_pixels < 0.1
    assert done.capacity_bytes > len(b"meet at noon")
    path = tmp_path / "stego.png"
    save_png(done.stego, path)
    assert api.extract(path, key=b"pass phrase", device="cpu") == b"meet at noon"
    with pytest.raises(WrongKeyOrCorrupted):
        api.extract(path, key="another key", device="cpu")


def test_a_loaded_model_is_used_as_given(cover: np.ndarray) -> None:
    flow = zoo.load("bits", None, "cpu")
    done = api.embed(cover, b"x", model=flow)
    assert api.extract(done.stego, model=flow) == b"x"


def test_bad_model_name_is_a_usage_error_before_any_work(cover: np.ndarray) -> None:
    with pytest.raises(UnknownModel):
        api.embed(cover, b"x", model="no-such-model", device="cpu")


def test_grey_cover_refused_unless_allowed() -> None:
    grey = np.repeat(synthetic_photo(64, 64, 1).mean(axis=2, keepdims=True), 3, axis=2)
    with pytest.raises(InputError, match="grey-scale"):
        api.embed(grey.astype(np.uint8), b"x", device="cpu")


def test_reveal_checks_for_a_hidden_image(cover: np.ndarray) -> None:
    with pytest.raises(NoHiddenImage):
        api.reveal(cover, device="cpu")
    stego = api.hide(cover, synthetic_photo(96, 96, 4), key="k", device="cpu")
    assert stego.shape == cover.shape and stego.dtype == np.uint8
    revealed = api.reveal(stego, key="k", device="cpu")
    assert revealed.detection is not None and revealed.detection.detected
    assert revealed.image.shape == cover.shape


def test_capacity_nominal(cover: np.ndarray) -> None:
    nominal = api.capacity(cover, measured=False)
    assert nominal.capacity_bytes == nominal.nominal_capacity_bytes > 0
    assert nominal.bits_per_pixel == round(8 * nominal.capacity_bytes / 96 / 96, 4)
    keyed = api.capacity(cover, keyed=True, measured=False)
    assert 0 < keyed.capacity_bytes < nominal.capacity_bytes  # salt, nonce and tag cost room


def test_compare_and_analyze(cover: np.ndarray) -> None:
    same = api.compare(cover, cover)
    assert same["delta_e00_max"] == 0 and same["ssim"] == 1
    stats = api.analyze(cover, learned=False)
    assert {"chi_square_p", "rs_rate", "spa_rate"} <= set(stats)

"""Research wing of the robust channel: lossy channels, the step fit, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stegnet.synthetic import synthetic_photo
from stegnet.zoo import load_weights
from stegnet_research import distortions as channels
from stegnet_research.data import is_held_out_package, load_megapixels
from stegnet_research.robustreport import table, write_report
from stegnet_research.train import robust as fit_robust


def test_channels_keep_type_and_change_size_as_named():
    image = synthetic_photo(120, 160, seed=2)
    assert np.array_equal(channels.png(image), image)
    assert channels.jpeg(image, 75).shape == image.shape
    assert not np.array_equal(channels.jpeg(image, 50), image)
    assert channels.scale(image, 0.5).shape == (60, 80, 3)
    assert channels.long_side(image, 1600).shape[1] == 1600
    noisy = channels.noise(image, 2.0)
    assert noisy.dtype == np.uint8 and np.array_equal(noisy, channels.noise(image, 2.0))
    assert 1.0 < float(np.std(noisy.astype(float) - image)) < 3.0
    with pytest.raises(KeyError):
        channels.by_name("jpeg75,crop")
    assert list(channels.by_name("jpeg75,noise2")) == ["jpeg75", "noise2"]


def test_load_megapixels_keeps_aspect(tmp_path: Path):
    path = tmp_path / "t000_pkg_a.png"
    Image.fromarray(synthetic_photo(100, 200)).save(path)
    image = load_megapixels(path, 0.02)
    assert image.shape[1] == 2 * image.shape[0]
    assert abs(image.shape[0] * image.shape[1] - 20_000) < 400


def _photo_folder(root: Path) -> Path:
    root.mkdir()
    packages = [f"pkg{i}" for i in range(8)]
    train = [p for p in packages if not is_held_out_package(p)][:2]
    for index, package in enumerate(train):
        Image.fromarray(synthetic_photo(400, 420, seed=index)).save(
            root / f"t{index:03d}_{package}_photo.png")
    return root


def test_fit_finds_steps_resumes_and_publishes(tmp_path: Path):
    config = fit_robust.RobustFitConfig(
        data=str(_photo_folder(tmp_path / "photos")), out=str(tmp_path / "run"), photos=2,
        megapixels=0.3, channels="jpeg75", gamma_low=2.0, gamma_high=8.0, search_steps=1,
        threads=1)
    best = fit_robust.fit(config, say=lambda _: None)
    assert best["passes"] and best["gamma"] in (5.0, 8.0)
    codec = load_weights(tmp_path / "run" / "best.safetensors", task="robust")
    assert np.allclose(codec.steps.numpy(), best["steps"], atol=1e-3)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in log] == ["noise", "search", "search"]
    messages: list[str] = []
    fit_robust.fit(config, say=messages.append)  # resumed: nothing measured again
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 3
    assert any("gamma 8.0" in m for m in messages)
    with pytest.raises(SystemExit):
        fit_robust.fit(fit_robust.RobustFitConfig(**{**config.__dict__, "photos": 1}),
                       say=lambda _: None)


def _result() -> dict:
    cells = {"png": {"failures": 0, "failure_rate": 0.0, "bit_accuracy_mean": 1.0},
             "jpeg50": {"failures": 1, "failure_rate": 0.5, "bit_accuracy_mean": 0.93}}
    agg = {"photos": 2, "psnr_mean": 41.2, "psnr_min": 40.5, "delta_e00_mean": 0.8,
           "channels": cells}
    return {"payload_bytes": 256, "peers": ["rivaGan:32"], "channels": ["png", "jpeg50"],
            "dataset": "2 photos", "peer_note": "peers helped",
            "aggregate": {"stegnet": agg, "rivaGan:32": agg}, "big": None}


def test_report_table_and_figure(tmp_path: Path):
    text = table(_result())
    assert "| stegnet --robust | 2048 |" in text and "| rivaGan | 32 |" in text
    assert "1/2 (93.0%)" in text and "2/2 (100.0%)" in text
    pytest.importorskip("matplotlib")
    write_report(_result(), tmp_path)
    assert (tmp_path / "robust.png").stat().st_size > 10_000
    assert (tmp_path / "robust.md").read_text() == text

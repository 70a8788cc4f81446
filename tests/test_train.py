"""Both training loops run, log their curve, save best weights and resume."""

import json
from pathlib import Path

from PIL import Image

from stegnet.synthetic import synthetic_photo
from stegnet.zoo import read_weights
from stegnet_research.train import bits as train_bits
from stegnet_research.train import hide as train_hide


def _photos(folder: Path, count: int = 20) -> Path:
    folder.mkdir()
    for index in range(count):
        Image.fromarray(synthetic_photo(48, 56, index)).save(folder / f"p{index:02d}.jpg")
    return folder


def test_hide_training_logs_saves_and_resumes(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    cfg = train_hide.HideTrainConfig(
        data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, crop=16, val_every=1,
        val_pairs=1, val_size=32, threads=1, model={"blocks": 1, "hidden": 4, "depth": 2,
                                                     "clamp": 2.0})
    run = train_hide.train(cfg)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert {"val_stego_psnr", "val_secret_psnr", "train_recover"} <= set(log[0])
    _, arch, config = read_weights(run / "best.safetensors")
    assert arch == "hinet" and config["blocks"] == 1
    cfg.steps = 3
    train_hide.train(cfg)  # resumes from the checkpoint: only step 3 runs
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]


def test_bits_training_with_robust_term(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    cfg = train_bits.BitsTrainConfig(
        data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, crop=16, val_every=2,
        val_images=1, val_size=32, threads=1, robust_weight=1.0,
        model={"blocks": 1, "hidden": 4, "cond_channels": 4, "depth": 2, "clamp": 2.0})
    run = train_bits.train(cfg)
    record = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 2 and 0.0 <= record["val_ber"] <= 1.0
    assert "train_robust" in record
    _, arch, _ = read_weights(run / "best.safetensors")
    assert arch == "colour-cinn"


def test_train_command_overrides_only_given_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stegnet.cli import app

    data = _photos(tmp_path / "photos")
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "hide", "--data", str(data), "--out", str(run),
                                      "--steps", "1", "--blocks", "1", "--hidden", "4",
                                      "--batch", "2", "--crop", "16", "--threads", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["steps"] == 1 and config["model"]["blocks"] == 1
    defaults = train_hide.HideTrainConfig()
    assert config["lr"] == defaults.lr and config["conceal_weight"] == defaults.conceal_weight


def test_detector_training_on_a_built_set(tmp_path: Path) -> None:
    from stegnet_research import stegdata
    from stegnet_research.train import detector as train_detector

    data = tmp_path / "photos"
    data.mkdir()
    for index in range(11):  # photos 0 and 10 held out (4 covers), 1..9 train
        Image.fromarray(synthetic_photo(70, 80, index)).save(data / f"p{index:02d}.png")
    stegdata.build(data, tmp_path / "set", workers=1, size=64)
    cfg = train_detector.DetectorTrainConfig(
        data=str(tmp_path / "set"), method="lsb-full", out=str(tmp_path / "run"), steps=4,
        batch=2, crop=32, val_every=2, warmup=1)
    run = train_detector.train(cfg)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and "val_auc" in log[0]
    target = train_detector.publish(run, tmp_path / "set", tmp_path / "detectors")
    card = json.loads(target.with_suffix(".json").read_text())
    assert card["method"] == "lsb-full" and card["heldout"]["images"] == 4
    assert target.with_suffix(".md").exists()

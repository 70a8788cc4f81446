"""`embed-bits -c robust`, `extract-bits` (auto and -c robust) and `capacity -c robust`
from the command line, with the shipped robust model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stegnet.cli import app
from stegnet.synthetic import synthetic_photo

runner = CliRunner()


@pytest.fixture(scope="module")
def cover(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("robust") / "cover.png"
    Image.fromarray(synthetic_photo(540, 700, seed=7)).save(path)
    return path


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_robust_stego_survives_jpeg_through_the_cli(cover, tmp_path) -> None:
    stego = tmp_path / "stego.png"
    result = runner.invoke(app, ["embed-bits", str(cover), "--text", "meet at noon",
                                 "--channel", "robust", "--key", "k", "-o", str(stego), "--json"])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["mode"] == "whole" and record["payload_bytes"] == 12
    jpeg = tmp_path / "sent.jpg"
    Image.open(stego).save(jpeg, quality=60)
    out = tmp_path / "out.txt"
    result = runner.invoke(app, ["extract-bits", str(jpeg), "--key", "k", "-o", str(out),
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == "meet at noon"
    assert json.loads(result.stdout)["channel"] == "robust"
    result = runner.invoke(app, ["extract-bits", str(jpeg), "--key", "wrong", "--channel", "robust",
                                 "-o", str(tmp_path / "nothing.txt")])
    assert result.exit_code == 3
    assert "wrong key" in _one_error_line(result)
    assert not (tmp_path / "nothing.txt").exists()


def test_capacity_robust_json(cover) -> None:
    result = runner.invoke(app, ["capacity", str(cover), "--channel", "robust", "--json"])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["channel"] == "robust" and record["capacity_bytes"] >= 256
    keyed = json.loads(runner.invoke(app, ["capacity", str(cover), "--channel", "robust",
                                           "--key", "k",
                                           "--json"]).stdout)
    assert keyed["capacity_bytes"] < record["capacity_bytes"]


def test_robust_refuses_mode_and_small_covers(cover, tmp_path) -> None:
    result = runner.invoke(app, ["embed-bits", str(cover), "--text", "x", "--channel", "robust",
                                 "--flow-mode", "sparse", "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 2 and "--flow-mode applies to the flow channel" in \
        _one_error_line(result)
    small = tmp_path / "small.png"
    Image.fromarray(synthetic_photo(200, 300, seed=1)).save(small)
    result = runner.invoke(app, ["embed-bits", str(small), "--text", "x", "--channel", "robust",
                                 "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 2 and "256" in _one_error_line(result)
    assert not (tmp_path / "b.png").exists()
    result = runner.invoke(app, ["embed-bits", str(cover), "--text", "x", "--channel", "robust",
                                 "--layout", "diagonal", "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 2 and "unknown layout" in _one_error_line(result)
    result = runner.invoke(app, ["embed-bits", str(cover), "--text", "x", "--layout", "whole",
                                 "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 2 and "--layout applies to the robust channel" in \
        _one_error_line(result)
    assert not (tmp_path / "b.png").exists()


def test_robust_tiled_stego_survives_a_crop_and_a_flip_through_the_cli(cover, tmp_path) -> None:
    stego = tmp_path / "stego.png"
    result = runner.invoke(app, ["embed-bits", str(cover), "--text", "meet at noon",
                                 "--channel", "robust", "--layout", "tiled", "-o", str(stego)])
    assert result.exit_code == 0, result.stderr
    image = Image.open(stego)
    width, height = image.size
    sent = tmp_path / "sent.jpg"
    image.crop((width // 10, height // 10, width - width // 10, height - height // 10)) \
        .transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(sent, quality=80)
    out = tmp_path / "out.txt"
    result = runner.invoke(app, ["extract-bits", str(sent), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.read_text() == "meet at noon"


def test_payload_over_robust_capacity_exits_4(cover, tmp_path) -> None:
    payload = tmp_path / "big.bin"
    payload.write_bytes(np.random.default_rng(0).bytes(5000))
    result = runner.invoke(app, ["embed-bits", str(cover), str(payload), "--channel", "robust",
                                 "-o", str(tmp_path / "c.png")])
    assert result.exit_code == 4 and "capacity" in _one_error_line(result)


def test_robust_round_trip_in_a_subprocess(cover, tmp_path) -> None:
    stego = tmp_path / "stego.png"
    subprocess.run([sys.executable, "-m", "stegnet.cli", "embed-bits", str(cover), "--text",
                    "piped", "--channel", "robust", "-o", str(stego), "-q"], check=True)
    small = tmp_path / "half.png"
    with Image.open(stego) as image:
        image.resize((image.width // 2, image.height // 2), Image.LANCZOS).save(small)
    proc = subprocess.run([sys.executable, "-m", "stegnet.cli", "extract-bits", str(small),
                           "-o", "-"], capture_output=True, check=True)
    assert proc.stdout == b"piped"

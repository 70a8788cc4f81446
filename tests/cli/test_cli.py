"""CLI behaviour: error paths (CliRunner and a real subprocess) and end-to-end runs
with the shipped weights on small synthetic images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stegnet.cli import app
from stegnet.metrics import psnr
from stegnet.synthetic import synthetic_photo

runner = CliRunner()


def _save(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    cover = _save(tmp_path / "cover.png", synthetic_photo(96, 128, 1))
    secret = _save(tmp_path / "secret.jpg", synthetic_photo(70, 50, 2))
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(200))
    return {"cover": cover, "secret": secret, "text": text, "payload": payload, "dir": tmp_path}


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("stegnet ")


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["hide", "{dir}/missing.png", "{secret}", "-o", "{dir}/out.png"], 2, "missing.png"),
        (["hide", "{text}", "{secret}", "-o", "{dir}/out.png"], 2, "notes.png"),
        (["hide", "{dir}", "{secret}", "-o", "{dir}/out.png"], 2, "must be a folder"),
        (["hide", "{cover}", "{secret}", "-o", "{dir}/out.jpg"], 2, "PNG"),
        (["hide", "{cover}", "{secret}", "-o", "{cover}"], 2, "input"),
        (["reveal", "{dir}/missing.png", "-o", "{dir}/out.png"], 2, "missing.png"),
        (["embed-bits", "{cover}", "{dir}/none.bin", "-o", "{dir}/out.png"], 2, "none.bin"),
        (["embed-bits", "{cover}", "-o", "{dir}/out.png"], 2, "PAYLOAD"),
        (["extract-bits", "{text}", "-o", "{dir}/out.bin"], 2, "notes.png"),
        (["capacity", "{dir}/missing.png"], 2, "missing.png"),
        (["embed-bits", "{cover}", "{payload}", "-o", "{dir}/out.png", "--temperature", "0"], 2,
         "temperature"),
        (["capacity", "{cover}", "--temperature", "9"], 2, "temperature"),
        (["train", "detector", "--method", "dct"], 2, "unknown method"),
        (["train", "hide", "--split", "random"], 2, "unknown split"),
        (["hide", "{cover}", "{secret}", "-o", "{dir}/out.png", "--device", "tpu"], 2, "device"),
        (["hide", "{cover}", "{secret}", "-o", "{dir}/out.png", "--precision", "half"], 2,
         "unknown precision"),
        (["reveal", "{cover}", "-o", "{dir}/out.png", "--precision", "int8"], 2,
         "unknown precision"),
    ],
)
def test_error_paths_one_line_no_output(files, args, code, needle) -> None:
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    before = set(files["dir"].iterdir())
    result = runner.invoke(app, argv)
    assert result.exit_code == code, (result.stdout, result.stderr)
    line = _one_error_line(result)
    assert line.startswith("stegnet: error: ") and needle in line
    assert set(files["dir"].iterdir()) == before  # nothing written, nothing left behind


def test_existing_output_needs_force(files) -> None:
    target = files["dir"] / "stego.png"
    target.write_bytes(b"precious")
    result = runner.invoke(
        app, ["hide", str(files["cover"]), str(files["secret"]), "-o", str(target)]
    )
    assert result.exit_code == 2 and "--force" in _one_error_line(result)
    assert target.read_bytes() == b"precious"


def test_subprocess_error_exit_code_and_stderr(files) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stegnet.cli",
            "reveal",
            str(files["text"]),
            "-o",
            str(files["dir"] / "x.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_subprocess_help_is_fast_and_lists_exit_codes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stegnet.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "Exit codes" in proc.stdout


def test_models_lists_shipped_weights() -> None:
    result = runner.invoke(app, ["models", "--json"])
    assert result.exit_code == 0
    tasks = {m["task"] for m in json.loads(result.stdout)["models"]}
    assert tasks == {"hide", "flow", "robust"}


def test_hide_reveal_end_to_end(files) -> None:
    stego_path, revealed_path = files["dir"] / "stego.png", files["dir"] / "revealed.png"
    result = runner.invoke(
        app,
        [
            "hide",
            str(files["cover"]),
            str(files["secret"]),
            "-o",
            str(stego_path),
            "--json",
            "--device",
            "cpu",
        ],
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["stego"] == str(stego_path) and record["width"] == 128
    assert record["precision"] in ("float32", "bfloat16")  # auto, resolved for this CPU
    cover = np.asarray(Image.open(files["cover"]).convert("RGB"))
    stego = np.asarray(Image.open(stego_path))
    assert stego.shape == cover.shape and psnr(cover, stego) > 30

    result = runner.invoke(app, ["reveal", str(stego_path), "-o", str(revealed_path), "-q"])
    assert result.exit_code == 0 and result.stderr == ""
    from stegnet.hiding import fit_secret

    secret = np.asarray(Image.open(files["secret"]).convert("RGB"))
    revealed = np.asarray(Image.open(revealed_path))
    assert psnr(fit_secret(secret, 96, 128), revealed) > 24


def test_reveal_default_output_path(files) -> None:
    stego_path = files["dir"] / "s.png"
    assert (
        runner.invoke(
            app, ["hide", str(files["cover"]), str(files["secret"]), "-o", str(stego_path)]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["reveal", str(stego_path)])
    assert result.exit_code == 0
    assert (files["dir"] / "s.revealed.png").exists()


def test_embed_extract_end_to_end_with_key(files) -> None:
    stego_path, out = files["dir"] / "stego.png", files["dir"] / "out.bin"
    key_file = files["dir"] / "key.txt"
    key_file.write_text("correct horse\n")
    result = runner.invoke(
        app,
        [
            "embed-bits",
            str(files["cover"]),
            str(files["payload"]),
            "-o",
            str(stego_path),
            "--key-file",
            str(key_file),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["payload_bytes"] == 200
    result = runner.invoke(
        app, ["extract-bits", str(stego_path), "-o", str(out), "--key", "correct horse"]
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == files["payload"].read_bytes()

    wrong = runner.invoke(
        app, ["extract-bits", str(stego_path), "-o", str(files["dir"] / "w"), "--key", "wrong"]
    )
    assert wrong.exit_code == 3 and "wrong key or corrupted" in _one_error_line(wrong)
    assert not (files["dir"] / "w").exists()


def test_default_channel_is_pixel_and_the_flow_stays_available(files) -> None:
    """The default needs no network (a --model is refused with it); --channel flow still
    embeds with the colour flow, and extract-bits finds either channel on its own."""
    found = {}
    for mode in ("pixel", "flow"):
        stego = files["dir"] / f"{mode}.png"
        result = runner.invoke(app, ["embed-bits", str(files["cover"]), "--text", mode,
                                     "--channel", mode, "-o", str(stego), "--json"])
        assert result.exit_code == 0, result.stderr
        record = json.loads(result.stdout)
        assert (record["channel"], record["mode"]) == (mode, "pixel" if mode == "pixel"
                                                       else "sparse")
        out = runner.invoke(app, ["extract-bits", str(stego), "-o",
                                  str(files["dir"] / f"{mode}.txt"), "--json"])
        assert out.exit_code == 0, out.stderr
        found[mode] = json.loads(out.stdout)["channel"]
        assert (files["dir"] / f"{mode}.txt").read_text() == mode
    assert found == {"pixel": "pixel", "flow": "flow"}
    refused = runner.invoke(app, ["embed-bits", str(files["cover"]), "--text", "x",
                                  "--model", "cinn-s6", "-o", str(files["dir"] / "m.png")])
    assert refused.exit_code == 2 and "uses none" in _one_error_line(refused)
    assert not (files["dir"] / "m.png").exists()
    wrong = runner.invoke(app, ["embed-bits", str(files["cover"]), "--text", "x",
                                "--temperature", "0.7", "-o", str(files["dir"] / "m.png")])
    assert wrong.exit_code == 2 and "flow channel" in _one_error_line(wrong)
    cap = json.loads(runner.invoke(app, ["capacity", str(files["cover"]), "--json"]).stdout)
    assert cap["channel"] == "pixel" and cap["bits_per_pixel"] > 2


def test_the_former_mode_flag_still_works_with_a_deprecation_line(files) -> None:
    stego = files["dir"] / "legacy.png"
    result = runner.invoke(app, ["embed-bits", str(files["cover"]), "--text", "old",
                                 "--mode", "sparse", "-o", str(stego), "--json"])
    assert result.exit_code == 0 and "--mode is deprecated" in result.stderr
    assert (json.loads(result.stdout)["channel"], json.loads(result.stdout)["mode"]) == (
        "flow", "sparse")


def test_extract_from_clean_image_says_no_payload(files) -> None:
    result = runner.invoke(
        app, ["extract-bits", str(files["cover"]), "-o", str(files["dir"] / "x.bin")]
    )
    assert result.exit_code == 3 and "no payload" in _one_error_line(result)


def test_payload_too_large_states_capacity(files) -> None:
    cap = runner.invoke(app, ["capacity", str(files["cover"]), "--json"])
    assert cap.exit_code == 0
    capacity = json.loads(cap.stdout)["capacity_bytes"]
    big = files["dir"] / "big.bin"
    big.write_bytes(os.urandom(capacity + 1))
    result = runner.invoke(
        app, ["embed-bits", str(files["cover"]), str(big), "-o", str(files["dir"] / "s.png")]
    )
    assert result.exit_code == 4 and str(capacity) in _one_error_line(result)
    assert not (files["dir"] / "s.png").exists()


def test_text_through_stdout_pipe(files, tmp_path: Path) -> None:
    stego_path = tmp_path / "t.png"
    env = {**os.environ, "STEGNET_KEY": ""}
    env.pop("STEGNET_KEY")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stegnet.cli",
            "embed-bits",
            str(files["cover"]),
            "--text",
            "héllo wörld",
            "-o",
            str(stego_path),
            "-q",
        ],
        capture_output=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "stegnet.cli", "extract-bits", str(stego_path), "-o", "-"],
        capture_output=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "héllo wörld".encode()


def test_folder_mode_processes_every_file_and_reports_failures(files, tmp_path: Path) -> None:
    covers = tmp_path / "covers"
    covers.mkdir()
    for index in range(3):
        _save(covers / f"c{index}.png", synthetic_photo(64, 80, 20 + index))
    (covers / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "stegos"
    result = runner.invoke(app, ["hide", str(covers), str(files["secret"]), "-o", str(out),
                                 "--json", "--jobs", "2"])
    assert result.exit_code == 2  # one file failed: the highest failure code
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["ok"] for r in records) == [False, True, True, True]
    assert "1 failed" in result.stderr and "broken.png" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["c0.png", "c1.png", "c2.png"]

    revealed = tmp_path / "revealed"
    result = runner.invoke(app, ["reveal", str(out), "-o", str(revealed), "-q"])
    assert result.exit_code == 0 and result.stderr == ""
    assert sorted(p.name for p in revealed.iterdir()) == ["c0.png", "c1.png", "c2.png"]
    # a second run without --force refuses every existing output but leaves them intact
    before = {p.name: p.read_bytes() for p in revealed.iterdir()}
    again = runner.invoke(app, ["reveal", str(out), "-o", str(revealed)])
    assert again.exit_code == 2 and "3 failed" in again.stderr
    assert {p.name: p.read_bytes() for p in revealed.iterdir()} == before


def test_bits_folder_mode_round_trip(files, tmp_path: Path) -> None:
    covers = tmp_path / "covers"
    covers.mkdir()
    for index in range(2):
        _save(covers / f"c{index}.png", synthetic_photo(64, 96, 30 + index))
    stegos, payloads = tmp_path / "stegos", tmp_path / "payloads"
    assert runner.invoke(app, ["embed-bits", str(covers), "--text", "same note", "-o",
                               str(stegos), "-q"]).exit_code == 0
    result = runner.invoke(app, ["extract-bits", str(stegos), "-o", str(payloads), "--json"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["payload_bytes"] for line in result.stdout.splitlines()] == [9, 9]
    assert all(p.read_bytes() == b"same note" for p in payloads.iterdir())


def test_eval_commands_write_json(tmp_path: Path) -> None:
    covers = tmp_path / "covers"
    covers.mkdir()
    for index in range(3):
        _save(covers / f"c{index}.png", synthetic_photo(64, 64, 40 + index))
    hide_json, bits_json = tmp_path / "hide.json", tmp_path / "bits.json"
    assert runner.invoke(app, ["eval", "hide", "--covers", str(covers), "--out", str(hide_json),
                               "-q"]).exit_code == 0
    result = json.loads(hide_json.read_text())
    assert result["aggregate"]["stego_psnr"]["count"] == 3
    assert result["aggregate"]["stego_psnr"]["mean"] > 30
    assert runner.invoke(app, ["eval", "bits", "--covers", str(covers), "--payloads",
                               "1,capacity", "--limit", "1", "--out", str(bits_json),
                               "-q"]).exit_code == 0
    assert json.loads(bits_json.read_text())["aggregate"]["failures"] == 0
    analyze_json = tmp_path / "analyze.json"
    assert runner.invoke(app, ["eval", "analyze", "--covers", str(covers), "--set",
                               str(tmp_path / "set"), "--size", "64", "--out",
                               str(analyze_json), "-q"]).exit_code == 0
    result = json.loads(analyze_json.read_text())
    assert result["images"] == {"train": 4, "heldout": 2}  # 2 covers per photo
    detection = result["detection"]
    assert set(detection) == {"hide", "bits-full", "bits-half", "lsb-full", "lsb-half"}
    for method in detection.values():
        assert set(method) >= {"chi_square_p", "rs_rate", "spa_rate"}
        assert all(0 <= row["accuracy"] <= 1 and 0 <= row["auc"] <= 1
                   for row in method.values())
    rd_json = tmp_path / "rd.json"
    assert runner.invoke(app, ["eval", "rate-distortion", "--covers", str(covers), "--limit",
                               "1", "--out", str(rd_json), "-q"]).exit_code == 0
    rd = json.loads(rd_json.read_text())
    assert rd["temperature_curve"] == []
    curve = rd["curve"]
    assert [p["rate"] for p in curve] == [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, "capacity"]
    assert all(p["extract_failures"] == 0 and p["images"] == 1 for p in curve)
    assert all(p["ok"] + p["refused"] == 1 for p in curve)
    small, full = curve[1], curve[-1]
    assert small["ok"] == full["ok"] == 1
    assert small["pixel"] == full["pixel"] == 1 and small["sparse"] == 0
    assert small["psnr"]["mean"] > full["psnr"]["mean"] + 3  # distortion grows with payload
    assert small["changed_pixels"]["mean"] < 0.05 < 0.3 < full["changed_pixels"]["mean"]
    assert curve[1]["lsb_psnr"]["mean"] > curve[-1]["lsb_psnr"]["mean"]  # more bits, more noise
    assert full["net_bpp"]["mean"] > 0.3 and curve[0]["net_bpp"]["mean"] == 0


def test_analyze_runs_classic_and_shipped_cnn_detectors(files) -> None:
    from stegnet.analysis import detector_method
    from stegnet.zoo import list_models

    shipped = sorted(detector_method(m.name) for m in list_models("detect"))
    assert {"hide", "flow-full", "lsb-full"} <= set(shipped)
    stego = files["dir"] / "stego.png"
    assert runner.invoke(app, ["hide", str(files["cover"]), str(files["secret"]), "-o",
                               str(stego), "-q"]).exit_code == 0
    result = runner.invoke(app, ["analyze", str(files["cover"]), str(stego), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["image"] for r in rows] == [str(files["cover"]), str(stego)]
    for row in rows:
        assert {"chi_square_p", "chi_square_seq", "rs_rate", "spa_rate"} <= set(row)
        assert all(0 <= row[f"cnn_{m}"] <= 1 for m in shipped)
        assert row["channels_without_detector"] == ["robust", "jpeg", "pixel"]
    classic = runner.invoke(app, ["analyze", str(stego), "--json", "--classic-only"])
    assert not any(k.startswith("cnn_") for k in json.loads(classic.stdout))


def test_analyze_small_image_skips_cnn_detectors(tmp_path: Path) -> None:
    tiny = _save(tmp_path / "tiny.png", synthetic_photo(20, 24, 3))
    result = runner.invoke(app, ["analyze", str(tiny), "--json"])
    assert result.exit_code == 0
    row = json.loads(result.stdout)
    assert "rs_rate" in row and not any(k.startswith("cnn_") for k in row)
    assert "CNN detectors skipped" in result.stderr

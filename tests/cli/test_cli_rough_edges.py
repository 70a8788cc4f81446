"""The rough edges a new user hits (issue 13): global options anywhere, clean errors for
missing training data and unknown models, tiny covers, grey covers, threads, and
`reveal` on a picture that hides nothing. CliRunner for behaviour, real subprocesses
for exit codes and stderr."""

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

from stegnet.cli import STATE, app, split_global_options
from stegnet.errors import InputError, UsageError
from stegnet.synthetic import synthetic_photo

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_COVER = ROOT / "examples" / "cover.png"
EXAMPLE_SECRET = ROOT / "examples" / "secret.png"


def _save(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path)
    return path


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("stegnet: error: ")
    return lines[0]


def _cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stegnet.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.fixture
def cover(tmp_path: Path) -> Path:
    return _save(tmp_path / "cover.png", synthetic_photo(64, 80, 7))


# ---------------------------------------------------------------- 1. --debug anywhere
def _root():
    import typer

    return typer.main.get_command(app)


@pytest.mark.parametrize(
    ("args", "kept", "debug", "threads"),
    [
        (["hide", "a.png", "b.png", "-o", "c.png", "--debug"],
         ["hide", "a.png", "b.png", "-o", "c.png"], True, None),
        (["--debug", "hide", "a.png"], ["hide", "a.png"], True, None),
        (["train", "hide", "--data", "X", "--debug"], ["train", "hide", "--data", "X"], True,
         None),
        # the value of another option is never taken for a global option
        (["embed-bits", "c.png", "--text", "--debug", "-o", "s.png"],
         ["embed-bits", "c.png", "--text", "--debug", "-o", "s.png"], False, None),
        (["reveal", "s.png", "--", "--debug"], ["reveal", "s.png", "--", "--debug"], False,
         None),
        (["--threads", "3", "hide", "a"], ["hide", "a"], False, 3),
        (["hide", "a", "--threads=2", "-q"], ["hide", "a", "-q"], False, 2),
        # train commands have their own --threads: left to them
        (["train", "hide", "--threads", "4"], ["train", "hide", "--threads", "4"], False, None),
        (["--threads", "4", "train", "bits"], ["train", "bits"], False, 4),
    ],
)
def test_split_global_options(args, kept, debug, threads) -> None:
    assert split_global_options(_root(), args) == (kept, debug, threads)


@pytest.mark.parametrize("args", [["hide", "--threads", "0"], ["hide", "--threads", "x"],
                                  ["hide", "--threads"], ["hide", "--debug=yes"]])
def test_split_global_options_rejects_bad_values(args) -> None:
    with pytest.raises(UsageError):
        split_global_options(_root(), args)


def test_debug_after_subcommand_shows_the_exception(tmp_path: Path) -> None:
    args = ["hide", str(tmp_path / "missing.png"), str(EXAMPLE_SECRET), "-o",
            str(tmp_path / "out.png")]
    plain = runner.invoke(app, args)
    assert plain.exit_code == 2 and "missing.png" in _one_error_line(plain.stderr)
    debug = runner.invoke(app, [*args, "--debug"])
    assert isinstance(debug.exception, InputError)  # raised, not turned into one line
    again = runner.invoke(app, args)  # --debug does not stick to later invocations
    assert again.exit_code == 2 and not STATE.debug


@pytest.mark.parametrize("where", ["after", "before"])
def test_subprocess_debug_anywhere_gives_traceback(tmp_path: Path, where: str) -> None:
    args = ["train", "hide", "--data", str(tmp_path / "nope")]
    args = [*args, "--debug"] if where == "after" else ["--debug", *args]
    proc = _cli(*args)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "no such folder" in proc.stderr
    plain = _cli("train", "hide", "--data", str(tmp_path / "nope"))
    assert plain.returncode == 2 and "no such folder" in _one_error_line(plain.stderr)


# ---------------------------------------------------------------- 2. training data
@pytest.fixture
def data_dirs(tmp_path: Path) -> dict[str, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a photo")
    few = tmp_path / "few"
    few.mkdir()
    for index in range(3):
        _save(few / f"p{index}.jpg", synthetic_photo(64, 64, index))
    return {"missing": tmp_path / "missing", "empty": empty, "few": few,
            "runs": tmp_path / "runs"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "hide", "--data", "{missing}"], "no such folder"),
        (["train", "bits", "--data", "{missing}"], "no such folder"),
        (["train", "hide", "--data", "{empty}"], "no photos"),
        (["train", "bits", "--data", "{empty}"], "no photos"),
        (["train", "hide", "--data", "{few}"], "at least 11"),
        (["train", "detector", "--set", "{missing}"], "no such folder"),
        (["train", "detector", "--set", "{empty}"], "no 'hide' pairs"),
    ],
)
def test_training_data_errors_are_one_line_exit_2(data_dirs, args, needle) -> None:
    out = data_dirs["runs"] / "run"
    argv = [a.format(**data_dirs) for a in args] + ["--out", str(out), "--steps", "1"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert needle in _one_error_line(result.stderr)
    assert not out.exists()  # nothing written


def test_subprocess_training_data_missing(data_dirs) -> None:
    proc = _cli("train", "bits", "--data", str(data_dirs["missing"]))
    assert proc.returncode == 2 and proc.stdout == ""
    line = _one_error_line(proc.stderr)
    assert "no such folder" in line and "internal error" not in line



def test_train_prints_on_stdout_only_with_json(tmp_path: Path) -> None:
    """The recipe's validation records: stderr by default, nowhere with -q, JSON lines on
    stdout with --json (then the run folder as the last line)."""
    data = tmp_path / "photos"
    data.mkdir()
    for index in range(11):
        _save(data / f"p{index:02d}.jpg", synthetic_photo(48, 56, index))
    base = ["train", "hide", "--data", str(data), "--steps", "1", "--blocks", "1", "--hidden",
            "4", "--batch", "2", "--crop", "16", "--threads", "1"]
    quiet = runner.invoke(app, [*base, "--out", str(tmp_path / "q"), "-q"])
    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    plain = runner.invoke(app, [*base, "--out", str(tmp_path / "p")])
    assert plain.exit_code == 0 and plain.stdout == ""
    assert '"step": 1' in plain.stderr and "best weights" in plain.stderr
    as_json = runner.invoke(app, [*base, "--out", str(tmp_path / "j"), "--json", "-q"])
    assert as_json.exit_code == 0 and as_json.stderr == ""
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert records[0]["step"] == 1 and records[-1]["run"] == str(tmp_path / "j")

# ---------------------------------------------------------------- 3. unknown models
@pytest.mark.parametrize(
    ("args", "available"),
    [
        (["hide", "{cover}", "{cover}", "-o", "{dir}/o.png"], "hinet-s8"),
        (["reveal", "{cover}", "-o", "{dir}/o.png"], "hinet-s8"),
        (["embed-bits", "{cover}", "--text", "x", "-o", "{dir}/o.png"], "cinn-s6"),
        (["extract-bits", "{cover}", "-o", "{dir}/o.bin"], "cinn-s6"),
        (["capacity", "{cover}"], "cinn-s6"),
        (["eval", "hide", "--covers", "{dir}", "--out", "{dir}/o.json"], "hinet-s8"),
        (["eval", "bits", "--covers", "{dir}", "--out", "{dir}/o.json"], "cinn-s6"),
        (["eval", "rate-distortion", "--covers", "{dir}", "--out", "{dir}/o.json"], "cinn-s6"),
        (["eval", "robustness", "--covers", "{dir}", "--out", "{dir}/o.json"], "hinet-s8"),
    ],
)
def test_unknown_model_is_usage_error(cover, args, available) -> None:
    folder = cover.parent
    argv = [a.format(cover=cover, dir=folder) for a in args] + ["--model", "nope"]
    before = set(folder.iterdir())
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    line = _one_error_line(result.stderr)
    assert "unknown" in line and "'nope'" in line and available in line
    assert set(folder.iterdir()) == before


def test_model_of_the_other_task_says_which_command(cover) -> None:
    result = runner.invoke(app, ["hide", str(cover), str(cover), "-o",
                                 str(cover.parent / "o.png"), "--model", "cinn-s6"])
    assert result.exit_code == 2 and "embed-bits" in _one_error_line(result.stderr)
    missing = runner.invoke(app, ["capacity", str(cover), "--model", "runs/x.safetensors"])
    assert missing.exit_code == 2 and "no such weight file" in _one_error_line(missing.stderr)


def test_subprocess_unknown_model_exit_2(cover) -> None:
    proc = _cli("capacity", str(cover), "--model", "nope", "--nominal")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "available: cinn-s6" in _one_error_line(proc.stderr)



@pytest.mark.parametrize(("study", "args", "model"), [
    ("eval_hide", ["hide"], "hinet-s4"),
    ("eval_bits", ["bits"], None),
    ("eval_rate_distortion", ["rate-distortion", "--channel", "flow"], "cinn-s6"),
    ("eval_robustness", ["robustness"], "hinet-s4"),
    ("eval_steganalysis", ["analyze", "--set", "{dir}/set"], None),
])
def test_eval_passes_model_and_device_to_the_study(cover, monkeypatch, study, args,
                                                   model) -> None:
    from stegnet_research import channel_studies, evaluate, stegdata

    seen = {}

    stats = {"mean": 0.0, "min": 0.0, "max": 0.0}
    keys = ("stego_psnr", "secret_psnr", "raw_ber", "net_bpp", "delta_e00_mean")
    aggregate = {**{k: stats for k in keys}, "round_trips": 0, "failures": 0}

    def fake(*positional, **kwargs):
        seen.update(kwargs)
        return {"aggregate": aggregate, "curve": [], "temperature_curve": [], "table": {},
                "detection": {}}

    studies = channel_studies if study in ("eval_bits", "eval_rate_distortion") else evaluate
    monkeypatch.setattr(studies, study, fake)
    monkeypatch.setattr(stegdata, "build", lambda *a, **k: None)
    folder = cover.parent
    argv = ["eval", *[a.format(dir=folder) for a in args], "--covers", str(folder), "--out",
            str(folder / "o.json"), "--device", "cpu", "-q"]
    argv += ["--model", model] if model else []
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.stderr
    assert seen["device"] == "cpu"
    if study != "eval_steganalysis":  # its models are the detectors (--detectors)
        assert seen["model"] == model
    assert json.loads((folder / "o.json").read_text())["device"] == "cpu"

# ---------------------------------------------------------------- 4. tiny covers
def test_capacity_of_an_image_too_small_for_any_payload(tmp_path: Path, monkeypatch) -> None:
    from stegnet.channels.flow import embed as bits

    tiny = _save(tmp_path / "tiny.png", synthetic_photo(48, 48, 3))
    real = bits.capacity
    monkeypatch.setattr(bits, "capacity", lambda h, w, keyed, nsym: 0 if h * w < 64 * 64
                        else real(h, w, keyed, nsym))
    for extra in ([], ["--nominal"], ["--json"]):  # the colour flow's capacity
        result = runner.invoke(app, ["capacity", str(tiny), "--channel", "flow", *extra])
        assert result.exit_code == 2 and result.stdout == ""
        line = _one_error_line(result.stderr)
        assert "too small to carry any payload" in line and "64x64" in line
        assert "payload is 0 bytes" not in line
    result = runner.invoke(app, ["embed-bits", str(tiny), "--text", "hi", "--channel", "flow",
                                 "-o", str(tmp_path / "s.png")])
    assert result.exit_code == 4
    assert "too small to carry any payload" in _one_error_line(result.stderr)
    assert not (tmp_path / "s.png").exists()


def test_adaptive_capacity_of_a_tiny_image(tmp_path: Path, monkeypatch) -> None:
    """The default channel's capacity is exact: 3 bits per pixel less framing; an image
    below what the framing needs is refused in one line, before anything is written."""
    from stegnet.channels import pixel

    small = _save(tmp_path / "small.png", synthetic_photo(40, 40, 3))
    result = runner.invoke(app, ["capacity", str(small), "--json"])
    record = json.loads(result.stdout)
    assert result.exit_code == 0 and record["channel"] == "pixel"
    assert record["capacity_bytes"] == pixel.capacity_bytes(40, 40, False) > 0
    real = pixel.capacity_bytes
    monkeypatch.setattr(pixel, "capacity_bytes", lambda h, w, keyed, grey=False: 0
                        if h * w < 64 * 64 else real(h, w, keyed, grey))
    result = runner.invoke(app, ["embed-bits", str(small), "--text", "hi", "-o",
                                 str(tmp_path / "s.png")])
    assert result.exit_code == 4 and "64x64" in _one_error_line(result.stderr)
    assert not (tmp_path / "s.png").exists()


def test_capacity_reports_zero_when_no_error_correction_fits(cover, monkeypatch) -> None:
    from stegnet.channels.flow import embed as bits
    from stegnet.errors import PayloadTooLarge

    def no_room(*args, **kwargs):
        raise PayloadTooLarge("payload is 0 bytes but the capacity is 0 bytes")

    monkeypatch.setattr(bits, "measured_capacity", no_room)
    result = runner.invoke(app, ["capacity", str(cover), "--channel", "flow"])
    assert result.exit_code == 0 and result.stdout.strip() == "0"
    assert "payload is 0 bytes" not in result.stderr and "did not decode" in result.stderr


# ---------------------------------------------------------------- 5. grey covers
def _grey(height: int, width: int, seed: int) -> np.ndarray:
    luma = synthetic_photo(height, width, seed).mean(axis=2).astype(np.uint8)
    return np.repeat(luma[..., None], 3, axis=2)


def test_the_flow_refuses_grey_cover_unless_allowed(tmp_path: Path) -> None:
    grey = _save(tmp_path / "grey.png", _grey(64, 80, 4))
    stego = tmp_path / "s.png"
    result = runner.invoke(app, ["embed-bits", str(grey), "--text", "hi", "-o", str(stego),
                                 "--channel", "flow"])
    assert result.exit_code == 2
    line = _one_error_line(result.stderr)
    assert "grey-scale" in line and "--allow-grey" in line
    assert not stego.exists()
    allowed = runner.invoke(app, ["embed-bits", str(grey), "--text", "hi", "-o", str(stego),
                                  "--channel", "flow", "--allow-grey", "-q"])
    assert allowed.exit_code == 0, allowed.stderr
    assert stego.exists()


def test_the_default_channel_keeps_grey_covers_grey(tmp_path: Path) -> None:
    """Folder mode over a colour and a grey cover: both embed, the grey stego stays grey
    (R, G and B changed alike) and both read back."""
    from stegnet.imageio import load_rgb

    covers = tmp_path / "covers"
    covers.mkdir()
    _save(covers / "colour.png", synthetic_photo(64, 80, 5))
    _save(covers / "grey.png", _grey(64, 80, 6))
    out = tmp_path / "out"
    result = runner.invoke(app, ["embed-bits", str(covers), "--text", "hi", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["colour.png", "grey.png"]
    grey = load_rgb(out / "grey.png")
    assert (grey == grey[..., :1]).all()
    back = runner.invoke(app, ["extract-bits", str(out / "grey.png"), "-o", "-"])
    assert back.exit_code == 0 and back.stdout == "hi"


def test_subprocess_allow_grey_belongs_to_the_flow_exit_2(tmp_path: Path) -> None:
    grey = _save(tmp_path / "grey.png", _grey(64, 64, 8))
    proc = _cli("embed-bits", str(grey), "--text", "hi", "--allow-grey", "-o",
                str(tmp_path / "s.png"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--allow-grey applies to the flow channel" in _one_error_line(proc.stderr)
    assert not (tmp_path / "s.png").exists()


def test_threads_option_sets_torch_threads_anywhere(cover) -> None:
    import torch

    before = torch.get_num_threads()
    try:
        for args in (["--threads", "1", "capacity", str(cover), "-c", "flow", "--nominal"],
                     ["capacity", str(cover), "--nominal", "-c", "flow", "--threads", "2"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.stderr
            assert torch.get_num_threads() == int(args[args.index("--threads") + 1])
        result = runner.invoke(app, ["capacity", str(cover), "--threads", "0"])
        assert result.exit_code == 2 and "--threads" in _one_error_line(result.stderr)
    finally:
        from stegnet.device import request_threads

        request_threads(None)
        torch.set_num_threads(before)


def test_subprocess_threads_option_and_omp_num_threads() -> None:
    """`bench` reports torch's thread count: --threads (anywhere) wins, then
    $OMP_NUM_THREADS, then the usable cores (at most MAX_DEFAULT_THREADS)."""
    from stegnet.device import MAX_DEFAULT_THREADS, usable_cores

    def threads(*extra: str, omp: str | None) -> int:
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        if omp is not None:
            env["OMP_NUM_THREADS"] = omp
        proc = _cli("bench", "--sizes", "64", "--methods", "hide", "--json", "--no-reference",
                    *extra, env=env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)["rows"][0]["threads"]

    assert threads("--threads", "3", omp="1") == 3
    assert threads(omp="1") == 1
    assert threads(omp=None) == min(usable_cores(), MAX_DEFAULT_THREADS)


@pytest.mark.parametrize("args", [["--help"], ["--threads", "2", "--help"],
                                  ["hide", "--help", "--debug"]])
def test_help_does_not_import_torch(args) -> None:
    code = ("import sys\nfrom stegnet.cli import main\nsys.argv = ['stegnet'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == "False", proc.stderr
    assert "Usage" in proc.stdout


# ---------------------------------------------------------------- 7. reveal needs a hidden image
def test_reveal_clean_photo_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "r.png"
    result = runner.invoke(app, ["reveal", str(EXAMPLE_COVER), "-o", str(target)])
    assert result.exit_code == 3
    line = _one_error_line(result.stderr)
    assert "no hidden image found" in line and "--anyway" in line
    assert not target.exists()
    anyway = runner.invoke(app, ["reveal", str(EXAMPLE_COVER), "-o", str(target), "--anyway",
                                 "--json"])
    assert anyway.exit_code == 0 and target.exists()
    assert json.loads(anyway.stdout)["detection"] is None


def test_reveal_finds_hidden_image_and_refuses_embed_bits_stego(tmp_path: Path) -> None:
    stego, bits_stego = tmp_path / "stego.png", tmp_path / "bits.png"
    assert runner.invoke(app, ["hide", str(EXAMPLE_COVER), str(EXAMPLE_SECRET), "-o",
                               str(stego), "-q"]).exit_code == 0
    result = runner.invoke(app, ["reveal", str(stego), "-o", str(tmp_path / "r.png"),
                                 "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["detection"]["detected"] is True
    assert runner.invoke(app, ["embed-bits", str(EXAMPLE_COVER), "--text", "meet at noon",
                               "-o", str(bits_stego), "-q"]).exit_code == 0
    result = runner.invoke(app, ["reveal", str(bits_stego), "-o", str(tmp_path / "b.png")])
    assert result.exit_code == 3 and "no hidden image found" in _one_error_line(result.stderr)
    assert not (tmp_path / "b.png").exists()


def test_reveal_folder_mode_skips_pictures_without_hidden_image(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    clean = np.asarray(Image.open(EXAMPLE_COVER).convert("RGB"))
    _save(folder / "clean.png", clean)
    assert runner.invoke(app, ["hide", str(EXAMPLE_COVER), str(EXAMPLE_SECRET), "-o",
                               str(folder / "stego.png"), "-q"]).exit_code == 0
    out = tmp_path / "out"
    result = runner.invoke(app, ["reveal", str(folder), "-o", str(out), "--json"])
    assert result.exit_code == 3
    records = {Path(r.get("stego", r.get("input"))).name: r
               for r in map(json.loads, result.stdout.splitlines())}
    assert records["stego.png"]["ok"] and not records["clean.png"]["ok"]
    assert sorted(p.name for p in out.iterdir()) == ["stego.png"]


def test_subprocess_reveal_clean_exit_3(tmp_path: Path) -> None:
    proc = _cli("reveal", str(EXAMPLE_COVER), "-o", str(tmp_path / "r.png"))
    assert proc.returncode == 3 and proc.stdout == ""
    assert "no hidden image found" in _one_error_line(proc.stderr)
    assert not (tmp_path / "r.png").exists()


@pytest.mark.parametrize("study", ["bits", "rate-distortion"])
def test_a_flow_model_with_the_pixel_channel_is_refused(cover, study) -> None:
    """A study of the pixel channel under a flow model's name would measure one channel and
    label it with another: refused before any work."""
    folder = cover.parent
    result = runner.invoke(app, ["eval", study, "--covers", str(folder), "--model", "cinn-s6",
                                 "--out", str(folder / "o.json")])
    assert result.exit_code == 2 and "--channel flow" in _one_error_line(result.stderr)
    assert not (folder / "o.json").exists()

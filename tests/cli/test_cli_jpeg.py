"""The jpeg channel from the command line: JPEG in, JPEG out, found without a flag."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from stegnet.cli import app
from stegnet.synthetic import synthetic_photo

runner = CliRunner()
EXIF_ARTIST = 0x013B


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A camera-like JPEG: 4:2:0, quality 85, with EXIF and a comment."""
    path = tmp_path_factory.mktemp("jpeg") / "photo.jpg"
    exif = Image.Exif()
    exif[EXIF_ARTIST] = "stegnet test"
    Image.fromarray(synthetic_photo(240, 320, seed=11)).save(
        path, quality=85, exif=exif.tobytes(), comment=b"holiday")
    return path


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("keyed", [False, True])
def test_jpeg_in_jpeg_out_and_back(photo: Path, tmp_path: Path, keyed: bool) -> None:
    stego = tmp_path / "stego.jpg"
    key = ["--key", "k"] if keyed else []
    result = runner.invoke(app, ["embed-bits", str(photo), "--text", "meet at noon", "-o",
                                 str(stego), "--json", *key])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["channel"] == "jpeg" and 0 < record["changed_coefficients"] < 0.01
    assert abs(stego.stat().st_size / photo.stat().st_size - 1) < 0.03
    with Image.open(photo) as before, Image.open(stego) as after:
        assert after.format == "JPEG" and after.size == before.size
        assert after.getexif()[EXIF_ARTIST] == "stegnet test"
        assert after.info.get("comment") == b"holiday"
        assert after.quantization == before.quantization
    out = runner.invoke(app, ["extract-bits", str(stego), "-o", "-", *key])
    assert out.exit_code == 0 and out.stdout == "meet at noon"
    assert "jpeg channel" in out.stderr
    if keyed:
        wrong = runner.invoke(app, ["extract-bits", str(stego), "-o", "-", "--key", "x"])
        assert wrong.exit_code == 3 and "wrong key" in _one_error_line(wrong)


def test_capacity_of_a_jpeg_is_the_jpeg_channels(photo: Path) -> None:
    result = runner.invoke(app, ["capacity", str(photo), "--json"])
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["channel"] == "jpeg" and record["capacity_bytes"] > 100
    pixel = json.loads(runner.invoke(app, ["capacity", str(photo), "-c", "pixel",
                                           "--json"]).stdout)
    assert pixel["channel"] == "pixel" and pixel["capacity_bytes"] > record["capacity_bytes"]


def test_a_png_cover_is_compressed_once_at_the_quality_asked(tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    Image.fromarray(synthetic_photo(128, 160, seed=3)).save(cover)
    sizes = {}
    for quality in (60, 95):
        stego = tmp_path / f"q{quality}.jpg"
        result = runner.invoke(app, ["embed-bits", str(cover), "--text", "hi", "-o",
                                     str(stego), "--quality", str(quality), "-q"])
        assert result.exit_code == 0, result.stderr
        sizes[quality] = stego.stat().st_size
        out = runner.invoke(app, ["extract-bits", str(stego), "-o", "-"])
        assert out.stdout == "hi"
    assert sizes[60] < sizes[95]


def test_jpeg_refusals_are_one_line_and_write_nothing(photo: Path, tmp_path: Path) -> None:
    target = tmp_path / "s.jpg"
    cases = [
        (["embed-bits", str(photo), "--text", "x", "-o", str(target), "--quality", "80"],
         "--quality applies to a cover that is not a JPEG"),
        (["embed-bits", str(photo), "--text", "x", "-o", str(target), "-c", "pixel"],
         "writes a PNG"),
        (["embed-bits", str(photo), "--text", "x", "-o", str(tmp_path / "s.png"), "-c",
          "jpeg"], "name it .jpg"),
        (["embed-bits", str(photo), "--text", "x", "-o", str(target), "--temperature", "0.7"],
         "--temperature applies to the flow channel"),
        (["embed-bits", str(photo), "--text", "x", "-o", str(target), "--costs", "hill"],
         "unknown JPEG costs"),
        (["embed-bits", str(photo), "--text", "x", "-o", str(tmp_path / "s.png"), "--costs",
          "uerd"], "--costs applies to the jpeg channel"),
    ]
    for argv, message in cases:
        result = runner.invoke(app, argv)
        assert result.exit_code == 2 and message in _one_error_line(result), result.stderr
    cmyk = tmp_path / "cmyk.jpg"
    buffer = io.BytesIO()
    Image.fromarray(synthetic_photo(64, 64, seed=1)).convert("CMYK").save(buffer, "JPEG")
    cmyk.write_bytes(buffer.getvalue())
    result = runner.invoke(app, ["embed-bits", str(cmyk), "--text", "x", "-o", str(target)])
    assert result.exit_code == 2 and "CMYK" in _one_error_line(result)
    assert not target.exists() and not (tmp_path / "s.png").exists()
    existing = tmp_path / "exists.jpg"
    existing.write_bytes(b"keep")
    result = runner.invoke(app, ["embed-bits", str(photo), "--text", "x", "-o", str(existing)])
    assert result.exit_code == 2 and existing.read_bytes() == b"keep"


def test_uerd_costs_from_the_command_line(photo: Path, tmp_path: Path) -> None:
    stego = tmp_path / "uerd.jpg"
    result = runner.invoke(app, ["embed-bits", str(photo), "--text", "fast", "-o", str(stego),
                                 "--costs", "uerd", "-q"])
    assert result.exit_code == 0, result.stderr
    assert runner.invoke(app, ["extract-bits", str(stego), "-o", "-"]).stdout == "fast"


def test_a_clean_jpeg_holds_no_payload(photo: Path) -> None:
    result = runner.invoke(app, ["extract-bits", str(photo), "-o", "-"])
    assert result.exit_code == 3 and "no payload" in _one_error_line(result)


def test_the_pixel_stego_of_a_jpeg_cover_is_a_png(photo: Path, tmp_path: Path) -> None:
    stego = tmp_path / "s.png"
    result = runner.invoke(app, ["embed-bits", str(photo), "--text", "px", "-o", str(stego),
                                 "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["channel"] == "pixel"
    out = runner.invoke(app, ["extract-bits", str(stego), "-o", str(tmp_path / "p.txt"),
                              "--json"])
    assert json.loads(out.stdout)["channel"] == "pixel"
    assert (tmp_path / "p.txt").read_text() == "px"
    assert np.asarray(Image.open(stego)).shape == (240, 320, 3)


def test_exif_orientation_is_kept_so_the_stego_shows_as_the_cover(tmp_path: Path) -> None:
    """The coefficients stay as stored; the EXIF orientation tag comes through, so a viewer
    turns the stego exactly as it turned the cover."""
    photo = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(synthetic_photo(96, 160, seed=5)).save(photo, quality=90,
                                                            exif=exif.tobytes())
    stego = tmp_path / "stego.jpg"
    assert runner.invoke(app, ["embed-bits", str(photo), "--text", "up", "-o", str(stego),
                               "-q"]).exit_code == 0
    with Image.open(stego) as image:
        assert image.getexif()[0x0112] == 6 and image.size == (160, 96)
    out = runner.invoke(app, ["extract-bits", str(stego), "-o", "-"])
    assert out.exit_code == 0 and out.stdout == "up"

"""The example scripts run as documented (real subprocesses, installed `stegnet`)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from stegnet.synthetic import synthetic_photo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _env() -> dict:
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


@pytest.fixture
def covers(tmp_path: Path) -> Path:
    folder = tmp_path / "covers"
    folder.mkdir()
    for index in range(3):
        Image.fromarray(synthetic_photo(64, 72, index)).save(folder / f"c{index}.png")
    return folder


def test_quickstart_script(tmp_path: Path) -> None:
    proc = subprocess.run(["bash", str(EXAMPLES / "quickstart.sh"), str(tmp_path)],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "PSNR" in proc.stdout and "meet at the old mill at noon" in proc.stdout


def test_batch_loop_script(covers: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(["bash", str(EXAMPLES / "batch_loop.sh"), str(covers),
                           str(EXAMPLES / "secret.png"), str(out)],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert len(list(out.glob("*.revealed.png"))) == 3


def test_batch_folder_script(covers: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(["bash", str(EXAMPLES / "batch_folder.sh"), str(covers),
                           str(EXAMPLES / "secret.png"), str(out)],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (out / "reveal.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["ok"] for r in records)


def test_help_does_not_import_torch() -> None:
    code = "import sys, stegnet.cli; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "False"


def test_every_shipped_weight_file_is_installed_by_pip() -> None:
    """pyproject's data-files globs cover every file in weights/ (a plain `pip install .`
    must carry the models and detectors to <prefix>/share/stegnet/weights)."""
    import fnmatch
    import re

    root = EXAMPLES.parent
    text = (root / "pyproject.toml").read_text()
    section = text.split("[tool.setuptools.data-files]", 1)[1].split("\n[", 1)[0]
    globs = [g for line in section.splitlines() if "=" in line
             for g in re.findall(r'"([^"]+)"', line.split("=", 1)[1])]
    shipped = [p.relative_to(root).as_posix() for p in (root / "weights").rglob("*")
               if p.is_file()]
    assert any(p.endswith(".safetensors") for p in shipped)
    missing = [p for p in shipped if not any(fnmatch.fnmatch(p, g) and
                                             p.count("/") == g.count("/") for g in globs)]
    assert not missing, missing

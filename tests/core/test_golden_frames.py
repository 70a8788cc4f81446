"""Golden frames: stegos written by earlier commits (tests/golden/) that today's reader must
decode byte-exact, through the user-facing :func:`stegnet.api.extract`.

Every payload container version that was ever written to an image by a channel still read
today (SGN2 direct, SGN3 round-robin lanes, SGN4, SGN5 pixel, SGN6 and SGN7 jpeg) and every channel
(pixel, then called adaptive; colour flow full / sparse; robust; jpeg), keyed and unkeyed;
``tests/golden/manifest.json`` says which commit wrote each file and how. Entries marked
``readable_today: false`` are known incompatibilities (the reason is in the manifest):
strict xfails, so a fix shows up.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stegnet import api
from stegnet.errors import PayloadError

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
ENTRIES = MANIFEST["entries"]
WRONG_KEY = "not-the-golden-key"


def _param(entry: dict) -> pytest.param:
    marks = ()
    if not entry["readable_today"]:
        marks = (pytest.mark.xfail(strict=True, raises=PayloadError,
                                   reason=entry["known_incompatibility"]),)
    return pytest.param(entry, id=Path(entry["file"]).stem, marks=marks)


def _payload(entry: dict) -> bytes:
    payload = bytes.fromhex(entry["payload_hex"])
    assert hashlib.sha256(payload).hexdigest() == entry["payload_sha256"]
    return payload


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_golden_frame_decodes_byte_exact(entry: dict) -> None:
    assert api.extract(str(GOLDEN / entry["file"]), key=entry["key"]) == _payload(entry)


@pytest.mark.parametrize("entry", [pytest.param(e, id=Path(e["file"]).stem)
                                   for e in ENTRIES if e["keyed"]])
def test_golden_keyed_frame_refuses_a_wrong_key(entry: dict) -> None:
    with pytest.raises(PayloadError):
        api.extract(str(GOLDEN / entry["file"]), key=WRONG_KEY)


def test_manifest_lists_every_golden_file_and_covers_every_version_and_channel() -> None:
    stored = {p.name for p in GOLDEN.iterdir() if p.suffix in (".png", ".npz", ".jpg")}
    listed = [e["file"] for e in ENTRIES]
    assert sorted(listed) == sorted(stored)
    readable = {(e["magic"], e["channel"], e["keyed"]) for e in ENTRIES if e["readable_today"]}
    for magic, channel in [("SGN2", "flow-full"), ("SGN2", "flow-sparse"), ("SGN2", "robust"),
                           ("SGN3", "flow-sparse"), ("SGN4", "flow-sparse"),
                           ("SGN5", "adaptive"), ("SGN6", "jpeg"), ("SGN7", "jpeg")]:
        for keyed in (False, True):
            assert (magic, channel, keyed) in readable
    for entry in ENTRIES:
        assert entry["magic"] == f"SGN{entry['format_version']}"
        assert (entry["key"] is not None) == entry["keyed"]
        assert len(entry["commit"]) == 40
        _payload(entry)

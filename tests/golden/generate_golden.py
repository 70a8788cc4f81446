"""How the golden stegos in this folder were written (kept as a record; see README.md).

Never run this with today's stegnet to "refresh" the golden files: they pin what earlier
commits' writers produced. It only ever runs against an old checkout::

    git worktree add --detach /tmp/old-2ad1e68 2ad1e68
    OMP_NUM_THREADS=1 PYTHONPATH=/tmp/old-2ad1e68 python tests/golden/generate_golden.py \\
        /tmp/old-2ad1e68 OUTDIR flow-sparse:SGN4:128
    git worktree remove /tmp/old-2ad1e68

(the checkout's own ``weights/`` folder is used: leave ``$STEGNET_WEIGHTS`` unset).

A job is ``channel:MAGIC:side`` (channel: ``adaptive``, ``flow-full``, ``flow-sparse``,
``robust``) and writes two stegos: unkeyed with the text payload ``golden frame MAGIC
channel``, keyed (``golden-key``) with 100 pseudo-random bytes; ``channel:MAGIC:side:large``
writes one unkeyed stego of 1100 pseudo-random bytes on a flat-colour cover (a pixel frame
whose body code has over 2^20 columns). Each stego is saved as PNG, read back and decoded by
the same old checkout, whose Reed-Solomon header decoder is watched to record the magic it
found; ``records-<commit>.json`` in OUTDIR holds the manifest rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

import stegnet  # noqa: E402
from stegnet.payload import container  # noqa: E402

torch.set_num_threads(1)

KEY = "golden-key"
COVER = Path(__file__).resolve().parents[2] / "examples" / "cover.png"
FLAT = (118, 128, 140)
MODES = {"adaptive": "auto", "flow-full": "full", "flow-sparse": "sparse"}
HAS_API = (Path(stegnet.__file__).parent / "api.py").exists()

seen: list[bytes] = []
_decode_blocks = container._decode_blocks


def _spy(stream, rel, n_cw, d, p, *args, **kwargs):
    out = _decode_blocks(stream, rel, n_cw, d, p, *args, **kwargs)
    if out is not None and n_cw == 1 and d == container.HEADER_LEN and out[:3] == b"SGN":
        seen.append(bytes(out[:4]))
    return out


container._decode_blocks = _spy  # unpack looks it up in the module at call time


def cover_for(flat: bool, side: int) -> tuple[np.ndarray, str]:
    if flat:  # robust / large frames: a flat colour keeps the stego PNG small
        return np.tile(np.array(FLAT, np.uint8), (side, side, 1)), f"flat RGB {FLAT}"
    top, left = 128 - side // 2, 128 - side // 2  # around the dog's face
    img = np.asarray(Image.open(COVER).convert("RGB"))
    crop = np.ascontiguousarray(img[top : top + side, left : left + side])
    return crop, f"examples/cover.png[{top}:{top + side}, {left}:{left + side}]"


def embed(cover: np.ndarray, payload: bytes, key: str | None, channel: str) -> tuple:
    if HAS_API:
        from stegnet import api

        if channel == "robust":
            return (api.embed(cover, payload, key=key, robust=True).stego,
                    "api.embed(cover, payload, key=key, robust=True)")
        mode = MODES[channel]
        return (api.embed(cover, payload, key=key, mode=mode).stego,
                f"api.embed(cover, payload, key=key, mode={mode!r})")
    from stegnet import bits  # before stegnet.api existed

    mode = MODES[channel]
    key_bytes = None if key is None else key.encode()
    return (bits.embed(cover, payload, key_bytes, model=bits.load_model_default("cpu"),
                       mode=mode).stego,
            f"bits.embed(cover, payload, key_bytes, model=bits.load_model_default('cpu'), "
            f"mode={mode!r})")


def extract(stego: np.ndarray, key: str | None) -> bytes:
    if HAS_API:
        from stegnet import api

        return api.extract(stego, key=key)
    from stegnet import bits

    return bits.extract(stego, None if key is None else key.encode(),
                        model=bits.load_model_default("cpu"))


def main(checkout: str, outdir: str, jobs: list[str]) -> None:
    commit = subprocess.check_output(["git", "-C", checkout, "rev-parse", "HEAD"],
                                     text=True).strip()
    subject = subprocess.check_output(["git", "-C", checkout, "log", "-1", "--format=%s"],
                                      text=True).strip()
    records = []
    for job in jobs:
        channel, magic, side, *variant = job.split(":")
        large = variant == ["large"]
        cover, cover_text = cover_for(large or channel == "robust", int(side))
        for keyed in (False,) if large else (False, True):
            tag = f"{channel}-large" if large else channel
            name = f"{magic.lower()}-{tag}-{'keyed' if keyed else 'unkeyed'}-{commit[:7]}"
            seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
            if large:
                payload, kind = np.random.default_rng(seed).bytes(1100), "random-1100"
            elif keyed:
                payload, kind = np.random.default_rng(seed).bytes(100), "random-100"
            else:
                payload, kind = f"golden frame {magic} {channel}".encode(), "text"
            key = KEY if keyed else None
            stego, call = embed(cover, payload, key, channel)
            path = Path(outdir) / f"{name}.png"
            Image.fromarray(stego).save(path, "PNG", optimize=True)
            back = np.asarray(Image.open(path).convert("RGB"))
            assert np.array_equal(back, stego), name
            seen.clear()
            assert extract(back, key) == payload, name
            found = seen[-1].decode() if seen else None
            assert found == magic, (name, found)
            print(name, found, path.stat().st_size, "bytes", flush=True)
            records.append({
                "file": path.name, "kind": "image", "magic": found,
                "format_version": int(found[3]), "channel": tag, "keyed": keyed, "key": key,
                "payload_kind": kind, "payload_hex": payload.hex(),
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
                "commit": commit, "commit_subject": subject[:120],
                "made_by": f"{call} with the checkout of {commit[:7]} on PYTHONPATH and its "
                           f"own weights/; saved as PNG; read back and decoded by the same "
                           f"checkout, whose header decoder found {found}",
                "cover": cover_text, "width": int(stego.shape[1]),
                "height": int(stego.shape[0]), "bytes": path.stat().st_size,
            })
    out = Path(outdir) / f"records-{commit[:7]}.json"
    out.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])

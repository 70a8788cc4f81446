"""The robust-channel study: ``embed-bits --robust`` against watermarking peers, on the
same held-out photos through the same lossy channels.

Photos: the held-out side of the package split (:func:`split_by_package`), taken
round-robin over packages, resized to ~1 MP; plus one held-out photo upscaled to 24 MP
(stegnet only: timings and the same channels). Every odd photo is embedded with a key
(the AEAD path) and every even one without (the CRC path).

Per photo and channel: stegnet's payload (default 256 random bytes) must come back
byte-exact (a failure otherwise), and its raw bit-error rate before error correction is
recorded; a peer's bit accuracy and whether all its bits came back. Also checked: a wrong
key and the clean photo (and its JPEG) are rejected, never decoded to garbage.

Usage::

    python -m stegnet_research.robustbits run --data ../shared/data/train \\
        --out results/robust/heldout-1mp.json
    python -m stegnet_research.robustbits report --results results/robust/heldout-1mp.json \\
        --out results/robust
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from stegnet.channels import robust
from stegnet.channels.base import Report
from stegnet.color import delta_e00_rgb
from stegnet.errors import PayloadError, StegnetError
from stegnet.metrics import changed_pixels, psnr
from stegnet.payload import container
from stegnet_research import peers as peer_methods
from stegnet_research.data import load_megapixels, split_by_package, spread_over_packages
from stegnet_research.distortions import by_name, jpeg
from stegnet_research.distortions import long_side as _long_side

DEFAULT_CHANNELS = ("png,jpeg75,jpeg50,resize50,long1600,png-jpeg85-png,noise2,"
                    "resize50-jpeg75,jpeg30,resize25,resize50-jpeg50,noise5")
DEFAULT_PEERS = "dwtDct:32,rivaGan:32,blind-watermark:32,blind-watermark:2048"
STUDY_KEY = b"robust-study-key"


def read_back(received: np.ndarray, payload: bytes, key: bytes | None,
              report: Report, model) -> tuple[bool, str, float]:
    """Read a robust stego after a channel, in the layout it was written in: (payload back
    exactly, the error's class name or "", bit-error rate of the frame's channel bits
    before Reed-Solomon; 0.5 when no tile was found)."""
    if report.mode == "tiled":
        found = robust.read_tiled(received, model)
        if found is None:
            return False, "PayloadNotFound", 0.5
        bits, reliability, _ = found
    else:
        bits, reliability = robust.read_channel(received, model)
    ber = float((bits[report.details["positions"]] != report.details["frame_bits"]).mean())
    try:
        return container.unpack(bits, reliability, key) == payload, "", ber
    except PayloadError as failure:
        return False, type(failure).__name__, ber


def _ours(cover: np.ndarray, payload: bytes, key: bytes | None, model, channels: dict,
          layout: str = "whole") -> dict:
    started = time.perf_counter()
    report = robust.CHANNEL.embed(cover, payload, key, model, layout=layout)
    row = {"embed_seconds": round(time.perf_counter() - started, 3),
           "psnr": round(psnr(cover, report.stego), 3),
           "delta_e00_mean": round(float(delta_e00_rgb(cover, report.stego).mean()), 4),
           "changed_pixels": round(changed_pixels(cover, report.stego), 4),
           "keyed": key is not None, "channels": {}}
    for name, channel in channels.items():
        received = channel(report.stego)
        started = time.perf_counter()
        exact, error, ber = read_back(received, payload, key, report, model)
        row["channels"][name] = {"exact": exact, "error": error, "ber": round(ber, 5),
                                 "seconds": round(time.perf_counter() - started, 3)}
    row["wrong_key_rejected"] = _rejected(report.stego, b"not-the-key", model)
    row["clean_rejected"] = _rejected(cover, key, model) and _rejected(jpeg(cover, 75), key,
                                                                       model)
    return row


def _rejected(image: np.ndarray, key: bytes | None, model) -> bool:
    try:
        robust.extract(image, key, model)
    except StegnetError:
        return True
    return False


def _peer(peer: peer_methods.Peer, cover: np.ndarray, rng: np.random.Generator,
          channels: dict) -> dict:
    message = rng.integers(0, 2, peer.bits).astype(np.uint8)
    started = time.perf_counter()
    stego = peer_methods.embed(peer, cover, message)
    row = {"embed_seconds": round(time.perf_counter() - started, 3),
           "psnr": round(psnr(cover, stego), 3),
           "delta_e00_mean": round(float(delta_e00_rgb(cover, stego).mean()), 4),
           "channels": {}}
    for name, channel in channels.items():
        read = peer_methods.decode(peer, channel(stego), stego.shape)
        accuracy = float((read == message).mean())
        row["channels"][name] = {"bit_accuracy": round(accuracy, 5), "exact": accuracy == 1.0}
    return row


def _aggregate(rows: list[dict], ours: bool) -> dict:
    if not rows:
        return {}
    names = list(rows[0]["channels"])
    out = {"photos": len(rows),
           "psnr_mean": round(float(np.mean([r["psnr"] for r in rows])), 2),
           "psnr_min": round(float(np.min([r["psnr"] for r in rows])), 2),
           "delta_e00_mean": round(float(np.mean([r["delta_e00_mean"] for r in rows])), 3),
           "delta_e00_worst_photo": round(float(np.max([r["delta_e00_mean"] for r in rows])),
                                          3),
           "embed_seconds_mean": round(float(np.mean([r["embed_seconds"] for r in rows])), 3),
           "channels": {}}
    for name in names:
        cells = [r["channels"][name] for r in rows]
        entry = {"failures": sum(not c["exact"] for c in cells),
                 "failure_rate": round(sum(not c["exact"] for c in cells) / len(cells), 4)}
        if ours:
            entry["ber_mean"] = round(float(np.mean([c["ber"] for c in cells])), 5)
            entry["ber_max"] = round(float(np.max([c["ber"] for c in cells])), 5)
            entry["bit_accuracy_mean"] = round(1 - entry["ber_mean"], 5)
        else:
            entry["bit_accuracy_mean"] = round(float(np.mean([c["bit_accuracy"]
                                                              for c in cells])), 5)
            entry["bit_accuracy_min"] = round(float(np.min([c["bit_accuracy"]
                                                            for c in cells])), 5)
        out["channels"][name] = entry
    if ours:
        out["wrong_key_rejected"] = sum(r["wrong_key_rejected"] for r in rows)
        out["clean_rejected"] = sum(r["clean_rejected"] for r in rows)
        out["keyed_photos"] = sum(r["keyed"] for r in rows)
    return out


def run(data: str, out: Path, *, photos: int = 24, megapixels: float = 1.0,
        payload_bytes: int = 256, channel_names: str = DEFAULT_CHANNELS,
        peer_names: str = DEFAULT_PEERS, big_megapixels: float = 24.0,
        model: str | None = None, seed: int = 0, only: list[str] | None = None,
        layouts: str = "whole", long_side: int | None = None, say=print) -> dict:
    """Run the study (resumable: every finished photo and method is kept in
    ``OUT.rows.jsonl``). ``only``: measure just these methods now (``stegnet`` or a peer
    name); the JSON is written once every photo has every method."""
    from stegnet.zoo import load

    net = (load("robust", model)
           if only is None or any(m.startswith("stegnet") for m in only) else None)
    channels = by_name(channel_names)
    peers = [peer_methods.Peer(n, int(b)) for n, b in
             (p.split(":") for p in peer_names.split(",") if p)]
    missing = [p.name for p in peers if not peer_methods.available(p.name)]
    if missing:
        raise SystemExit(f"peers not installed: {missing} (pip install -e '.[peers]')")
    _, held_out = split_by_package(data)
    paths = spread_over_packages(held_out, photos)
    rows_path = out.with_suffix(".rows.jsonl")
    rows_path.parent.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, str], dict] = {}
    if rows_path.exists():
        for record in map(json.loads, rows_path.read_text().splitlines()):
            done[(record["photo"], record["method"])] = record
    ours = {("stegnet" if layout == "whole" and layouts == "whole" else f"stegnet-{layout}"):
            layout for layout in layouts.split(",")}
    methods = list(ours) + [f"{p.name}:{p.bits}" for p in peers]
    wanted = [m for m in methods if only is None or m.split(":")[0] in only]
    for index, path in enumerate(paths):
        cover = None
        for method in wanted:
            if (path.name, method) in done:
                continue
            if cover is None:
                cover = (load_megapixels(path, megapixels) if long_side is None else
                         _long_side(load_megapixels(path, 4.0), long_side))
            rng = np.random.default_rng([seed, index])
            if method in ours:
                key = STUDY_KEY if index % 2 else None
                row = _ours(cover, rng.bytes(payload_bytes), key, net, channels, ours[method])
            else:
                peer = peers[methods.index(method) - len(ours)]
                row = _peer(peer, cover, np.random.default_rng([seed, index, len(method)]),
                            channels)
            record = {"photo": path.name, "method": method, "width": cover.shape[1],
                      "height": cover.shape[0], **row}
            with rows_path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
            done[(path.name, method)] = record
            failed = [c for c, v in row["channels"].items() if not v["exact"]]
            say(f"{index + 1}/{len(paths)} {path.name} {method}: psnr {row['psnr']} dB, "
                f"failed channels {failed or 'none'}")
    if any((p.name, m) not in done for p in paths for m in methods):
        say(f"partial: rows kept in {rows_path}; run again without --only to finish")
        return {}
    net = net or load("robust", model)
    rows = [{m: done[(p.name, m)] for m in methods} for p in paths]
    big = None
    if big_megapixels:
        cover = load_megapixels(paths[0], big_megapixels)
        payload = np.random.default_rng([seed, 999]).bytes(payload_bytes)
        big = {"photo": paths[0].name, "width": cover.shape[1], "height": cover.shape[0],
               **_ours(cover, payload, None, net, channels, layouts.split(",")[0])}
        say(f"24 MP: embed {big['embed_seconds']} s, psnr {big['psnr']} dB")
    result = {
        "study": "robust channel vs watermarking peers",
        "dataset": (f"held-out packages, {len(rows)} photos resized to "
                    + (f"~{megapixels} MP" if long_side is None else
                       f"{long_side} px on the long side")),
        "layouts": ours,
        "split": "package split (stegnet_research.data.split_by_package)",
        "model": net.name, "payload_bytes": payload_bytes,
        "capacity_bytes": {"unkeyed": robust.capacity_bytes(net, False, next(iter(ours.values()))),
                           "keyed": robust.capacity_bytes(net, True, next(iter(ours.values())))},
        "capacity_bytes_by_layout": {layout: {"unkeyed": robust.capacity_bytes(net, False, layout),
                                              "keyed": robust.capacity_bytes(net, True, layout)}
                                     for layout in ours.values()},
        "channels": list(channels), "peers": [f"{p.name}:{p.bits}" for p in peers],
        "peer_note": "peers get the received photo resized back to the stego's size",
        "aggregate": {m: _aggregate([r[m] for r in rows], m in ours) for m in methods},
        "big": big, "per_photo": rows,
        "command": "python -m stegnet_research.robustbits run --data " + data + (
            "" if layouts == "whole" else f" --layouts {layouts}") + (
            "" if long_side is None else f" --long-side {long_side}"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run", help="run (or resume) the study")
    go.add_argument("--data", default="../shared/data/train")
    go.add_argument("--out", type=Path, default=Path("results/robust/heldout-1mp.json"))
    go.add_argument("--photos", type=int, default=24)
    go.add_argument("--megapixels", type=float, default=1.0)
    go.add_argument("--payload-bytes", type=int, default=256)
    go.add_argument("--channels", default=DEFAULT_CHANNELS)
    go.add_argument("--peers", default=DEFAULT_PEERS)
    go.add_argument("--big-megapixels", type=float, default=24.0)
    go.add_argument("--model", default=None)
    go.add_argument("--only", default=None, help="comma-separated methods to measure now")
    go.add_argument("--layouts", default="whole",
                    help="robust layouts measured side by side (tiled,whole)")
    go.add_argument("--long-side", type=int, default=None,
                    help="resize photos to this long side instead of --megapixels")
    report = sub.add_parser("report", help="markdown table and figure from a results JSON")
    report.add_argument("--results", type=Path, default=Path("results/robust/heldout-1mp.json"))
    report.add_argument("--out", type=Path, default=Path("results/robust"))
    report.add_argument("--name", default="robust", help="file stem of the table and figure")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.data, args.out, photos=args.photos, megapixels=args.megapixels,
            payload_bytes=args.payload_bytes, channel_names=args.channels,
            peer_names=args.peers, big_megapixels=args.big_megapixels, model=args.model,
            only=args.only.split(",") if args.only else None, layouts=args.layouts,
            long_side=args.long_side)
    else:
        from stegnet_research.robustreport import write_report

        write_report(json.loads(args.results.read_text()), args.out, args.name)


if __name__ == "__main__":
    main()

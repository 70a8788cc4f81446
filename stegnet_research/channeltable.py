"""The README's "Which channel?" table, generated from ``results/`` (no number typed by hand).

One row per channel of :data:`stegnet.channels.ORDER`, the default first: where the bytes go
(the channel's own ``summary``), the measured capacity, what the stego survives (the robust
channel: the lossy paths of its study with no failure) and how detectable it is (the best
detector's held-out accuracy from the detection studies; 50% = chance). A channel whose
study has not been run says so. :func:`channel_table` is called by
:func:`stegnet_research.cards.update_readme` for the ``<!-- channels:start -->`` / ``<!--
channels:end -->`` markers.
"""

from __future__ import annotations

import json
from pathlib import Path


def _shown() -> tuple[str, ...]:
    from stegnet.channels import DEFAULT, ORDER

    return (DEFAULT, *(name for name in ORDER if name != DEFAULT))


SHOWN = _shown()
"""The README's row order: the default channel first, then the registry's order."""

PIXEL_RD = Path("rate-distortion") / "heldout-package-256.json"
PIXEL_512 = Path("adaptive") / "heldout-package-512.json"
DETECTION = Path("detection-vs-payload") / "v8.json"  # pixel channel ("bits") vs HILL
FLOW_DETECTION = Path("detection-vs-payload") / "v4.json"  # the flow ("bits" then)
FLOW_BITS = Path("cinn-s6") / "heldout-512.json"
ROBUST = Path("robust") / "heldout-1mp.json"
ROBUST_TILED = Path("robust") / "heldout-1600-tiled.json"
JPEG_ROUND_TRIPS = Path("jpeg") / "heldout-package-768.json"
JPEG_DETECTION = Path("jpeg-detection") / "results.json"
CNNS = ("strong", "xunet")


def _load(results: Path, relative: Path) -> dict | None:
    path = results / relative
    return json.loads(path.read_text()) if path.exists() else None


def _best_cnn(entry: dict) -> float:
    return max(entry["detectors"][d]["accuracy"] for d in CNNS if d in entry["detectors"])


def _by_rate(study: dict, method: str) -> dict[float, float]:
    """{rate: best CNN accuracy} of ``method`` (capacity excluded)."""
    rates = [float(r) for r in study["settings"]["rates"]]
    out = {}
    for kind, entry in study["results"][method].items():
        if kind.endswith("capacity"):
            continue
        rate = min(rates, key=lambda r: abs(r - entry["net_bpp"]))
        out[rate] = _best_cnn(entry)
    return out


def _pct(values: list[float]) -> str:
    return " / ".join(f"{100 * v:.0f}%" for v in values)


def pixel_row(results: Path) -> list[str]:
    rd, big, study = (_load(results, p) for p in (PIXEL_RD, PIXEL_512, DETECTION))
    capacity = "n/a"
    if rd and big:
        at256 = next(p for p in rd["curve"] if p["rate"] == "capacity")["net_bpp"]["mean"]
        capacity = (f"{big['aggregate']['net_bpp']['mean']:.1f} bit/pixel at 512 px "
                    f"({at256:.1f} at 256 px), exact")
    detect = "not measured"
    if study:
        ours, hill = _by_rate(study, "bits"), _by_rate(study, "hill")
        rates = [r for r in sorted(ours) if r in hill and r <= 0.2]
        cap = next(v for k, v in study["results"]["bits"].items() if k.endswith("capacity"))
        detect = (f"the better of two CNNs catches it {_pct([ours[r] for r in rates])} of the "
                  f"time at {' / '.join(f'{r:g}' for r in rates)} bit/pixel (simulated HILL: "
                  f"{_pct([hill[r] for r in rates])}; 50% = chance); "
                  f"{_pct([ours[r] for r in sorted(ours) if r > 0.2])} at "
                  f"{' / '.join(f'{r:g}' for r in sorted(ours) if r > 0.2)}, "
                  f"{_pct([_best_cnn(cap)])} at capacity")
    return ["`pixel` (default for PNG)", capacity, detect, ""]


def jpeg_row(results: Path) -> list[str]:
    trips, study = _load(results, JPEG_ROUND_TRIPS), _load(results, JPEG_DETECTION)
    capacity = "up to 0.5 bit per non-zero AC coefficient"
    if trips:
        agg = trips["aggregate"]
        capacity += (f"; {agg['round_trips'] - agg['failures']} of {agg['round_trips']} "
                     f"round trips exact ({agg['photos']} photos, q"
                     f"{' / '.join(str(q) for q in trips['qualities'])}); stego file size "
                     f"{_size_range(trips, False)} of the cover's when baseline, "
                     f"{_size_range(trips, True)} when progressive (re-encoded)")
    detect = "not measured yet: its detection study has not been run"
    if study:
        detect = _jpeg_detectability(study)
    return ["`jpeg` (default for `.jpg` output)", capacity, detect, ""]


def _jpeg_detectability(study: dict) -> str:
    """DCTR accuracy of the channel against the J-UNIWARD simulator per quality and payload,
    and the RJCA statistic at q95 (the study's ``comparison`` and ``results``)."""
    parts = []
    rates = study["settings"]["rates"]
    for quality in study["settings"]["qualities"]:
        points = [study["comparison"]["points"][f"q{quality}/{rate:g}"] for rate in rates]
        parts.append(f"q{quality}: {_pct([p['stegnet_jpeg'] for p in points])} (J-UNIWARD "
                     f"simulator {_pct([p['juniward'] for p in points])})")
    q95 = study["results"].get("q95", {})
    rjca = [q95.get(m, {}).get(f"{rate:g}", {}).get("detectors", {}).get("rjca")
            for m in ("stegnet-jpeg", "juniward") for rate in rates]
    text = (f"DCTR with a linear classifier at {' / '.join(f'{r:g}' for r in rates)} bpnzAC: "
            + "; ".join(parts))
    if all(rjca):
        half = len(rates)
        text += (f"; a reverse JPEG-compatibility statistic at q95: "
                 f"{_pct([r['accuracy'] for r in rjca[:half]])} (J-UNIWARD "
                 f"{_pct([r['accuracy'] for r in rjca[half:]])}); no CNN yet")
    return text


def _size_range(trips: dict, progressive: bool) -> str:
    ratios = [r["size_ratio"] for r in trips["per_image"]
              if "size_ratio" in r and r["progressive"] == progressive]
    return f"{100 * (min(ratios) - 1):+.1f}% to {100 * (max(ratios) - 1):+.1f}%"


def robust_row(results: Path) -> list[str]:
    tiled = _load(results, ROBUST_TILED)
    if tiled:
        return _robust_tiled_row(tiled)
    study = _load(results, ROBUST)
    if not study:
        return ["`robust`", "n/a", "not studied", ""]
    ours = study["aggregate"]["stegnet"]
    cap = study["capacity_bytes"]
    kept = [name for name, c in ours["channels"].items() if c["failures"] == 0]
    lost = [name for name, c in ours["channels"].items() if c["failures"]]
    return ["`robust`",
            f"{cap['unkeyed']} bytes ({cap['keyed']} with a key) at any size of at least "
            f"512 px on the short side; {ours['psnr_mean']:.1f} dB",
            "not studied (made to survive, not to hide)",
            f"; in its study every photo came back exact after {', '.join(kept)}; lost "
            f"after {', '.join(lost) or 'none'}"]


def _robust_tiled_row(study: dict) -> list[str]:
    caps = study["capacity_bytes_by_layout"]
    photos = study["aggregate"]["stegnet-whole"]["photos"]

    def survived(method: str) -> str:
        channels = study["aggregate"][method]["channels"]
        kept = [name for name, c in channels.items() if c["failures"] == 0]
        lost = [f"{name} {photos - c['failures']}/{photos}"
                for name, c in channels.items() if c["failures"]]
        return f"all exact after {', '.join(kept)}; exact after {', '.join(lost) or 'none'}"

    whole, tiled = study["aggregate"]["stegnet-whole"], study["aggregate"]["stegnet-tiled"]
    capacity = (f"{caps['whole']['unkeyed']} bytes ({caps['whole']['keyed']} with a key) "
                f"from 512 px on the short side, {whole['psnr_mean']:.1f} dB; "
                f"`--layout tiled`: {caps['tiled']['unkeyed']} ({caps['tiled']['keyed']}) "
                f"bytes from 256 px, {tiled['psnr_mean']:.1f} dB (at "
                f"{study['payload_bytes']} bytes)")
    return ["`robust`", capacity, "not studied (made to survive, not to hide)",
            f"; in its study ({photos} photos at 1600 px; `-msg` = then 1280 px + JPEG 80), "
            f"whole: {survived('stegnet-whole')}. Tiled: {survived('stegnet-tiled')}"]


def flow_row(results: Path) -> list[str]:
    bits, study = _load(results, FLOW_BITS), _load(results, FLOW_DETECTION)
    capacity = (f"{bits['aggregate']['net_bpp']['mean']:.2f} bit/pixel at 512 px (measured "
                f"per photo)" if bits else "n/a")
    detect = "not measured"
    if study:
        found = _by_rate(study, "bits")
        rate = min(found, key=lambda r: abs(r - 0.05))
        detect = (f"the most detectable: a CNN catches it {_pct([found[rate]])} of the time "
                  f"at {rate:g} bit/pixel")
    return ["`flow`", capacity, detect, ""]


ROWS = {"pixel": pixel_row, "jpeg": jpeg_row, "robust": robust_row, "flow": flow_row}


def channel_table(results: Path) -> str:
    """The markdown table (header included) of :data:`SHOWN`, from ``results``."""
    from stegnet.channels import get

    lines = ["| channel | where the bytes go | capacity (measured) | survives | how "
             "detectable (held-out) |", "|---|---|---|---|---|"]
    for name in SHOWN:
        channel = get(name)
        label, capacity, detect, measured = ROWS[name](results)
        lines.append(f"| {label} | {channel.summary} | {capacity} | {channel.survives}"
                     f"{measured} | {detect} |")
    return "\n".join(lines) + "\n"


def jpeg_round_trip_table(results: Path) -> str:
    """docs/results.md: the jpeg channel's round trips per quality and JPEG mode (exact
    payloads, rejected wrong keys and clean covers, metadata kept, file size, time)."""
    trips = _load(results, JPEG_ROUND_TRIPS)
    if not trips:
        return ""
    rows = trips["per_image"]
    lines = ["| quality | mode | round trips | exact | wrong key rejected | clean cover "
             "rejected | EXIF / comment kept | stego / cover file size | embed + write (s, "
             "mean) |", "|---|---|---|---|---|---|---|---|---|"]
    for quality in trips["qualities"]:
        for progressive in (False, True):
            group = [r for r in rows if r["quality"] == quality
                     and r["progressive"] == progressive]
            done = [r for r in group if "keyed" in r]
            keyed = [r for r in done if "wrong_key_rejected" in r]
            clean = [r for r in group if "clean_rejected" in r]
            ratios = [r["size_ratio"] for r in done]
            seconds = sum(r["embed_seconds"] for r in done) / max(1, len(done))
            lines.append(
                f"| {quality} | {'progressive' if progressive else 'baseline'} | {len(done)} | "
                f"{sum(r['ok'] for r in done)} | "
                f"{sum(r['wrong_key_rejected'] for r in keyed)}/{len(keyed)} | "
                f"{sum(r['clean_rejected'] for r in clean)}/{len(clean)} | "
                f"{sum(r['metadata_kept'] for r in done)}/{len(done)} | "
                f"{min(ratios):.3f} to {max(ratios):.3f} | {seconds:.2f} |")
    return "\n".join(lines) + "\n"

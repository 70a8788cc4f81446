"""The image and inspection commands: hide, reveal, compare, analyze, models (the byte
commands are in :mod:`stegnet.cli.bytes_commands`). Each parses its options, calls
:mod:`stegnet.api` (files through :mod:`stegnet.imageio`, folders through
:mod:`stegnet.batch`) and prints.

Imports of the library happen inside the commands: ``stegnet --help`` must not load torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from stegnet.cli.common import (
    DeviceOpt,
    ForceOpt,
    JobsOpt,
    JsonOpt,
    KeyFileOpt,
    KeyOpt,
    ModelOpt,
    PrecisionOpt,
    QuietOpt,
    emit_json,
    errors,
    run_files,
    stderr,
)
from stegnet.device import resolve_precision
from stegnet.errors import UsageError

app = typer.Typer()  # hide, reveal
inspect_app = typer.Typer()  # compare, analyze, models (listed after the byte commands)


def _elapsed(started: float) -> float:
    return time.perf_counter() - started


# ---------------------------------------------------------------- hide / reveal
@app.command(epilog=(
    "Examples: stegnet hide cover.png secret.jpg -o stego.png\n"
    "stegnet hide covers/ secret.png -o stegos/ --jobs 2   (every image of a folder)"))
def hide(
    cover: Annotated[str, typer.Argument(help="Cover photo (>= 64x64), - for stdin, or a "
                                         "folder of covers.")],
    secret: Annotated[str, typer.Argument(help="Image to hide (fitted to the cover).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Stego PNG to write (- for "
                                        "stdout), or a folder in folder mode.")],
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    precision: PrecisionOpt = "auto",
) -> None:
    """Hide SECRET inside COVER and write the stego image as PNG.

    The secret is resized (aspect ratio kept) to fit the cover and centred on black;
    `stegnet reveal` gives back that canvas at the cover's size. With a key the secret's
    32x32 tiles are shuffled and turned by the key before hiding: reveal without the same
    key gives a puzzle of tiles (the default model, trained for it, loses ~1 dB).
    """
    with errors():
        from stegnet import api, batch
        from stegnet.imageio import load_rgb, save_png
        from stegnet.keys import read_key

        if cover == "-" and secret == "-":
            raise UsageError("only one input can be read from stdin")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the stego to a file with -o")
        plan = batch.plan(cover, output, inputs=[secret], force=force)
        key_bytes = read_key(key, key_file)
        secret_img = load_rgb(secret)
        net = api.load_model("hide", model, device)
        working = resolve_precision(precision, net.device)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            stego = api.hide(source, secret_img, key=key_bytes, model=net, progress=progress,
                             precision=working)
            save_png(stego, target, force=force)
            seconds = _elapsed(started)
            return {"command": "hide", "cover": source, "secret": secret, "stego": target,
                    "width": stego.shape[1], "height": stego.shape[0],
                    "keyed": key_bytes is not None, "model": net.name,
                    "device": net.device, "precision": working, "seconds": round(seconds, 3),
                    "message": f"wrote {target} ({stego.shape[1]}x{stego.shape[0]}, model "
                               f"{net.name}, {seconds:.2f} s)"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="hiding")


def _default_reveal_path(stego: str) -> str:
    if stego == "-":
        raise UsageError("reading the stego from stdin needs -o (a file or - for stdout)")
    path = Path(stego)
    return str(path.with_name(f"{path.stem}.revealed.png"))


@app.command(epilog=(
    "Examples: stegnet reveal stego.png -o secret.png\n"
    "stegnet reveal stegos/ -o revealed/   (every image of a folder)"))
def reveal(
    stego: Annotated[str, typer.Argument(help="Stego PNG written by `stegnet hide`, - for "
                                         "stdin, or a folder.")],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Where to write (default: STEGO.revealed.png; "
                     "- for stdout; a folder in folder mode)."),
    ] = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    anyway: Annotated[
        bool, typer.Option("--anyway", help="Skip the check for a hidden image and write what "
                           "the network reveals even from a clean photo (a grey ghost).")
    ] = False,
    precision: PrecisionOpt = "auto",
) -> None:
    """Recover the hidden image from STEGO (an image of the stego's size).

    First checks that STEGO carries an image hidden by `stegnet hide` (the shipped CNN
    steganalyser plus a statistic of the colour noise; see docs/design.md): if not, it says
    "no hidden image found", writes nothing and exits with code 3 (--anyway skips the
    check). A stego written with --key needs the same key; any other key gives a
    puzzle of shuffled tiles.
    """
    with errors():
        from stegnet import api, batch
        from stegnet.imageio import save_png
        from stegnet.keys import read_key

        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the image to a file with -o")
        plan = batch.plan(stego, output, default=_default_reveal_path, force=force)
        key_bytes = read_key(key, key_file)
        net = api.load_model("hide", model, device)
        working = resolve_precision(precision, net.device)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            found = api.reveal(source, key=key_bytes, model=net, check=not anyway,
                               progress=progress, label=source, precision=working)
            save_png(found.image, target, force=force)
            seconds = _elapsed(started)
            height, width = found.image.shape[:2]
            return {"command": "reveal", "stego": source, "output": target,
                    "width": width, "height": height,
                    "keyed": key_bytes is not None, "model": net.name,
                    "detection": found.detection.to_dict() if found.detection else None,
                    "device": net.device, "precision": working, "seconds": round(seconds, 3),
                    "message": f"wrote {target} ({width}x{height}, {seconds:.2f} s)"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="revealing")


# ---------------------------------------------------------------- measuring
@inspect_app.command(epilog="Example: stegnet compare cover.png stego.png --json")
def compare(
    reference: Annotated[str, typer.Argument(help="Reference image (e.g. the cover).")],
    test: Annotated[str, typer.Argument(help="Image to compare (e.g. the stego).")],
    json_out: JsonOpt = False,
) -> None:
    """Print PSNR, SSIM and CIEDE2000 between two images of the same size."""
    with errors():
        from stegnet import api

        record = api.compare(reference, test)
        if json_out:
            emit_json({"reference": reference, "test": test, **record})
        else:
            print(f"PSNR {record['psnr']:.2f} dB  SSIM {record['ssim']:.4f}  "
                  f"dE00 mean {record['delta_e00_mean']:.2f} max {record['delta_e00_max']:.2f}")


@inspect_app.command(epilog="Example: stegnet analyze suspect.png other.png --json")
def analyze(
    images: Annotated[list[str], typer.Argument(help="Images to analyse.")],
    learned_detectors: Annotated[
        bool, typer.Option("--learned/--classic-only",
                           help="Also run the shipped CNN steganalysers (weights/detectors).")
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Steganalysis of each image: classic detectors and the shipped CNN detectors.

    chi_square_p is the probability of LSB replacement; rs_rate and spa_rate estimate
    the fraction of samples carrying LSB-replaced bits (about 0 for clean photos);
    cnn_METHOD is a trained CNN's probability that the image is a stego of METHOD
    (hide, flow-full, flow-half, lsb-full, lsb-half; see docs/results.md for their
    accuracy). No shipped detector was trained on the other byte channels (it says which):
    a low score says nothing about them.
    """
    with errors():
        from stegnet import api
        from stegnet.analysis import channels_without_detector
        from stegnet.imageio import load_rgb

        blind = channels_without_detector() if learned_detectors else []
        if blind:
            stderr(f"note: no shipped detector sees the {', '.join(blind)} channel"
                   f"{'s' if len(blind) > 1 else ''}: a low score says nothing about "
                   f"{'them' if len(blind) > 1 else 'it'}", json_out)
        for path in images:
            image = load_rgb(path)
            stats = api.analyze(image, learned=learned_detectors)
            if learned_detectors and min(image.shape[:2]) < 32:
                stderr(f"{path}: smaller than 32x32, CNN detectors skipped", False)
            stats = {k: round(v, 4) for k, v in stats.items()}
            if json_out:
                emit_json({"image": path, **stats, "channels_without_detector": blind})
            else:
                print(f"{path}: " + "  ".join(f"{k}={v}" for k, v in stats.items()))


# ---------------------------------------------------------------- models
@inspect_app.command()
def models(json_out: JsonOpt = False) -> None:
    """List the shipped models and the metrics measured on their cards."""
    with errors():
        from stegnet.zoo import list_models

        entries = [m for m in list_models() if m.task != "detect"]
        detectors = [m.card for m in list_models("detect")]
        if json_out:
            emit_json({"models": [{"name": m.name, "task": m.task, **m.card} for m in entries],
                       "detectors": detectors})
            return
        for info in entries:
            default = " (default)" if info.card.get("default") else ""
            metrics = ", ".join(f"{k}={v}" for k, v in info.metrics.items()
                                if isinstance(v, (int, float)))
            print(f"{info.task:6s} {info.name}{default}: {info.card.get('summary', '')}")
            if metrics:
                print(f"      {metrics}")
        for card in detectors:
            held = card.get("heldout", {})
            scores = (f"; held-out accuracy {held['accuracy']:.3f}, AUC {held['auc']:.3f}"
                      if "accuracy" in held and "auc" in held else "")
            print(f"detect {card.get('name')}: CNN steganalyser for {card.get('method')} "
                  f"stego{scores}")

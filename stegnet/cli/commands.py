"""The user commands: hide, reveal, embed-bits, extract-bits, capacity, compare, analyze,
models. Each parses its options, calls :mod:`stegnet.api` (files through
:mod:`stegnet.imageio`, folders through :mod:`stegnet.batch`) and prints.

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
    ModeOpt,
    PrecisionOpt,
    QuietOpt,
    RobustOpt,
    TemperatureOpt,
    emit_json,
    errors,
    run_files,
    stderr,
)
from stegnet.device import resolve_precision
from stegnet.errors import UsageError

app = typer.Typer()


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
    steganalyser plus a statistic of the colour noise; see the README): if not, it says
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


# ---------------------------------------------------------------- bytes
@app.command("embed-bits", epilog=(
    "Examples: stegnet embed-bits cover.png notes.pdf -o stego.png --key-file k.txt\n"
    "cat data.bin | stegnet embed-bits cover.png - -o stego.png\n"
    "stegnet embed-bits covers/ notes.txt -o stegos/   (same payload into every image)"))
def embed_bits(
    cover: Annotated[str, typer.Argument(help="Cover photo, - for stdin, or a folder.")],
    payload: Annotated[
        str | None, typer.Argument(help="File to hide, or - for stdin.")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Stego PNG to write (a folder "
                                        "in folder mode).")] = "",
    text: Annotated[str | None, typer.Option("--text", help="Hide this text instead.")] = None,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    temperature: TemperatureOpt = 0.6,
    allow_grey: Annotated[
        bool, typer.Option("--allow-grey", help="Embed even in a grey-scale cover (refused by "
                           "default: the stego would come out visibly colourful).")
    ] = False,
    mode: ModeOpt = "auto",
    robust: RobustOpt = False,
) -> None:
    """Hide any bytes in COVER (bit-exact from the saved PNG).

    By default each change is +-1 on one colour sample, placed where texture masks it
    (syndrome-trellis coding: several payload bits per change); a 1 KiB payload in a
    512x512 photo changes about 0.2% of the samples. --mode flow/sparse/full use the
    colour flow instead (more detectable; see the README).

    --robust uses the robust channel instead: a few hundred bytes (see `stegnet capacity
    --robust`) in the luminance of the photo that survive JPEG re-compression (quality 50
    and up), resizing the whole photo (to half size and up) and noise; not cropping or
    rotation.

    With a key the payload is encrypted and authenticated (scrypt + ChaCha20-Poly1305)
    and the key also decides which positions carry which bits. Grey-scale covers are
    refused unless --allow-grey is given.
    """
    with errors():
        from stegnet import api, batch, bits
        from stegnet.imageio import read_bytes, save_png
        from stegnet.keys import read_key

        if not output:
            raise UsageError("missing option -o/--output (the stego PNG to write)")
        if (payload is None) == (text is None):
            raise UsageError("give exactly one of PAYLOAD (file or -) and --text")
        if cover == "-" and payload == "-":
            raise UsageError("only one input can be read from stdin")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the stego to a file with -o")
        bits.check_temperature(temperature)
        uses_model = _uses_model(mode, robust, model)
        plan = batch.plan(cover, output, inputs=[payload], force=force)
        key_bytes = read_key(key, key_file)
        data = text.encode("utf-8") if text is not None else read_bytes(payload)
        flow = api.load_model("robust" if robust else "bits", model, device) if uses_model \
            else None

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            done = api.embed(source, data, key=key_bytes, model=flow, mode=mode,
                             temperature=temperature, allow_grey=allow_grey,
                             progress=progress, label=source, robust=robust)
            save_png(done.stego, target, force=force)
            seconds, report = _elapsed(started), done.report
            return {"command": "embed-bits", "cover": source, "stego": target,
                    "payload_bytes": len(data), "capacity_bytes": done.capacity_bytes,
                    "mode": report.mode, "changed_pixels": round(done.changed_pixels, 6),
                    "channel_bits": report.channel_bits, "raw_ber": round(report.raw_ber, 6),
                    "keyed": key_bytes is not None, "model": flow.name if flow else "hill-stc",
                    "device": flow.device if flow else "cpu", "seconds": round(seconds, 3),
                    "message": f"wrote {target}: {len(data)} of {done.capacity_bytes} bytes "
                               f"({report.mode}, {done.changed_pixels:.1%} of pixels changed"
                               + (")" if flow is None else
                                  f"), raw bit errors {report.raw_ber:.2%} (corrected by ECC)")
                               + f", {seconds:.2f} s"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="embedding")


@app.command("extract-bits", epilog=(
    "Examples: stegnet extract-bits stego.png -o notes.pdf --key-file k.txt\n"
    "stegnet extract-bits stego.png -o - | sha256sum\n"
    "stegnet extract-bits stegos/ -o payloads/   (writes payloads/NAME.bin)"))
def extract_bits(
    stego: Annotated[str, typer.Argument(help="Stego PNG written by embed-bits, - for stdin, "
                                         "or a folder.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, - for stdout, or a folder "
                          "in folder mode.")
    ] = "",
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    robust: Annotated[
        bool, typer.Option("--robust", help="Read only the robust channel (embed-bits "
                           "--robust); by default the robust channel is tried first, then "
                           "the standard one.")
    ] = False,
) -> None:
    """Recover the bytes hidden by embed-bits; fails cleanly, never returns garbage.

    Works on the stego as written and, for a --robust stego, also after JPEG
    re-compression, resizing or noise.
    """
    with errors():
        import hashlib

        from stegnet import api, batch
        from stegnet.fileio import write_bytes
        from stegnet.keys import read_key

        if not output:
            raise UsageError("missing option -o/--output (a file, or - for stdout)")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the payload to a file with -o")
        plan = batch.plan(stego, output, suffix=".bin", force=force, png=False)
        key_bytes = read_key(key, key_file)
        net = api.load_model("robust" if robust else "bits", model, device)
        if not robust:
            api.load_model("robust", None, device)  # a broken install fails before any work

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            found = api.extract_found(source, key=key_bytes, model=net,
                                      robust=True if robust else None, device=net.device)
            data = found.payload
            write_bytes(data, target, force=force)
            seconds = _elapsed(started)
            return {"command": "extract-bits", "stego": source, "output": target,
                    "payload_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "channel": found.channel, "keyed": key_bytes is not None,
                    "model": found.model, "device": net.device, "seconds": round(seconds, 3),
                    "message": f"recovered {len(data)} bytes from the {found.channel} channel "
                               f"-> {target} ({seconds:.2f} s)"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="extracting")


@app.command(epilog="Example: stegnet capacity cover.png --json")
def capacity(
    cover: Annotated[str, typer.Argument(help="Cover photo.")],
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    nominal: Annotated[
        bool, typer.Option("--nominal", help="Skip the trial embedding: the size-only figure "
                           "for the weakest error correction (may not fit hard covers).")
    ] = False,
    temperature: TemperatureOpt = 0.6,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    robust: RobustOpt = False,
    mode: ModeOpt = "auto",
) -> None:
    """Print how many payload bytes COVER carries reliably (after framing and ECC).

    The default (adaptive) channel is exact: its capacity depends only on the size
    (about 2.8 bit/pixel; far below that, up to ~0.05 bit/pixel, is where it conceals).
    With --robust: the robust channel's capacity, the same for every photo of at least
    512 px on the short side.

    --mode flow/sparse/full: a trial embedding measures how well this photo keeps the
    colour flow's bits and picks the weakest error correction that still decodes (hard
    covers get stronger ECC and less room); --nominal skips it (size-only figure).
    """
    with errors():
        from stegnet import api
        from stegnet.keys import read_key
        from stegnet.zoo import get_model_info

        uses_model = _uses_model(mode, robust, model)
        task = "robust" if robust else "bits"
        name = get_model_info(task, model).name if uses_model else "hill-stc"
        keyed = read_key(key, key_file) is not None
        cap = api.capacity(cover, keyed=keyed, model=model, device=device,
                           measured=not nominal, temperature=temperature, robust=robust,
                           mode=mode)
        note = ""
        if cap.measured and cap.capacity_bytes == 0:
            note = (" (a trial embedding did not decode with any error correction that "
                    "fits: a hard cover, e.g. large saturated or flat areas)")
        record = {"cover": cover, "width": cap.width, "height": cap.height,
                  "capacity_bytes": cap.capacity_bytes,
                  "nominal_capacity_bytes": cap.nominal_capacity_bytes,
                  "bits_per_pixel": cap.bits_per_pixel, "keyed": keyed,
                  "measured": cap.measured,
                  "channel": task.replace("bits", "standard") if uses_model else "adaptive",
                  "model": name}
        if json_out:
            emit_json(record)
        else:
            print(cap.capacity_bytes)
            stderr(f"{cover}: {cap.capacity_bytes} bytes ({cap.bits_per_pixel} bit/pixel)"
                   f"{note}", quiet)


# ---------------------------------------------------------------- measuring
@app.command(epilog="Example: stegnet compare cover.png stego.png --json")
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


@app.command(epilog="Example: stegnet analyze suspect.png other.png --json")
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
    (hide, bits-full, ..., lsb-full; see results/steganalysis for their accuracy).
    """
    with errors():
        from stegnet import api
        from stegnet.imageio import load_rgb

        for path in images:
            image = load_rgb(path)
            stats = api.analyze(image, learned=learned_detectors)
            if learned_detectors and min(image.shape[:2]) < 32:
                stderr(f"{path}: smaller than 32x32, CNN detectors skipped", False)
            stats = {k: round(v, 4) for k, v in stats.items()}
            if json_out:
                emit_json({"image": path, **stats})
            else:
                print(f"{path}: " + "  ".join(f"{k}={v}" for k, v in stats.items()))


# ---------------------------------------------------------------- models
@app.command()
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


def _uses_model(mode: str, robust: bool, model: str | None) -> bool:
    """Whether embed-bits / capacity in ``mode`` run a network (the robust channel or the
    colour flow); UsageError for a bad mode, --mode with --robust, or --model with the
    default (adaptive) mode, which uses none (a bad model name is reported first)."""
    from stegnet import bits

    bits.check_mode(mode)
    if robust and mode != "auto":
        raise UsageError("--mode applies to the standard channel, not to --robust")
    uses_model = robust or mode in bits.FLOW_MODES
    if model is not None and not uses_model:
        from stegnet.zoo import get_model_info

        get_model_info("bits", model)  # a bad name says so first
        raise UsageError("--model names a colour flow: use it with --mode flow, sparse or "
                         "full (the default adaptive mode uses no network)")
    return uses_model

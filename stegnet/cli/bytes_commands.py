"""The byte commands: embed-bits, extract-bits, capacity. Each parses its options, calls
:mod:`stegnet.api` with a channel name (:mod:`stegnet.channels`) and prints.

Options that belong to one channel (``--flow-mode``, ``--temperature``, ``--allow-grey``,
``--quality``, ``--nominal``) default to None here, so that only what the user gives is
passed on, and the API refuses an option given to a channel that does not take it.
``--mode`` and ``--robust`` are the former spellings of ``--channel``: they still work and
print a deprecation line.

Imports of the library happen inside the commands: ``stegnet --help`` must not load torch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from stegnet.channels.registry import DEFAULT, ORDER
from stegnet.cli.common import (
    DeviceOpt,
    ForceOpt,
    JobsOpt,
    JsonOpt,
    KeyFileOpt,
    KeyOpt,
    ModelOpt,
    QuietOpt,
    emit_json,
    errors,
    run_files,
    stderr,
)
from stegnet.errors import UsageError

app = typer.Typer()

JPEG_SUFFIXES = (".jpg", ".jpeg")
_NAMES = ", ".join(ORDER)

ChannelOpt = Annotated[str | None, typer.Option(
    "--channel", "-c", metavar="NAME",
    help=f"Where the bytes go: {_NAMES} (see the README's channel table).")]
ModeOpt = Annotated[str | None, typer.Option(
    "--mode", hidden=True, help="Deprecated: --channel pixel (auto, adaptive) or --channel "
    "flow (flow, sparse, full = --flow-mode).")]
RobustOpt = Annotated[bool, typer.Option(
    "--robust", hidden=True, help="Deprecated: --channel robust.")]
FlowModeOpt = Annotated[str | None, typer.Option(
    "--flow-mode", help="[flow channel] auto (default: sparse for small payloads, else full), "
    "sparse (changes only the latents the payload needs), full (re-synthesises all colour "
    "detail).")]
TemperatureOpt = Annotated[float | None, typer.Option(
    "--temperature", help="[flow channel] Scale of the latent magnitudes, 0.1-1.5 (default "
    "0.6): lower is closer to the cover but less robust.")]
AllowGreyOpt = Annotated[bool | None, typer.Option(
    "--allow-grey", help="[flow channel] Embed even in a grey-scale cover (refused by "
    "default: the flow would paint colour into it). The other channels keep grey grey.")]
CostsOpt = Annotated[str | None, typer.Option(
    "--costs", help="[jpeg channel] juniward (default: the least detectable) or uerd "
    "(faster).")]
LayoutOpt = Annotated[str | None, typer.Option(
    "--layout", help="[robust channel] whole (default: the whole photo as one grid; "
    "survives re-compression, WebP and resizing, no crops) or tiled (repeated tiles that "
    "also survive most small crops, turns of a degree and mirrors, less often WebP).")]
QualityOpt = Annotated[int | None, typer.Option(
    "--quality", min=1, max=100, help="[jpeg channel] For a cover that is not a JPEG: the "
    "quality it is compressed at once before embedding (default 90).")]


def _elapsed(started: float) -> float:
    return time.perf_counter() - started


def _deprecated(mode: str | None, robust: bool, quiet: bool) -> None:
    if mode is not None:
        stderr("stegnet: --mode is deprecated: use --channel pixel, or --channel flow with "
               "--flow-mode", quiet)
    if robust:
        stderr("stegnet: --robust is deprecated: use --channel robust", quiet)


def _default_channel(output: str) -> str:
    """The channel of an embed-bits without --channel: jpeg for a .jpg/.jpeg output."""
    return "jpeg" if Path(output).suffix.lower() in JPEG_SUFFIXES else DEFAULT


def _save(stego: Any, target: str, force: bool) -> None:
    """Write a stego in its medium: PNG for pixels, JPEG for a JPEG channel stego."""
    import numpy as np

    if isinstance(stego, np.ndarray):
        from stegnet.imageio import save_png

        save_png(stego, target, force=force)
    else:
        from stegnet.jpegio import write_jpeg

        write_jpeg(stego, target, force=force)


@app.command("embed-bits", epilog=(
    "\b\nExamples:\n"
    "  stegnet embed-bits cover.png notes.pdf -o stego.png --key-file k.txt\n"
    "  stegnet embed-bits photo.jpg notes.txt -o stego.jpg      (the jpeg channel)\n"
    "  stegnet embed-bits photo.jpg --text 'hi' -o s.png -c robust   (survives messengers)\n"
    "  cat data.bin | stegnet embed-bits cover.png - -o stego.png\n"
    "  stegnet embed-bits covers/ notes.txt -o stegos/   (same payload into every image)"))
def embed_bits(
    cover: Annotated[str, typer.Argument(help="Cover photo, - for stdin, or a folder.")],
    payload: Annotated[
        str | None, typer.Argument(help="File to hide, or - for stdin.")
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Stego to write: .png (or "
                                        ".jpg for the jpeg channel); a folder in folder "
                                        "mode.")] = "",
    text: Annotated[str | None, typer.Option("--text", help="Hide this text instead.")] = None,
    channel: ChannelOpt = None,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    flow_mode: FlowModeOpt = None,
    temperature: TemperatureOpt = None,
    allow_grey: AllowGreyOpt = None,
    quality: QualityOpt = None,
    costs: CostsOpt = None,
    layout: LayoutOpt = None,
    mode: ModeOpt = None,
    robust: RobustOpt = False,
) -> None:
    """Hide any bytes in COVER; extract-bits gives them back exactly, or fails cleanly.

    The channel (--channel) decides where the bytes go and what the stego survives:

    \b
      pixel   (default for .png) +-1 on single pixel samples where texture hides
              them; exact in a lossless file
      jpeg    (default for .jpg) +-1 on the JPEG's quantised DCT coefficients;
              exact while the file is passed on unchanged
      robust  a few hundred bytes that survive JPEG re-compression, resizing and
              cropping
      flow    signs of the colour flow's latents (the original design; research)

    With a key the payload is encrypted and authenticated (scrypt + ChaCha20-Poly1305)
    and the key also decides which positions carry which bits.
    """
    with errors():
        from stegnet import api, batch
        from stegnet.imageio import read_bytes
        from stegnet.keys import read_key

        if not output:
            raise UsageError("missing option -o/--output (the stego to write)")
        if (payload is None) == (text is None):
            raise UsageError("give exactly one of PAYLOAD (file or -) and --text")
        if cover == "-" and payload == "-":
            raise UsageError("only one input can be read from stdin")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the stego to a file with -o")
        _deprecated(mode, robust, quiet)
        chosen, options = api.choose(channel, mode, robust, {
            "flow_mode": flow_mode, "temperature": temperature, "allow_grey": allow_grey,
            "quality": quality, "costs": costs, "layout": layout}, _default_channel(output))
        name = chosen.name
        jpeg_out = chosen.medium == "jpeg"
        if jpeg_out and output != "-" and Path(output).suffix.lower() not in JPEG_SUFFIXES \
                and not batch.is_folder(cover):
            raise UsageError(f"{output}: the jpeg channel writes a JPEG: name it .jpg")
        if not jpeg_out and Path(output).suffix.lower() in JPEG_SUFFIXES:
            raise UsageError(f"{output}: the {name} channel writes a PNG (a JPEG output uses "
                             f"the jpeg channel)")
        plan = batch.plan(cover, output, inputs=[payload], force=force, png=not jpeg_out,
                          suffix=".jpg" if jpeg_out else ".png")
        key_bytes = read_key(key, key_file)
        data = text.encode("utf-8") if text is not None else read_bytes(payload)
        net = api.load_model(chosen.model_task, model, device) if chosen.model_task else None
        if net is None and model is not None:
            api.check_model_name(model)  # a bad name says so first
            raise UsageError(f"--model names a network, and the {name} channel uses none "
                             f"(models are for the flow and robust channels)")

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            done = api.embed(source, data, channel=name, key=key_bytes, model=net,
                             progress=progress, label=source, **options)
            _save(done.stego, target, force)
            seconds, report = _elapsed(started), done.report
            errors_note = ("" if net is None else
                           f", raw bit errors {report.raw_ber:.2%} (corrected by ECC)")
            unit = "coefficients" if jpeg_out else "pixels"
            return {"command": "embed-bits", "cover": source, "stego": target,
                    "channel": name, "mode": report.mode,
                    "payload_bytes": len(data), "capacity_bytes": done.capacity_bytes,
                    "changed_pixels" if not jpeg_out else "changed_coefficients":
                        round(done.changed, 6),
                    "channel_bits": report.channel_bits, "raw_ber": round(report.raw_ber, 6),
                    "keyed": key_bytes is not None, "model": net.name if net else "",
                    "device": net.device if net else "cpu", "seconds": round(seconds, 3),
                    "message": f"wrote {target}: {len(data)} of {done.capacity_bytes} bytes "
                               f"({name} channel, {report.mode}, {done.changed:.1%} of "
                               f"{unit} changed{errors_note}), {seconds:.2f} s"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="embedding")


EXTRACT_HELP = f"""Recover the bytes hidden by embed-bits; fails cleanly, never returns garbage.

Finds the channel by itself, trying {_NAMES} in this order. Works on the stego as written
and, for a robust-channel stego, also after JPEG re-compression, resizing, noise,
cropping, a turn of a few degrees or a mirror.
"""


@app.command("extract-bits", help=EXTRACT_HELP, epilog=(
    "\b\nExamples:\n"
    "  stegnet extract-bits stego.png -o notes.pdf --key-file k.txt\n"
    "  stegnet extract-bits stego.jpg -o - | sha256sum\n"
    "  stegnet extract-bits stegos/ -o payloads/   (writes payloads/NAME.bin)"))
def extract_bits(
    stego: Annotated[str, typer.Argument(help="Stego written by embed-bits (PNG, or JPEG "
                                         "for the jpeg and robust channels), - for stdin, "
                                         "or a folder.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write, - for stdout, or a folder "
                          "in folder mode.")
    ] = "",
    channel: Annotated[str | None, typer.Option(
        "--channel", "-c", metavar="NAME",
        help=f"Read only this channel ({_NAMES}); by default every channel is tried, in "
             f"this order.")] = None,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    force: ForceOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    jobs: JobsOpt = 1,
    robust: RobustOpt = False,
) -> None:
    """See :data:`EXTRACT_HELP`."""
    with errors():
        import hashlib

        from stegnet import api, batch
        from stegnet.channels import registry
        from stegnet.fileio import write_bytes
        from stegnet.keys import read_key

        if not output:
            raise UsageError("missing option -o/--output (a file, or - for stdout)")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the payload to a file with -o")
        _deprecated(None, robust, quiet)
        name = registry.resolve(channel, None, robust, "")[0] or None
        plan = batch.plan(stego, output, suffix=".bin", force=force, png=False)
        key_bytes = read_key(key, key_file)
        task = registry.get(name).model_task if name else "flow"
        net = api.load_model(task, model, device) if task else None
        if net is None and model is not None:
            api.check_model_name(model)
            raise UsageError(f"--model names a network, and the {name} channel uses none")
        for other in registry.in_extraction_order():  # a broken install fails before work
            if other.model_task and name is None:
                api.load_model(other.model_task, None, device)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            found = api.extract_found(source, key=key_bytes, model=net, channel=name,
                                      device=net.device if net else device)
            data = found.payload
            write_bytes(data, target, force=force)
            seconds = _elapsed(started)
            return {"command": "extract-bits", "stego": source, "output": target,
                    "payload_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "channel": found.channel, "keyed": key_bytes is not None,
                    "model": found.model, "device": net.device if net else "cpu",
                    "seconds": round(seconds, 3),
                    "message": f"recovered {len(data)} bytes from the {found.channel} channel "
                               f"-> {target} ({seconds:.2f} s)"}

        run_files(plan, work, quiet=quiet, json_out=json_out, jobs=jobs, label="extracting")


@app.command(epilog=(
    "\b\nExamples:\n"
    "  stegnet capacity cover.png --json\n"
    "  stegnet capacity photo.jpg -c jpeg\n"
    "  stegnet capacity cover.png -c robust --key-file k.txt"))
def capacity(
    cover: Annotated[str, typer.Argument(help="Cover photo.")],
    channel: ChannelOpt = None,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    nominal: Annotated[
        bool | None, typer.Option("--nominal", help="[flow channel] Skip the trial "
                                  "embedding: the size-only figure for the weakest error "
                                  "correction (may not fit hard covers).")
    ] = None,
    temperature: TemperatureOpt = None,
    quality: QualityOpt = None,
    layout: LayoutOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    robust: RobustOpt = False,
    mode: ModeOpt = None,
) -> None:
    """Print how many payload bytes COVER carries on a channel (after framing and ECC).

    pixel (default; jpeg for a JPEG cover): exact, so the capacity depends only on the
    size (JPEG: on the coefficients). robust: the same for every photo of at least 256 px
    on the short side (512 px with --layout whole). flow: a trial embedding measures how
    well this photo keeps the flow's bits (--nominal skips it).
    """
    with errors():
        from stegnet import api
        from stegnet.channels import registry
        from stegnet.jpegio import is_jpeg
        from stegnet.keys import read_key

        _deprecated(mode, robust, quiet)
        default = "jpeg" if is_jpeg(cover) else DEFAULT
        name, implied = registry.resolve(channel, mode, robust, default)
        options = {**implied, **{k: v for k, v in {
            "temperature": temperature, "quality": quality, "layout": layout}.items()
            if v is not None}}
        if model is not None:
            api.check_model_name(model)  # a bad name says so first
        if nominal is not None:
            if "measured" not in registry.get(name).options:
                raise UsageError(f"--nominal applies to the flow channel, not to the {name} "
                                 f"channel (its capacity is exact)")
            options["measured"] = not nominal
        keyed = read_key(key, key_file) is not None
        cap = api.capacity(cover, channel=name, keyed=keyed, model=model, device=device,
                           **options)
        note = ""
        if cap.measured and cap.capacity_bytes == 0:
            note = (" (a trial embedding did not decode with any error correction that "
                    "fits: a hard cover, e.g. large saturated or flat areas)")
        record = {"cover": cover, "width": cap.width, "height": cap.height,
                  "capacity_bytes": cap.capacity_bytes,
                  "nominal_capacity_bytes": cap.nominal_capacity_bytes,
                  "bits_per_pixel": cap.bits_per_pixel, "keyed": keyed,
                  "measured": cap.measured, "channel": cap.channel, "model": cap.model}
        if json_out:
            emit_json(record)
        else:
            print(cap.capacity_bytes)
            stderr(f"{cover}: {cap.capacity_bytes} bytes on the {cap.channel} channel "
                   f"({cap.bits_per_pixel} bit/pixel){note}", quiet)

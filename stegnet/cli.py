"""Command-line interface (thin: parses options, calls the library, prints).

Every command prints human messages on stderr (none with ``--quiet``) and, with
``--json``, exactly one JSON object on stdout. Errors are one line on stderr and
a documented exit code; a traceback only with ``--debug``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from stegnet import __version__
from stegnet.errors import (
    InputError,
    NoHiddenImage,
    PayloadTooLarge,
    StegnetError,
    UsageError,
)

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 runtime error, 2 usage or input error (bad option, unreadable "
    "input, output exists without --force), 3 no payload / wrong key / corrupted, "
    "4 payload larger than capacity."
)

GLOBAL_OPTIONS_HELP = (
    "--debug (tracebacks) and --threads N (CPU threads; default: $OMP_NUM_THREADS, else the "
    "usable cores, at most 8) may be given anywhere on the command line."
)


class _State:
    """Process-wide settings from the global options."""

    debug: bool = False
    threads: int | None = None


STATE = _State()


def split_global_options(root: Any, args: list[str]) -> tuple[list[str], bool,
                                                                         int | None]:
    """Take ``--debug`` and ``--threads N`` out of ``args`` wherever they are.

    Walks the command line with the command tree, so that the value of another option
    (``--text --debug`` hides the text "--debug") and everything after ``--`` are left
    alone, and a subcommand that declares ``--threads`` itself (``train ...``) keeps it.
    Returns (the remaining arguments, debug, threads or None).
    """
    from stegnet.device import parse_threads

    kept: list[str] = []
    debug, threads = False, None
    command = root
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            kept += args[index - 1:]
            break
        name = token.split("=", 1)[0]
        own = {} if command is root else _option_arity(command)
        if name in ("--debug", "--threads") and name not in own:
            if name == "--debug":
                if "=" in token:
                    raise UsageError("--debug takes no value")
                debug = True
                continue
            if "=" in token:
                value = token.split("=", 1)[1]
            elif index < len(args):
                value = args[index]
                index += 1
            else:
                raise UsageError("--threads needs a value (a positive integer)")
            threads = parse_threads(value)
            continue
        kept.append(token)
        if token.startswith("-") and "=" not in token and own.get(token, 0) > 0:
            kept += args[index : index + own[token]]  # the option's value(s), untouched
            index += own[token]
        elif not token.startswith("-") and getattr(command, "commands", None):
            command = command.commands.get(token, command)
    return kept, debug, threads


def _option_arity(command: Any) -> dict[str, int]:
    """{option string: number of values it takes} for a (Click) command's options."""
    arity: dict[str, int] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option":
            takes = 0 if (param.is_flag or param.count) else max(1, param.nargs)
            for opt in (*param.opts, *param.secondary_opts):
                arity[opt] = takes
    return arity


class StegnetGroup(TyperGroup):
    """The root command: global options are accepted anywhere on the line."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        """Strip and apply ``--debug`` / ``--threads`` (see :func:`split_global_options`),
        then run the command line as usual."""
        from stegnet.device import request_threads

        raw = list(sys.argv[1:] if args is None else args)
        try:
            kept, debug, threads = split_global_options(self, raw)
        except UsageError as error:
            print(f"stegnet: error: {error}", file=sys.stderr, flush=True)
            sys.exit(error.exit_code)
        STATE.debug, STATE.threads = debug, threads
        request_threads(threads)
        return super().main(kept, *rest, **kwargs)


app = typer.Typer(
    name="stegnet",
    cls=StegnetGroup,
    help=(
        "Hide an image or any bytes inside a photo with invertible neural networks. "
        "Stego images are always 8-bit PNG and everything is measured after saving them.\n\n"
        + EXIT_CODES_HELP + "\n\n" + GLOBAL_OPTIONS_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
eval_app = typer.Typer(help="Measure quality on a folder of photos; writes JSON.")
train_app = typer.Typer(help="Train the networks (resumable; logs the curve).")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")

# ---------------------------------------------------------------- shared options
ForceOpt = Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No messages on stderr.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto (CUDA if available), cpu or cuda.")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Model name (see `stegnet models`).")
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="Passphrase (visible in the process list: prefer --key-file or $STEGNET_KEY).",
        envvar="STEGNET_KEY",
        show_envvar=True,
    ),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="Read the key from a file (one trailing newline dropped)."),
]


def _stderr(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _fail(message: str, code: int) -> typer.Exit:
    print(f"stegnet: error: {message}", file=sys.stderr, flush=True)
    return typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn library errors into one stderr line + exit code (traceback only with --debug)."""
    try:
        yield
    except typer.Exit:
        raise
    except StegnetError as error:
        if STATE.debug:
            raise
        raise _fail(str(error).splitlines()[0] if str(error) else type(error).__name__,
                    error.exit_code) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    except MemoryError:
        raise _fail("out of memory (try a smaller image or --device cpu)", 1) from None
    except Exception as error:  # noqa: BLE001 - last line of defence for the user
        if STATE.debug:
            raise
        text = str(error).splitlines()[0] if str(error) else ""
        raise _fail(f"internal error: {type(error).__name__}: {text} (rerun with --debug)",
                    1) from None


def _progress(description: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A Rich progress callback on a terminal; None (silent) otherwise."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(transient=True, console=Console(stderr=True))
    task = progress.add_task(description, total=None)
    progress.start()

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)
        if done >= total:
            progress.stop()

    return update


def _emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def _read_key(key: str | None, key_file: Path | None) -> bytes | None:
    if key is not None and key_file is not None:
        raise UsageError("give either --key or --key-file, not both")
    if key_file is not None:
        from stegnet.imageio import read_bytes

        data = read_bytes(key_file)
        if data.endswith(b"\n"):
            data = data[:-1]
            if data.endswith(b"\r"):
                data = data[:-1]
        if not data:
            raise UsageError(f"{key_file}: key file is empty")
        return data
    if key is not None:
        if not key:
            raise UsageError("--key is empty")
        return key.encode("utf-8")
    return None


def _version(value: bool) -> None:
    if value:
        print(f"stegnet {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors (also "
                                        "accepted after the subcommand).")] = False,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, metavar="N", help="CPU threads (default: "
                                 "$OMP_NUM_THREADS, else the usable cores, at most 8; also "
                                 "accepted after the subcommand).")
    ] = None,
) -> None:
    """Global options (taken out of the line by :class:`StegnetGroup` before parsing)."""
    if debug:
        STATE.debug = True


# ---------------------------------------------------------------- files and folders
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm"}
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Files processed in parallel "
                                      "(folder mode).")]
TemperatureOpt = Annotated[
    float, typer.Option("--temperature", help="Scale of the latent magnitudes (0.1-1.5): "
                        "lower is closer to the cover and harder to detect but less robust "
                        "(the default 0.8 keeps the capacity of 1.0 at +4 dB PSNR).")
]


def _is_folder(path: str | None) -> bool:
    return path is not None and path != "-" and Path(path).is_dir()


def _folder_images(folder: str) -> list[str]:
    files = sorted(str(p) for p in Path(folder).iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"{folder}: no images in this folder")
    return files


def _plan(source: str, output: str | None, suffix: str, default: Callable[[str], str] | None,
          ) -> list[tuple[str, str]]:
    """(input, output) pairs: one file, or every image of a folder into an output folder."""
    if not _is_folder(source):
        if output is None:
            if default is None:
                raise UsageError("missing option -o/--output")
            output = default(source)
        return [(source, output)]
    if output is None or output == "-":
        raise UsageError(f"{source} is a folder: give an output folder with -o")
    if Path(output).exists() and not Path(output).is_dir():
        raise UsageError(f"{output}: exists and is not a folder")
    if not Path(output).exists() and Path(output).suffix.lower() in IMAGE_SUFFIXES | {".bin"}:
        raise UsageError(f"{source} is a folder: -o {output} must be a folder, not a file name")
    Path(output).mkdir(parents=True, exist_ok=True)
    return [(f, str(Path(output) / (Path(f).stem + suffix))) for f in _folder_images(source)]


def _run_files(pairs: list[tuple[str, str]], work: Callable[[str, str, Any], dict],
               *, quiet: bool, json_out: bool, jobs: int, label: str) -> None:
    """Run ``work(input, output, progress)`` on every pair.

    One pair: errors propagate (one line, exit code). Folder mode: every file is
    tried; a line per file (or a Rich progress bar on a terminal), a summary, JSON
    lines with --json, and the highest failure exit code if any file failed.
    """
    if len(pairs) == 1 and not _is_folder(pairs[0][0]):
        source, target = pairs[0]
        record = work(source, target, _progress(label, quiet))
        _stderr(record.pop("message"), quiet)
        if json_out:
            _emit_json(record)
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from stegnet.device import apply_threads
    from stegnet.errors import StegnetError as Failure

    apply_threads(jobs)  # the jobs share the CPU threads instead of each taking them all

    bar = _progress(f"{label} {len(pairs)} files", quiet)
    failures: list[int] = []
    done = 0

    def attempt(pair: tuple[str, str]) -> dict:
        try:
            return work(pair[0], pair[1], None)
        except Failure as error:
            return {"input": pair[0], "ok": False, "error": str(error), "code": error.exit_code}

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(attempt, pair) for pair in pairs]
        for future in as_completed(futures):
            record = future.result()
            done += 1
            if record.get("ok", True) is False:
                failures.append(record["code"])
                print(f"stegnet: error: {record['error']}", file=sys.stderr, flush=True)
            else:
                record["ok"] = True
                message = record.pop("message")
                if bar is None:
                    _stderr(message, quiet)
            if bar is not None:
                bar(done, len(pairs))
            if json_out:
                _emit_json(record)
    _stderr(f"{len(pairs) - len(failures)} done, {len(failures)} failed", quiet)
    if failures:
        raise typer.Exit(max(failures))


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
) -> None:
    """Hide SECRET inside COVER and write the stego image as PNG.

    The secret is resized (aspect ratio kept) to fit the cover and centred on black;
    `stegnet reveal` gives back that canvas at the cover's size. With a key the secret's
    16x16 blocks are shuffled and inverted by the key before hiding: reveal without the
    same key gives a scrambled mosaic (costs a few dB of revealed quality).
    """
    with _errors():
        from stegnet import hiding
        from stegnet.device import resolve_device
        from stegnet.imageio import check_output_path, load_rgb, save_png
        from stegnet.zoo import get_model_info, load_model

        if cover == "-" and secret == "-":
            raise UsageError("only one input can be read from stdin")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the stego to a file with -o")
        info = get_model_info("hide", model)
        pairs = _plan(cover, output, ".png", None)
        if len(pairs) == 1:
            check_output_path(pairs[0][1], [pairs[0][0], secret], force=force, png=True)
        secret_img = load_rgb(secret)
        key_bytes = _read_key(key, key_file)
        dev = resolve_device(device)
        net = load_model("hide", model, dev)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            check_output_path(target, [source, secret], force=force, png=True)
            cover_img = load_rgb(source, min_side=hiding.MIN_COVER_SIDE)
            stego = hiding.hide(cover_img, secret_img, net, dev, progress=progress,
                                key=key_bytes)
            save_png(stego, target, force=force)
            seconds = time.perf_counter() - started
            return {"command": "hide", "cover": source, "secret": secret, "stego": target,
                    "width": stego.shape[1], "height": stego.shape[0],
                    "keyed": key_bytes is not None, "model": info.name,
                    "device": dev, "seconds": round(seconds, 3),
                    "message": f"wrote {target} ({stego.shape[1]}x{stego.shape[0]}, model "
                               f"{info.name}, {seconds:.2f} s)"}

        _run_files(pairs, work, quiet=quiet, json_out=json_out, jobs=jobs, label="hiding")


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
) -> None:
    """Recover the hidden image from STEGO (an image of the stego's size).

    First checks that STEGO carries an image hidden by `stegnet hide` (the shipped CNN
    steganalyser plus a statistic of the colour noise; see the README): if not, it says
    "no hidden image found", writes nothing and exits with code 3 (--anyway skips the
    check). A stego written with --key needs the same key; any other key gives a
    scrambled mosaic.
    """
    with _errors():
        from stegnet import hiding
        from stegnet.device import resolve_device
        from stegnet.imageio import check_output_path, load_rgb, save_png
        from stegnet.zoo import get_model_info, load_model

        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the image to a file with -o")
        info = get_model_info("hide", model)
        pairs = _plan(stego, output, ".png", _default_reveal_path)
        if len(pairs) == 1:
            check_output_path(pairs[0][1], [pairs[0][0]], force=force, png=True)
        key_bytes = _read_key(key, key_file)
        dev = resolve_device(device)
        net = load_model("hide", model, dev)
        flow = None if anyway else load_model("bits", None, dev)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            check_output_path(target, [source], force=force, png=True)
            stego_img = load_rgb(source, min_side=hiding.MIN_COVER_SIDE)
            found = None if anyway else hiding.detect(stego_img, flow, dev)
            if found is not None and not found.detected:
                looks = ("an embed-bits stego: try `stegnet extract-bits`"
                         if found.cnn_logit > 0 else "a clean photo")
                raise NoHiddenImage(f"{source}: no hidden image found (it looks like {looks}; "
                                    f"--anyway reveals regardless)")
            revealed = hiding.reveal(stego_img, net, dev, progress=progress, key=key_bytes)
            save_png(revealed, target, force=force)
            seconds = time.perf_counter() - started
            return {"command": "reveal", "stego": source, "output": target,
                    "width": revealed.shape[1], "height": revealed.shape[0],
                    "keyed": key_bytes is not None, "model": info.name,
                    "detection": found.to_dict() if found is not None else None,
                    "device": dev, "seconds": round(seconds, 3),
                    "message": f"wrote {target} ({revealed.shape[1]}x{revealed.shape[0]}, "
                               f"{seconds:.2f} s)"}

        _run_files(pairs, work, quiet=quiet, json_out=json_out, jobs=jobs, label="revealing")


# ---------------------------------------------------------------- bytes
GREY_COVER_MESSAGE = (
    "cover is grey-scale: embed-bits hides bytes in colour detail, which would make a grey "
    "photo visibly colourful; use a colour photo (or --allow-grey)")


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
    temperature: TemperatureOpt = 0.8,
    allow_grey: Annotated[
        bool, typer.Option("--allow-grey", help="Embed even in a grey-scale cover (refused by "
                           "default: the stego would come out visibly colourful).")
    ] = False,
    mode: Annotated[
        str, typer.Option("--mode", help="auto (default): change only what the payload needs "
                          "(sparse) when it takes at most a quarter of the channel, else full "
                          "re-synthesis; sparse; full.")
    ] = "auto",
) -> None:
    """Hide any bytes in the colour of COVER (bit-exact from the saved PNG).

    By default a short payload changes only the colour detail it needs (a 13-byte message
    changes a few % of the pixels); large payloads re-synthesise all colour detail.

    With a key the payload is encrypted and authenticated (scrypt + ChaCha20-Poly1305)
    and the key also decides which positions carry which bits. Grey-scale covers are
    refused unless --allow-grey is given.
    """
    with _errors():
        from stegnet import bits
        from stegnet.device import resolve_device
        from stegnet.greyscale import is_grey
        from stegnet.imageio import check_output_path, load_rgb, read_bytes, save_png
        from stegnet.zoo import get_model_info, load_model

        if not output:
            raise UsageError("missing option -o/--output (the stego PNG to write)")
        if (payload is None) == (text is None):
            raise UsageError("give exactly one of PAYLOAD (file or -) and --text")
        if cover == "-" and payload == "-":
            raise UsageError("only one input can be read from stdin")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the stego to a file with -o")
        bits.check_temperature(temperature)
        bits.check_mode(mode)
        info = get_model_info("bits", model)
        pairs = _plan(cover, output, ".png", None)
        if len(pairs) == 1:
            check_output_path(pairs[0][1], [pairs[0][0], payload], force=force, png=True)
        key_bytes = _read_key(key, key_file)
        data = text.encode("utf-8") if text is not None else read_bytes(payload)
        dev = resolve_device(device)
        net = load_model("bits", model, dev)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            check_output_path(target, [source, payload], force=force, png=True)
            cover_img = load_rgb(source, min_side=bits.MIN_COVER_SIDE)
            if not allow_grey and is_grey(cover_img):
                raise InputError(f"{source}: {GREY_COVER_MESSAGE}")
            height, width = cover_img.shape[:2]
            nsym = bits.ecc_nsym(model)
            if bits.capacity(height, width, key_bytes is not None, nsym) <= 0:
                raise PayloadTooLarge(f"{source}: "
                                      f"{_too_small(width, height, key_bytes is not None, nsym)}")
            report = bits.embed(cover_img, data, key_bytes, net, model, dev,
                                progress=progress, temperature=temperature, mode=mode)
            save_png(report.stego, target, force=force)
            cap = bits.capacity(height, width, key_bytes is not None, nsym)
            changed = float((report.stego != cover_img).any(axis=-1).mean())
            seconds = time.perf_counter() - started
            return {"command": "embed-bits", "cover": source, "stego": target,
                    "payload_bytes": len(data), "capacity_bytes": cap,
                    "mode": report.mode, "changed_pixels": round(changed, 6),
                    "channel_bits": report.channel_bits, "raw_ber": round(report.raw_ber, 6),
                    "keyed": key_bytes is not None, "model": info.name, "device": dev,
                    "seconds": round(seconds, 3),
                    "message": f"wrote {target}: {len(data)} of {cap} bytes ({report.mode}, "
                               f"{changed:.1%} of pixels changed), raw bit errors "
                               f"{report.raw_ber:.2%} (corrected by ECC), {seconds:.2f} s"}

        _run_files(pairs, work, quiet=quiet, json_out=json_out, jobs=jobs, label="embedding")


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
) -> None:
    """Recover the bytes hidden by embed-bits; fails cleanly, never returns garbage."""
    with _errors():
        from stegnet import bits
        from stegnet.device import resolve_device
        from stegnet.imageio import check_output_path, load_rgb, write_bytes
        from stegnet.zoo import get_model_info, load_model

        if not output:
            raise UsageError("missing option -o/--output (a file, or - for stdout)")
        if output == "-" and json_out:
            raise UsageError("--json prints on stdout: write the payload to a file with -o")
        info = get_model_info("bits", model)
        pairs = _plan(stego, output, ".bin", None)
        if len(pairs) == 1 and output != "-":
            check_output_path(output, [stego], force=force, png=False)
        key_bytes = _read_key(key, key_file)
        dev = resolve_device(device)
        net = load_model("bits", model, dev)

        def work(source: str, target: str, progress: Any) -> dict:
            started = time.perf_counter()
            if target != "-":
                check_output_path(target, [source], force=force, png=False)
            stego_img = load_rgb(source, min_side=bits.MIN_COVER_SIDE)
            try:
                data = bits.extract(stego_img, key_bytes, net, model, dev)
            except StegnetError as error:
                if _is_folder(stego):
                    raise type(error)(f"{source}: {error}") from None
                raise
            write_bytes(data, target, force=force)
            seconds = time.perf_counter() - started
            return {"command": "extract-bits", "stego": source, "output": target,
                    "payload_bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                    "keyed": key_bytes is not None, "model": info.name, "device": dev,
                    "seconds": round(seconds, 3),
                    "message": f"recovered {len(data)} bytes -> {target} ({seconds:.2f} s)"}

        _run_files(pairs, work, quiet=quiet, json_out=json_out, jobs=jobs, label="extracting")


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
    temperature: TemperatureOpt = 0.8,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Print how many payload bytes COVER carries reliably (after framing and ECC).

    A trial embedding measures how well this photo keeps the bits and picks the
    weakest error correction that still decodes (hard covers get stronger ECC and less
    room); --nominal skips it and prints the size-only figure.
    """
    with _errors():
        from stegnet import bits
        from stegnet.device import resolve_device
        from stegnet.imageio import load_rgb
        from stegnet.zoo import get_model_info, load_model

        bits.check_temperature(temperature)
        info = get_model_info("bits", model)
        keyed = _read_key(key, key_file) is not None
        cover_img = load_rgb(cover, min_side=bits.MIN_COVER_SIDE)
        height, width = cover_img.shape[:2]
        nsym = bits.ecc_nsym(model)
        nominal_cap = bits.capacity(height, width, keyed, nsym)
        if nominal_cap <= 0:
            raise InputError(f"{cover}: {_too_small(width, height, keyed, nsym)}")
        note = ""
        if nominal:
            cap = nominal_cap
        else:
            dev = resolve_device(device)
            try:
                cap = bits.measured_capacity(cover_img, keyed, load_model("bits", model, dev),
                                             model, dev, temperature)
            except PayloadTooLarge:  # the stronger error corrections leave no room at all
                cap = 0
            if cap == 0:
                note = (" (a trial embedding did not decode with any error correction that "
                        "fits: a hard cover, e.g. large saturated or flat areas)")
        record = {"cover": cover, "width": width, "height": height, "capacity_bytes": cap,
                  "nominal_capacity_bytes": nominal_cap,
                  "bits_per_pixel": round(8 * cap / (width * height), 4), "keyed": keyed,
                  "measured": not nominal, "model": info.name}
        if json_out:
            _emit_json(record)
        else:
            print(cap)
            _stderr(f"{cover}: {cap} bytes ({record['bits_per_pixel']} bit/pixel){note}",
                    quiet)


def _too_small(width: int, height: int, keyed: bool, nsym: int) -> str:
    """Why an image carries no payload at all, with the smallest square that does."""
    from stegnet import bits

    side = next((s for s in range(bits.MIN_COVER_SIDE, 8193)
                 if bits.capacity(s, s, keyed, nsym) > 0), None)
    need = f"; it needs about {side}x{side} pixels or more" if side else ""
    return (f"this image ({width}x{height}) is too small to carry any payload"
            f"{' with a key' if keyed else ''}{need}")


@app.command(epilog="Example: stegnet compare cover.png stego.png --json")
def compare(
    reference: Annotated[str, typer.Argument(help="Reference image (e.g. the cover).")],
    test: Annotated[str, typer.Argument(help="Image to compare (e.g. the stego).")],
    json_out: JsonOpt = False,
) -> None:
    """Print PSNR, SSIM and CIEDE2000 between two images of the same size."""
    with _errors():
        from stegnet.color import delta_e00_rgb
        from stegnet.imageio import load_rgb
        from stegnet.metrics import psnr, ssim

        first, second = load_rgb(reference), load_rgb(test)
        if first.shape != second.shape:
            raise UsageError(f"{test}: size {second.shape[1]}x{second.shape[0]} differs from "
                             f"{reference} ({first.shape[1]}x{first.shape[0]})")
        delta_e = delta_e00_rgb(first, second)
        record = {"psnr": round(psnr(first, second), 3), "ssim": round(ssim(first, second), 5),
                  "delta_e00_mean": round(float(delta_e.mean()), 4),
                  "delta_e00_max": round(float(delta_e.max()), 4)}
        if json_out:
            _emit_json({"reference": reference, "test": test, **record})
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
    with _errors():
        from stegnet.analysis import analyze as run_detectors
        from stegnet.analysis import learned
        from stegnet.device import apply_threads
        from stegnet.imageio import load_rgb

        if learned_detectors:
            apply_threads()

        for path in images:
            image = load_rgb(path)
            stats = run_detectors(image)
            if learned_detectors and min(image.shape[:2]) >= 32:
                stats.update(learned(image))
            elif learned_detectors:
                _stderr(f"{path}: smaller than 32x32, CNN detectors skipped", False)
            stats = {k: round(v, 4) for k, v in stats.items()}
            if json_out:
                _emit_json({"image": path, **stats})
            else:
                print(f"{path}: " + "  ".join(f"{k}={v}" for k, v in stats.items()))


# ---------------------------------------------------------------- models
@app.command()
def models(json_out: JsonOpt = False) -> None:
    """List the shipped models and the metrics measured on their cards."""
    with _errors():
        from stegnet.analysis import detectors_dir
        from stegnet.zoo import list_models

        entries = list_models()
        detectors = [json.loads(p.read_text()) for p in sorted(detectors_dir().glob("*.json"))]
        if json_out:
            _emit_json({"models": [{"name": m.name, "task": m.task, **m.card} for m in entries],
                        "detectors": detectors})
            return
        for info in entries:
            default = " (default)" if info.card.get("default") else ""
            metrics = ", ".join(f"{k}={v}" for k, v in info.metrics.items()
                                if isinstance(v, (int, float)))
            print(f"{info.task:5s} {info.name}{default}: {info.card.get('summary', '')}")
            if metrics:
                print(f"      {metrics}")
        for card in detectors:
            held = card["heldout"]
            print(f"detect {card['name']}: CNN steganalyser for {card['method']} stego; "
                  f"held-out accuracy {held['accuracy']:.3f}, AUC {held['auc']:.3f}")


# ---------------------------------------------------------------- eval
def _eval_samples(covers: Path, held_out: bool, size: int, limit: int | None,
                  split: str = "every10"):
    from stegnet_research.evaluate import folder_samples, held_out_samples

    if not covers.is_dir():
        raise UsageError(f"{covers}: not a folder")
    if split not in ("every10", "package"):
        raise UsageError(f"--split must be every10 or package (got {split!r})")
    samples = (held_out_samples(covers, size, split=split) if held_out
               else folder_samples(covers))
    if limit is not None:
        samples = samples[:limit]
    if not samples:
        raise UsageError(f"{covers}: no images found")
    name = "heldout" if split == "every10" else "heldout-package"
    dataset = f"{name}-{size}" if held_out else covers.name
    return samples, dataset


def _write_result(result: dict, out: Path | None, model: str, dataset: str, quiet: bool) -> Path:
    target = out if out is not None else Path("results") / model / f"{dataset}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n")
    _stderr(f"wrote {target}", quiet)
    return target


CoversOpt = Annotated[Path, typer.Option("--covers", help="Folder of cover photos.")]
HeldOutOpt = Annotated[
    bool,
    typer.Option("--held-out/--all", help="--held-out: COVERS is the training folder; use its "
                 "held-out split (every 10th photo) centre-cropped to --size, plus 2 odd-sized."),
]
SizeOpt = Annotated[int, typer.Option("--size", help="Crop size for --held-out.")]
SplitOpt = Annotated[
    str,
    typer.Option("--split", help="Held-out rule: every10 (every 10th photo by name, the split "
                 "the shipped models were trained with) or package (whole source packages "
                 "held out by a rule on the package name; MANIFEST.tsv beside the folder)."),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="JSON to write (default results/MODEL/DATASET.json).")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Use only the first N images.")]


@eval_app.command("hide", epilog=(
    "Example: stegnet eval hide --covers ../shared/data/train --held-out --size 512"))
def eval_hide_cmd(
    covers: CoversOpt,
    secrets: Annotated[
        Path | None, typer.Option("--secrets", help="Folder of secrets (default: next cover).")
    ] = None,
    held_out: HeldOutOpt = False,
    split: SplitOpt = "every10",
    size: SizeOpt = 512,
    latent: Annotated[str, typer.Option("--latent", help="zeros or gaussian.")] = "zeros",
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    out: OutOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Hide/reveal every pair, save as PNG, measure PSNR/SSIM; write JSON."""
    with _errors():
        from stegnet.device import resolve_device
        from stegnet.zoo import get_model_info, load_model
        from stegnet_research.evaluate import eval_hide, folder_samples

        info = get_model_info("hide", model)
        samples, dataset = _eval_samples(covers, held_out, size, limit, split)
        secret_samples = folder_samples(secrets) if secrets is not None else None
        dev = resolve_device(device)
        result = eval_hide(samples, secret_samples, load_model("hide", model, dev), dev,
                           latent, progress=_progress("evaluating", quiet))
        result.update(model=info.name, dataset=dataset, device=dev,
                      command="stegnet " + " ".join(sys.argv[1:]))
        _write_result(result, out, info.name, dataset if latent == "zeros"
                      else f"{dataset}-{latent}", quiet)
        agg = result["aggregate"]
        _stderr(f"{len(samples)} images: stego PSNR mean {agg['stego_psnr']['mean']:.2f} dB "
                f"(min {agg['stego_psnr']['min']:.2f}), secret PSNR mean "
                f"{agg['secret_psnr']['mean']:.2f} dB (min {agg['secret_psnr']['min']:.2f})",
                quiet)


@eval_app.command("bits", epilog=(
    "Example: stegnet eval bits --covers ../shared/data/train --held-out --size 512"))
def eval_bits_cmd(
    covers: CoversOpt,
    held_out: HeldOutOpt = False,
    split: SplitOpt = "every10",
    size: SizeOpt = 512,
    sizes: Annotated[
        str, typer.Option("--payloads", help="Comma-separated payload sizes in bytes or "
                          "'capacity'.")
    ] = "0,1,1024,capacity",
    model: ModelOpt = None,
    device: DeviceOpt = "auto",
    out: OutOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Embed/extract payloads through saved PNGs (keyed and not); write JSON."""
    with _errors():
        from stegnet.device import resolve_device
        from stegnet.zoo import get_model_info, load_model
        from stegnet_research.evaluate import eval_bits

        info = get_model_info("bits", model)
        samples, dataset = _eval_samples(covers, held_out, size, limit, split)
        dev = resolve_device(device)
        payloads = tuple(p.strip() for p in sizes.split(",") if p.strip())
        result = eval_bits(samples, load_model("bits", model, dev), model, dev,
                           payloads, progress=_progress("evaluating", quiet))
        result.update(model=info.name, dataset=dataset, device=dev,
                      command="stegnet " + " ".join(sys.argv[1:]))
        _write_result(result, out, info.name, dataset, quiet)
        agg = result["aggregate"]
        _stderr(f"{agg['round_trips']} round trips, {agg['failures']} failures; raw BER mean "
                f"{agg['raw_ber']['mean']:.4f} (max {agg['raw_ber']['max']:.4f}); net "
                f"{agg['net_bpp']['mean']:.3f} bit/pixel (min {agg['net_bpp']['min']:.3f}); "
                f"dE00 mean "
                f"{agg['delta_e00_mean']['mean']:.2f}", quiet)


def _run_study(study: Callable, folder: str, covers: Path, held_out: bool, split: str,
               size: int,
               out: Path | None, limit: int | None, quiet: bool) -> dict:
    """Run a study over the evaluation images and write results/FOLDER/DATASET.json."""
    samples, dataset = _eval_samples(covers, held_out, size, limit, split)
    result = study(samples, progress=_progress(folder, quiet))
    result.update(dataset=dataset, command="stegnet " + " ".join(sys.argv[1:]))
    target = out if out is not None else Path("results") / folder / f"{dataset}.json"
    _write_result(result, target, folder, dataset, quiet)
    return result


@eval_app.command("analyze", epilog=(
    "Example: stegnet eval analyze --covers ../shared/data/train --set runs/stegdata --jobs 2"))
def eval_analyze_cmd(
    covers: CoversOpt,
    stegdata: Annotated[
        Path, typer.Option("--set", help="Folder for the cover / stego set (built if missing, "
                           "resumed if partial; see stegnet_research.stegdata).")
    ] = Path("runs/stegdata"),
    size: SizeOpt = 256,
    detectors: Annotated[
        Path | None, typer.Option("--detectors", help="Folder of CNN detectors "
                                  "(default: the shipped weights/detectors).")
    ] = None,
    out: OutOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Use only the first N photos "
                                              "of each split.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="Processes for building the set.")] = 1,
    quiet: QuietOpt = False,
) -> None:
    """Detectability: classic and CNN detectors on covers vs our stego vs LSB replacement.

    COVERS is the training folder: its train split (thresholds, CNN training) and its
    held-out split (every 10th photo, the reported numbers) each give two covers per
    photo, and each cover a stego image per method.
    """
    with _errors():
        from stegnet.analysis import detectors_dir
        from stegnet.device import apply_threads
        from stegnet_research.evaluate import eval_steganalysis
        from stegnet_research.stegdata import build

        apply_threads()

        if not covers.is_dir():
            raise UsageError(f"{covers}: not a folder")
        build(covers, stegdata, workers=jobs, limit=limit or 0, size=size,
              progress=_progress("building set", quiet))
        result = eval_steganalysis(stegdata, detectors or detectors_dir(),
                                   progress=_progress("detectors", quiet))
        dataset = f"heldout-{size}"
        result.update(dataset=dataset, command="stegnet " + " ".join(sys.argv[1:]))
        target = out if out is not None else Path("results") / "steganalysis" / f"{dataset}.json"
        _write_result(result, target, "steganalysis", dataset, quiet)
        for method, detector_rows in result["detection"].items():
            _stderr(f"{method:10s} " + "  ".join(
                f"{d}: AUC {v['auc']:.2f} acc {v['accuracy']:.2f}"
                for d, v in detector_rows.items()), quiet)


@eval_app.command("rate-distortion", epilog=(
    "Example: stegnet eval rate-distortion --covers ../shared/data/train --held-out --size 256"))
def eval_rate_distortion_cmd(
    covers: CoversOpt,
    held_out: HeldOutOpt = False,
    split: SplitOpt = "every10",
    size: SizeOpt = 256,
    out: OutOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """embed-bits quality vs payload (0.01-0.4 bit/pixel and capacity), LSB alongside."""
    with _errors():
        from stegnet_research.evaluate import eval_rate_distortion

        result = _run_study(eval_rate_distortion, "rate-distortion", covers, held_out, split,
                            size, out, limit, quiet)
        for point in result["curve"]:
            if "psnr" in point:
                _stderr(f"{point['rate']}: {point['net_bpp']['mean']:.3f} bit/pixel, PSNR "
                        f"{point['psnr']['mean']:.2f} dB, changed pixels "
                        f"{point['changed_pixels']['mean']:.1%}, payload ok {point['ok']}/"
                        f"{point['images']}", quiet)
        for point in result["temperature_curve"]:
            if "psnr" in point:
                _stderr(f"temperature {point['temperature']}: {point['net_bpp']['mean']:.3f} "
                        f"bit/pixel, PSNR {point['psnr']['mean']:.2f} dB, payload ok "
                        f"{point['ok']}/{point['images']}", quiet)


@eval_app.command("robustness", epilog=(
    "Example: stegnet eval robustness --covers ../shared/data/train --held-out --size 256"))
def eval_robustness_cmd(
    covers: CoversOpt,
    held_out: HeldOutOpt = False,
    split: SplitOpt = "every10",
    size: SizeOpt = 256,
    out: OutOpt = None,
    limit: LimitOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """What survives: PNG re-save, JPEG 95/90/75, resize, noise, crop (both methods)."""
    with _errors():
        from stegnet_research.evaluate import eval_robustness

        result = _run_study(eval_robustness, "robustness", covers, held_out, split, size, out,
                            limit, quiet)
        for name, row in result["table"].items():
            _stderr(f"{name:11s} secret PSNR {row['secret_psnr_mean']:.2f} dB  bits raw BER "
                    f"{row['bits_raw_ber_mean']:.3f}  payload ok {row['bits_success']}", quiet)


# ---------------------------------------------------------------- train
# Options default to None: only what the user gives overrides the trainer's own defaults
# (HideTrainConfig / BitsTrainConfig, the recipes of the shipped models).
DataOpt = Annotated[Path | None, typer.Option("--data", help="Folder of training photos.")]
RunOpt = Annotated[Path | None, typer.Option("--out", help="Run folder (resumed if it exists).")]
StepsOpt = Annotated[int | None, typer.Option(help="Total optimiser steps.")]
MinutesOpt = Annotated[float | None, typer.Option(help="Stop after this wall time.")]
BatchOpt = Annotated[int | None, typer.Option(help="Images per step.")]
CropOpt = Annotated[int | None, typer.Option(help="Random crop size.")]
LrOpt = Annotated[float | None, typer.Option(help="Peak learning rate.")]
BlocksOpt = Annotated[int | None, typer.Option(help="Coupling blocks.")]
HiddenOpt = Annotated[int | None, typer.Option(help="Subnet width.")]
ThreadsOpt = Annotated[int | None, typer.Option(help="CPU threads.")]


#: Photos a trainer needs at least: hide validates on 2 held-out photos (every 10th photo
#: is held out, so 11 photos in all); bits on 1 held-out photo and trains on the rest.
MIN_TRAIN_PHOTOS = {"hide": 11, "bits": 2}


def _check_photo_folder(folder: str | Path, min_photos: int) -> None:
    """UsageError unless ``folder`` is a folder with at least ``min_photos`` photos."""
    from stegnet_research.data import list_photos

    path = Path(folder)
    if not path.is_dir():
        raise UsageError(f"--data {folder}: no such folder (give --data DIR, a folder of "
                         f"photos)")
    photos = list_photos(path)
    if not photos:
        raise UsageError(f"--data {folder}: no photos in this folder (JPEG, PNG, WebP, BMP "
                         f"or TIFF files)")
    if len(photos) < min_photos:
        raise UsageError(f"--data {folder}: {len(photos)} photos, training needs at least "
                         f"{min_photos} (every 10th is held out for validation)")


def _train(module: str, config_name: str, options: dict, minutes, quiet: bool) -> None:
    """Build the trainer's config from its defaults plus the given options, check its data
    folder, then train.

    Threads: the command's own ``--threads``, else the global ``--threads`` or
    ``$OMP_NUM_THREADS``, else the trainer's recipe.
    """
    import importlib

    from stegnet.device import env_threads

    trainer = importlib.import_module(f"stegnet_research.train.{module}")
    config_class = getattr(trainer, config_name)
    given = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()
             if v is not None}
    if "threads" in options and "threads" not in given and (STATE.threads or env_threads()):
        given["threads"] = STATE.threads or env_threads()
    architecture = {k: given.pop(k) for k in ("blocks", "hidden") if k in given}
    cfg = config_class(**given)
    cfg.model = {**cfg.model, **architecture}
    if module in MIN_TRAIN_PHOTOS:
        _check_photo_folder(cfg.data, MIN_TRAIN_PHOTOS[module])
    elif not Path(cfg.data).is_dir():
        raise UsageError(f"--set {cfg.data}: no such folder (build the cover / stego set "
                         f"first: stegnet eval analyze --covers DIR --set {cfg.data})")
    try:
        run = trainer.train(cfg, minutes, progress=_progress("training", quiet))
    except FileNotFoundError as error:  # the trainer found no usable data in the folder
        raise UsageError(f"{error.args[-1] if error.args else error}") from None
    _stderr(f"run folder {run}: best weights {run / 'best.safetensors'}", quiet)


@train_app.command("hide", epilog=(
    "Example: stegnet train hide --data ../shared/data/train --out runs/hide --minutes 60"))
def train_hide_cmd(
    data: DataOpt = None,
    out: RunOpt = None,
    steps: StepsOpt = None,
    minutes: MinutesOpt = None,
    batch: BatchOpt = None,
    crop: CropOpt = None,
    lr: LrOpt = None,
    blocks: BlocksOpt = None,
    hidden: HiddenOpt = None,
    conceal_weight: Annotated[float | None, typer.Option(help="Weight of stego-vs-cover MSE.")
                              ] = None,
    threads: ThreadsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train the hiding network; checkpoints and the curve go to OUT.

    Unset options take the recipe of the shipped hinet-s8 (stegnet_research.train.hide).
    """
    with _errors():
        _train("hide", "HideTrainConfig",
               {"data": data, "out": out, "steps": steps, "batch": batch, "crop": crop,
                "lr": lr, "blocks": blocks, "hidden": hidden, "conceal_weight": conceal_weight,
                "threads": threads}, minutes, quiet)


@train_app.command("bits", epilog=(
    "Example: stegnet train bits --data ../shared/data/train --out runs/bits --minutes 60"))
def train_bits_cmd(
    data: DataOpt = None,
    out: RunOpt = None,
    steps: StepsOpt = None,
    minutes: MinutesOpt = None,
    batch: BatchOpt = None,
    crop: CropOpt = None,
    lr: LrOpt = None,
    blocks: BlocksOpt = None,
    hidden: HiddenOpt = None,
    robust_weight: Annotated[
        float | None, typer.Option(help="Weight of the sign-survives-rounding loss (0: NLL "
                                   "only).")
    ] = None,
    init: Annotated[str | None, typer.Option(help="Start from these .safetensors weights.")
                    ] = None,
    threads: ThreadsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train the colour flow for embed-bits; checkpoints and the curve go to OUT.

    Unset options take the recipe of the shipped cinn-s6 (stegnet_research.train.bits).
    """
    with _errors():
        _train("bits", "BitsTrainConfig",
               {"data": data, "out": out, "steps": steps, "batch": batch, "crop": crop,
                "lr": lr, "blocks": blocks, "hidden": hidden, "robust_weight": robust_weight,
                "init": init, "threads": threads}, minutes, quiet)


@train_app.command("detector", epilog=(
    "Example: stegnet train detector --method hide --set runs/stegdata --out runs/detect-hide"))
def train_detector_cmd(
    method: Annotated[str, typer.Option(help="hide, bits-full, bits-half, lsb-full or "
                                        "lsb-half.")] = "hide",
    stegdata: Annotated[Path | None, typer.Option("--set", help="Cover / stego set "
                                                  "(stegnet eval analyze builds it).")] = None,
    out: RunOpt = None,
    steps: StepsOpt = None,
    minutes: MinutesOpt = None,
    batch: Annotated[int | None, typer.Option(help="Cover / stego pairs per step.")] = None,
    crop: CropOpt = None,
    lr: LrOpt = None,
    threads: ThreadsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Train a CNN steganalyser on the set's train split; checkpoints and curve go to OUT."""
    with _errors():
        from stegnet_research.stegdata import METHODS

        if method not in METHODS:
            raise UsageError(f"unknown method '{method}' (known: {', '.join(METHODS)})")
        _train("detector", "DetectorTrainConfig",
               {"method": method, "data": stegdata, "out": out or Path(f"runs/detect-{method}"),
                "steps": steps, "batch": batch, "crop": crop, "lr": lr, "threads": threads},
               minutes, quiet)


# ---------------------------------------------------------------- bench
@app.command(epilog="Example: stegnet bench --sizes 256,512,1024,2048 --json")
def bench(
    sizes: Annotated[str, typer.Option(help="Comma-separated square sizes in pixels.")] = (
        "256,512,1024,2048"),
    device: DeviceOpt = "auto",
    methods: Annotated[str, typer.Option(help="hide, bits or both.")] = "hide,bits",
    large: Annotated[
        bool, typer.Option("--large", help="Also run a 6000x4000 (24 MP) image in a fresh "
                           "process and report its own peak RSS.")
    ] = False,
    startup: Annotated[
        bool, typer.Option("--startup", help="Also time `stegnet --help` and one `hide` in "
                           "fresh processes.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Time hide/reveal and embed/extract per image size; print numbers and peak memory.

    Times are for the pipeline with the model already loaded (one process); peak RSS is
    the process's peak so far (sizes run in the given order).
    """
    with _errors():
        from stegnet_research.benchmark import isolated_case, run_benchmark, startup_times

        echo = None if json_out else print
        rows = run_benchmark([int(s) for s in sizes.split(",") if s.strip()], device,
                             [m.strip() for m in methods.split(",")], echo=echo)
        extra: dict[str, Any] = {}
        if large:
            extra["large"] = isolated_case(6000, 4000, device, methods)
            if echo:
                echo("  ".join(f"{k}={v}" for k, v in extra["large"].items()))
        if startup:
            extra["startup"] = startup_times()
            if echo:
                echo("  ".join(f"{k}={v}" for k, v in extra["startup"].items()))
        if json_out:
            _emit_json({"command": "bench", "rows": rows, **extra})


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()

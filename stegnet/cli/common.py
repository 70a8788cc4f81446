"""What every command shares: the global state, option types, error handling, output.

Every command prints human messages on stderr (none with ``--quiet``) and, with
``--json``, JSON on stdout (one object; one line per file in folder mode). Errors are one
line on stderr (``stegnet: error: ...``) and a documented exit code; a traceback only with
``--debug``.

Nothing here imports torch: ``stegnet --help`` must stay fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stegnet.errors import StegnetError

if TYPE_CHECKING:
    from stegnet.batch import Plan, Work


class _State:
    """Process-wide settings from the global options (set by the root command)."""

    debug: bool = False
    threads: int | None = None


STATE = _State()

# ---------------------------------------------------------------- shared options
ForceOpt = Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing output.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No messages on stderr.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto (CUDA if available), cpu or cuda.")
]
PrecisionOpt = Annotated[
    str, typer.Option("--precision", help="Network working precision: auto (bfloat16 on a "
                      "CPU with native bfloat16, else float32), float32 or bfloat16.")
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
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", min=1, help="Files processed in parallel "
                                      "(folder mode).")]
LosslessChannelOpt = Annotated[str, typer.Option(
    "--channel", help="The lossless byte channel studied: pixel (the default of embed-bits) "
    "or flow.")]
FlowModeOpt = Annotated[str, typer.Option(
    "--flow-mode", help="[flow channel] auto, sparse or full.")]


# ---------------------------------------------------------------- eval options
CoversOpt = Annotated[Path, typer.Option("--covers", help="Folder of cover photos.")]
HeldOutOpt = Annotated[
    bool,
    typer.Option("--held-out/--all", help="--held-out: COVERS is the training folder; use its "
                 "held-out split (every 10th photo) centre-cropped to --size, plus 2 odd-sized."),
]
SizeOpt = Annotated[int, typer.Option("--size", help="Crop size for --held-out.")]
SplitOpt = Annotated[
    str,
    typer.Option("--split", help="Held-out rule: every10 (every 10th photo by name), package "
                 "(whole source packages held out by a rule on the package name; MANIFEST.tsv "
                 "beside the folder) or both (held out by both rules)."),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="JSON to write (default results/MODEL/DATASET.json).")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Use only the first N images.")]


# ---------------------------------------------------------------- train options
# Options default to None: only what the user gives overrides the recipe's own defaults
# (HideTrainConfig / BitsTrainConfig / DetectorTrainConfig, the recipes of the shipped models).
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
TrainJsonOpt = Annotated[bool, typer.Option("--json", help="Print each validation record, "
                                            "then the run folder, as JSON lines on stdout.")]


# ---------------------------------------------------------------- output
def stderr(message: str, quiet: bool) -> None:
    """A human message on stderr (none with ``--quiet``)."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def emit_json(record: dict[str, Any]) -> None:
    """One JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int) -> typer.Exit:
    """Print the one error line; the caller raises the returned Exit."""
    print(f"stegnet: error: {message}", file=sys.stderr, flush=True)
    return typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turn library errors into one stderr line + exit code (traceback only with --debug)."""
    try:
        yield
    except typer.Exit:
        raise
    except StegnetError as error:
        if STATE.debug:
            raise
        raise fail(str(error).splitlines()[0] if str(error) else type(error).__name__,
                   error.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except MemoryError:
        raise fail("out of memory (try a smaller image or --device cpu)", 1) from None
    except Exception as error:  # noqa: BLE001 - last line of defence for the user
        if STATE.debug:
            raise
        text = str(error).splitlines()[0] if str(error) else ""
        raise fail(f"internal error: {type(error).__name__}: {text} (rerun with --debug)",
                   1) from None


def progress(description: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A Rich progress callback on a terminal; None (silent) otherwise."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(transient=True, console=Console(stderr=True))
    task = bar.add_task(description, total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    return update


def run_files(plan: Plan, work: Work, *, quiet: bool, json_out: bool, jobs: int,
              label: str) -> None:
    """Run ``work`` over ``plan`` (:func:`stegnet.batch.run`) and print.

    ``work`` returns its JSON record with a ``message`` for stderr. One file: the message,
    the record with --json; errors propagate. Folder mode: a line per file (or a progress
    bar on a terminal), every failure as an error line, a JSON line per file with
    --json (``ok`` true, or ``input``, ``ok`` false, ``error``, ``code``), a summary, and
    the highest failure exit code if any file failed.
    """
    from stegnet import batch

    files = len(plan.pairs)
    bar = progress(f"{label} {files} files" if plan.folder else label, quiet)

    def show(outcome: batch.Outcome) -> None:
        if outcome.ok:
            record = dict(outcome.record or {})
            message = record.pop("message", "")
            if plan.folder:
                record["ok"] = True
            if bar is None or not plan.folder:
                stderr(message, quiet)
        else:
            print(f"stegnet: error: {outcome.error}", file=sys.stderr, flush=True)
            record = {"input": outcome.source, "ok": False, "error": outcome.error,
                      "code": outcome.code}
        if json_out:
            emit_json(record)

    summary = batch.run(plan, work, jobs=jobs, progress=bar, on_outcome=show)
    if plan.folder:
        stderr(f"{summary.succeeded} done, {summary.failed} failed", quiet)
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)

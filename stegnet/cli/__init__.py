"""Command-line interface (thin: parses options, calls :mod:`stegnet.api`, prints).

* this module: the root ``stegnet`` command, its global options (``--debug``,
  ``--threads``, ``--version``; the first two accepted anywhere on the line) and ``main``;
* :mod:`stegnet.cli.common`: shared options, the error handling (one line on stderr and
  an exit code; a traceback only with ``--debug``), progress and JSON output;
* :mod:`stegnet.cli.commands`: hide, reveal, compare, analyze, models;
* :mod:`stegnet.cli.bytes_commands`: embed-bits, extract-bits, capacity (by channel);
* :mod:`stegnet.cli.research`: ``eval``, ``train`` and ``bench`` (the research wing,
  imported lazily).

Every command prints human messages on stderr (none with ``--quiet``) and, with
``--json``, JSON on stdout. Nothing here imports torch before a command runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from stegnet import __version__
from stegnet.cli import bytes_commands, commands, research
from stegnet.cli.common import STATE, emit_json, errors, progress
from stegnet.errors import UsageError

__all__ = ["STATE", "StegnetGroup", "app", "emit_json", "errors", "main", "progress",
           "split_global_options"]

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 runtime error, 2 usage or input error (bad option, unreadable "
    "input, output exists without --force), 3 no payload / wrong key / corrupted, "
    "4 payload larger than capacity."
)

GLOBAL_OPTIONS_HELP = (
    "--debug (tracebacks) and --threads N (CPU threads; default: $OMP_NUM_THREADS, else the "
    "usable cores, at most 8) may be given anywhere on the command line."
)


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
        "Stegos are written as 8-bit PNG (JPEG for the jpeg channel) and everything is "
        "measured after saving them.\n\n"
        + EXIT_CODES_HELP + "\n\n" + GLOBAL_OPTIONS_HELP
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(commands.app)  # hide, reveal
app.add_typer(bytes_commands.app)  # embed-bits, extract-bits, capacity
app.add_typer(commands.inspect_app)  # compare, analyze, models
app.add_typer(research.app)  # eval, train, bench


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


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()

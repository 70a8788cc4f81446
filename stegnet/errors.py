"""Exception types shared by the library and the CLI.

Every error a user can cause is a :class:`StegnetError` subclass carrying an
``exit_code``; the CLI prints ``str(error)`` as one line on stderr and exits
with that code. Anything else is a bug and shows a traceback only with
``--debug``.

Exit codes (documented in ``stegnet --help`` and the README):

=====  ==========================================================
0      success
1      runtime error (I/O failure, model problem, anything else)
2      usage error: bad option or model name, bad or missing input file, refused output
3      no payload / no hidden image found, wrong key, or corrupted payload
4      payload larger than the cover's capacity
=====  ==========================================================
"""

from __future__ import annotations


class StegnetError(Exception):
    """Base class of all errors meant for the user (one-line message)."""

    exit_code: int = 1


class UsageError(StegnetError):
    """Bad combination of options or a refused output path."""

    exit_code = 2


class InputError(StegnetError):
    """An input file is missing, unreadable, not an image, or unsupported."""

    exit_code = 2


class OutputError(StegnetError):
    """An output cannot be written (exists without --force, read-only, disk full)."""

    exit_code = 2


class ModelError(StegnetError):
    """Unreadable or unusable weights (a runtime problem)."""

    exit_code = 1


class UnknownModel(ModelError):
    """The ``--model`` given names no shipped model and no existing weight file (usage)."""

    exit_code = 2


class PayloadError(StegnetError):
    """Base class for payload extraction failures."""

    exit_code = 3


class PayloadNotFound(PayloadError):
    """The image carries no stegnet payload (or not one readable without a key)."""

    def __init__(self, message: str = "no payload found") -> None:
        super().__init__(message)


class WrongKeyOrCorrupted(PayloadError):
    """Authentication or error correction failed: wrong key or damaged image."""

    def __init__(self, message: str = "wrong key or corrupted payload") -> None:
        super().__init__(message)


class NoHiddenImage(PayloadError):
    """``reveal`` found no image hidden by ``stegnet hide`` in this picture."""

    def __init__(self, message: str = "no hidden image found") -> None:
        super().__init__(message)


def more_telling(first: PayloadError | None, second: PayloadError) -> PayloadError:
    """Of two readers' failures (``first`` may be None: none yet), the one that says more: a
    frame found but damaged or encrypted beats "no payload found"; a tie keeps ``first``."""
    if first is None or isinstance(first, PayloadNotFound):
        return second
    return first


class PayloadTooLarge(StegnetError):
    """The payload does not fit the cover's capacity."""

    exit_code = 4

"""Safe file output: atomic writes, no overwriting without ``force``, stdout for ``-``.

:func:`write_bytes` (and :func:`stegnet.imageio.save_png`, built on :func:`atomic_write`)
write to a temporary file in the destination directory, flush and fsync it, then move it
over the destination with :func:`os.replace`. A failure leaves neither a partial output nor
a temporary file behind, and an existing file is never damaged. :func:`check_output_path`
refuses a bad destination before any work is done. Every failure is a one-line
:mod:`stegnet.errors` exception that starts with the path.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable

from stegnet.errors import OutputError, UsageError

__all__ = ["atomic_write", "check_output_path", "write_bytes", "write_stdout"]

_STDOUT_LABEL = "<stdout>"
_TTY_MESSAGE = "refusing to write binary data to a terminal; use -o FILE or a pipe"
NOT_PNG_MESSAGE = "output must be PNG (a lossy or other format would destroy the hidden data)"

PathArg = str | os.PathLike

def one_line(text: str) -> str:
    """Collapse whitespace (including newlines) so a message stays on one line."""
    return " ".join(str(text).split())


def os_reason(exc: OSError) -> str:
    """Short, lower-case reason for an :class:`OSError` (``"permission denied"``, ...)."""
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.EISDIR:
        return "is a directory"
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = one_line(reason)
    return reason[:1].lower() + reason[1:]


def is_stdio(path: object) -> bool:
    """True for the conventional ``"-"`` (standard input/output)."""
    return isinstance(path, str) and path == "-"


def fspath(path: PathArg) -> str:
    """``os.fspath`` that always returns ``str`` (bytes paths are decoded)."""
    result = os.fspath(path)
    return os.fsdecode(result) if isinstance(result, bytes) else result


def is_png_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() == ".png"


def parent_dir(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def write_stdout(data: bytes) -> None:
    """Write binary ``data`` to standard output, refusing a terminal."""
    stdout = sys.stdout
    if stdout is None:
        raise OutputError(f"{_STDOUT_LABEL}: standard output is not available")
    try:
        is_tty = stdout.isatty()
    except (AttributeError, ValueError, OSError):
        is_tty = False
    if is_tty:
        raise UsageError(f"{_STDOUT_LABEL}: {_TTY_MESSAGE}")
    try:
        stdout.flush()  # anything already written as text goes first
        stdout.buffer.write(data)
        stdout.buffer.flush()
    except BrokenPipeError:
        raise OutputError(f"{_STDOUT_LABEL}: broken pipe") from None
    except OSError as exc:
        raise OutputError(f"{_STDOUT_LABEL}: cannot write ({os_reason(exc)})") from None


def _default_file_mode() -> int:
    """Permissions a newly created file would get (0o666 minus the umask)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def is_special(path: str) -> bool:
    """An existing destination that is not a regular file (``/dev/stdout``, a FIFO, ...).

    Such destinations are written directly: there is no file to replace atomically, and
    renaming a temporary file over them would destroy the device node or pipe.
    """
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def check_destination(path: str, *, force: bool) -> None:
    """Refuse a destination that is a directory, exists without ``force``, or has no parent."""
    if is_special(path):
        return
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory")
    if os.path.lexists(path) and not force:
        raise OutputError(f"{path}: exists (use --force to overwrite)")
    parent = parent_dir(path)
    if not os.path.isdir(parent):
        if os.path.exists(parent):
            raise OutputError(f"{path}: {parent} is not a directory")
        raise OutputError(f"{path}: directory {parent} does not exist")


def _fsync_dir(directory: str) -> None:
    """Best-effort fsync of a directory so a rename survives a crash (POSIX only)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes, *, force: bool) -> None:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`."""
    check_destination(path, force=force)
    if is_special(path):
        try:
            with open(path, "wb") as stream:
                stream.write(data)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write ({os_reason(exc)})") from None
        return
    directory = parent_dir(path)
    if os.path.lexists(path):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = _default_file_mode()
    else:
        mode = _default_file_mode()
    temp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=directory,
            delete=False,
            prefix="." + os.path.basename(path),
            suffix=".tmp",
        ) as temp:
            temp_name = temp.name
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        if not force and os.path.lexists(path):  # appeared while we were writing
            raise OutputError(f"{path}: exists (use --force to overwrite)")
        os.replace(temp_name, path)
        temp_name = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({os_reason(exc)})") from None
    finally:
        if temp_name is not None:
            try:
                os.unlink(temp_name)
            except OSError:
                pass
    _fsync_dir(directory)


def write_bytes(data: bytes, path: str | os.PathLike, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (same rules as :func:`save_png`, any extension).

    ``path`` ``"-"`` writes to standard output, which is refused when it is a terminal.

    Raises:
        UsageError: stdout is a terminal.
        OutputError: as for :func:`save_png`.
    """
    if is_stdio(path):
        write_stdout(bytes(data))
        return
    atomic_write(fspath(path), bytes(data), force=force)


def _same_file(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name the same file (by resolved path or by inode)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    output: str | os.PathLike | None,
    inputs: Iterable[str | os.PathLike | bytes | None],
    *,
    force: bool,
    png: bool,
) -> None:
    """Validate an output path before any expensive work is done.

    ``output`` ``None`` or ``"-"`` (standard output) passes; so do inputs that are ``"-"``,
    ``None`` or raw ``bytes``, which cannot collide with a file.

    Raises:
        UsageError: ``output`` is one of ``inputs`` (same resolved path or same file), or
            ``png`` is true and the extension is not ``.png``.
        OutputError: ``output`` exists and ``force`` is false, is a directory, or its parent
            directory is missing or not writable.
    """
    if output is None or is_stdio(output):
        return
    target = fspath(output)
    for source in inputs:
        if source is None or is_stdio(source) or isinstance(source, (bytes, bytearray)):
            continue
        if _same_file(target, fspath(source)):
            raise UsageError(f"{target}: output would overwrite an input")
    if png and not is_png_name(target) and not is_special(target):
        raise UsageError(f"{target}: {NOT_PNG_MESSAGE}")
    check_destination(target, force=force)
    if not os.access(parent_dir(target), os.W_OK | os.X_OK):
        raise OutputError(f"{target}: directory {parent_dir(target)} is not writable")

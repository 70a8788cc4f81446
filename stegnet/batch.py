"""Files and folders: the (input, output) pairs of a command, and running work over them.

A command reads one file and writes one, or (folder mode) reads every image of a folder
and writes one output per image into an output folder:

* :func:`plan` makes the pairs and checks what can be checked before any work is done
  (a folder needs an output folder; a single output may not exist without ``force``,
  overwrite an input, or lack the ``.png`` suffix);
* :func:`run` calls ``work(source, target, progress)`` on each pair. One file: errors
  propagate. Folder mode: every file is tried (``jobs`` at a time, in threads), the
  record or the error of each is collected, and the :class:`Summary` carries the exit
  code (the highest of the failures).

Nothing here prints: the caller gets a plain ``progress(done, total)`` callback and an
``on_outcome(outcome)`` callback per finished file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stegnet.errors import StegnetError, UsageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif",
                            ".ppm"})
#: Output names that look like a file: a folder's output must not be one of these.
FILE_SUFFIXES = IMAGE_SUFFIXES | {".bin"}

Progress = Callable[[int, int], None] | None
#: ``work(source, target, progress) -> record``; ``progress`` only in single-file mode.
Work = Callable[[str, str, Progress], dict]


def is_folder(path: str | None) -> bool:
    """True for an existing folder (never for ``-``, standard input or output)."""
    return path is not None and path != "-" and Path(path).is_dir()


def folder_images(folder: str) -> list[str]:
    """The image files of ``folder`` (by suffix, sorted); UsageError if there are none."""
    files = sorted(str(p) for p in Path(folder).iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"{folder}: no images in this folder")
    return files


@dataclass(frozen=True)
class Plan:
    """What a command will read and write.

    ``pairs``: (source, target) per file; ``folder``: folder mode (``output_dir`` is then
    the output folder, created by :func:`run`); ``inputs``: other inputs that no output
    may overwrite (e.g. the secret image); ``force`` and ``png`` as in
    :func:`stegnet.fileio.check_output_path`.
    """

    pairs: tuple[tuple[str, str], ...]
    folder: bool = False
    output_dir: str | None = None
    inputs: tuple[str, ...] = ()
    force: bool = False
    png: bool = True

    def check(self, source: str, target: str) -> None:
        """UsageError / OutputError if ``target`` may not be written (see
        :func:`stegnet.fileio.check_output_path`)."""
        from stegnet.fileio import check_output_path

        check_output_path(target, [source, *self.inputs], force=self.force, png=self.png)


def plan(source: str, output: str | None, *, suffix: str = ".png",
         default: Callable[[str], str] | None = None, inputs: Sequence[str | None] = (),
         force: bool = False, png: bool = True) -> Plan:
    """The pairs for ``source`` (a file, ``-``, or a folder) and ``output``.

    One file: ``output`` (None or empty: ``default(source)``, or UsageError without a
    default), checked at once. A folder: ``output`` must be a folder (existing, or a name
    without a file suffix); each of its images goes to ``output/STEM + suffix``.
    """
    others = tuple(str(i) for i in inputs if i is not None)
    if not is_folder(source):
        if not output:
            if default is None:
                raise UsageError("missing option -o/--output")
            output = default(source)
        single = Plan(((source, output),), inputs=others, force=force, png=png)
        single.check(source, output)
        return single
    if not output or output == "-":
        raise UsageError(f"{source} is a folder: give an output folder with -o")
    target = Path(output)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{output}: exists and is not a folder")
    if not target.exists() and target.suffix.lower() in FILE_SUFFIXES:
        raise UsageError(f"{source} is a folder: -o {output} must be a folder, not a file name")
    pairs = tuple((f, str(target / (Path(f).stem + suffix))) for f in folder_images(source))
    return Plan(pairs, True, output, others, force, png)


@dataclass
class Outcome:
    """One file's result: the work's ``record``, or the ``error`` (one line) and its
    exit ``code``."""

    source: str
    target: str
    record: dict[str, Any] | None = None
    error: str | None = None
    code: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Summary:
    """All outcomes (in the plan's order) of a :func:`run`."""

    outcomes: list[Outcome] = field(default_factory=list)
    folder: bool = False

    @property
    def failed(self) -> int:
        return sum(not o.ok for o in self.outcomes)

    @property
    def succeeded(self) -> int:
        return len(self.outcomes) - self.failed

    @property
    def exit_code(self) -> int:
        """0 if every file succeeded, else the highest failure code."""
        return max((o.code for o in self.outcomes if not o.ok), default=0)


def _named(message: str, source: str, target: str) -> str:
    """The error message, prefixed with the file it is about unless it names it."""
    if source in message or target in message:
        return message
    return f"{source}: {message}"


@contextmanager
def shared_threads(jobs: int) -> Iterator[None]:
    """Within the block, ``jobs`` parallel jobs share the CPU threads
    (:mod:`stegnet.device`) instead of each taking them all."""
    from stegnet import device

    if jobs <= 1:
        yield
        return
    before = device.requested_threads()
    device.request_threads(max(1, device.thread_count() // jobs))
    try:
        yield
    finally:
        device.request_threads(before)


def run(plan: Plan, work: Work, *, jobs: int = 1, progress: Progress = None,
        on_outcome: Callable[[Outcome], None] | None = None) -> Summary:
    """Run ``work`` on every pair of ``plan``.

    One file: ``work(source, target, progress)``; its errors propagate. Folder mode: the
    output folder is created, every pair is tried (``jobs`` in parallel, sharing the CPU
    threads), a :class:`~stegnet.errors.StegnetError` becomes a failed :class:`Outcome`
    (other exceptions are bugs and propagate), ``on_outcome`` is called as each file
    finishes (in the calling thread) and ``progress(files done, total)`` after it.
    """
    if jobs < 1:
        raise UsageError(f"--jobs must be a positive integer (got {jobs})")
    if not plan.folder:
        source, target = plan.pairs[0]
        plan.check(source, target)
        outcome = Outcome(source, target, record=work(source, target, progress))
        if on_outcome is not None:
            on_outcome(outcome)
        return Summary([outcome])

    from concurrent.futures import ThreadPoolExecutor, as_completed

    if plan.output_dir is not None:
        Path(plan.output_dir).mkdir(parents=True, exist_ok=True)

    def attempt(pair: tuple[str, str]) -> Outcome:
        source, target = pair
        try:
            plan.check(source, target)
            return Outcome(source, target, record=work(source, target, None))
        except StegnetError as error:
            text = str(error).splitlines()[0] if str(error) else type(error).__name__
            return Outcome(source, target, error=_named(text, source, target),
                           code=error.exit_code)

    finished: dict[tuple[str, str], Outcome] = {}
    with shared_threads(jobs):
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(attempt, pair) for pair in plan.pairs]
            for done, future in enumerate(as_completed(futures), 1):
                outcome = future.result()
                finished[(outcome.source, outcome.target)] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)
                if progress is not None:
                    progress(done, len(plan.pairs))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return Summary([finished[pair] for pair in plan.pairs], folder=True)

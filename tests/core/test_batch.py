"""Files and folders (stegnet.batch): planning outputs, running work, collecting errors.
No models: the work functions here are fakes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from stegnet import batch
from stegnet.errors import InputError, NoHiddenImage, OutputError, PayloadTooLarge, UsageError


def _folder(path: Path, names: list[str]) -> Path:
    path.mkdir()
    for name in names:
        (path / name).write_bytes(b"image")
    return path


def _copy(source: str, target: str, progress) -> dict:
    Path(target).write_bytes(Path(source).read_bytes())
    return {"input": source, "output": target}


# ---------------------------------------------------------------- planning
def test_plan_one_file(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"x")
    plan = batch.plan(str(source), str(tmp_path / "out.png"))
    assert plan.pairs == ((str(source), str(tmp_path / "out.png")),) and not plan.folder


def test_plan_one_file_default_output_or_missing(tmp_path: Path) -> None:
    source = str(tmp_path / "s.png")
    plan = batch.plan(source, None, default=lambda s: s.replace(".png", ".revealed.png"))
    assert plan.pairs == ((source, str(tmp_path / "s.revealed.png")),)
    with pytest.raises(UsageError, match="missing option -o"):
        batch.plan(source, None)
    with pytest.raises(UsageError, match="missing option -o"):
        batch.plan(source, "")


def test_plan_one_file_refuses_to_overwrite(tmp_path: Path) -> None:
    source, secret, target = tmp_path / "a.png", tmp_path / "secret.png", tmp_path / "t.png"
    for path in (source, secret, target):
        path.write_bytes(b"x")
    with pytest.raises(OutputError, match="--force"):
        batch.plan(str(source), str(target))
    assert batch.plan(str(source), str(target), force=True).force
    with pytest.raises(UsageError, match="input"):
        batch.plan(str(source), str(source), force=True)
    with pytest.raises(UsageError, match="input"):  # nor any other input (the secret)
        batch.plan(str(source), str(secret), inputs=[str(secret), None], force=True)
    with pytest.raises(UsageError, match="PNG"):
        batch.plan(str(source), str(tmp_path / "t.jpg"))
    assert batch.plan(str(source), str(tmp_path / "t.bin"), png=False).pairs
    assert batch.plan("-", "-").pairs == (("-", "-"),)  # stdin to stdout


def test_plan_folder_default_names(tmp_path: Path) -> None:
    covers = _folder(tmp_path / "covers", ["b.jpg", "a.PNG", "notes.txt", "c.webp"])
    (covers / "sub.png").mkdir()  # a folder named like an image is not one
    plan = batch.plan(str(covers), str(tmp_path / "out"))
    assert plan.folder and plan.output_dir == str(tmp_path / "out")
    assert [(Path(s).name, Path(t).name) for s, t in plan.pairs] == [
        ("a.PNG", "a.png"), ("b.jpg", "b.png"), ("c.webp", "c.png")]
    assert not (tmp_path / "out").exists()  # created by run, not by planning
    bins = batch.plan(str(covers), str(tmp_path / "payloads"), suffix=".bin", png=False)
    assert [Path(t).name for _, t in bins.pairs] == ["a.bin", "b.bin", "c.bin"]


@pytest.mark.parametrize(("output", "needle"), [
    (None, "give an output folder"), ("-", "give an output folder"),
    ("{dir}/out.png", "must be a folder"), ("{dir}/file", "not a folder")])
def test_plan_folder_needs_an_output_folder(tmp_path: Path, output, needle) -> None:
    covers = _folder(tmp_path / "covers", ["a.png"])
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(UsageError, match=needle):
        batch.plan(str(covers), output.format(dir=tmp_path) if output else output)


def test_plan_empty_folder(tmp_path: Path) -> None:
    empty = _folder(tmp_path / "empty", ["notes.txt"])
    with pytest.raises(UsageError, match="no images"):
        batch.plan(str(empty), str(tmp_path / "out"))


# ---------------------------------------------------------------- running
def test_run_one_file_passes_progress_and_propagates_errors(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    source.write_bytes(b"data")
    plan = batch.plan(str(source), str(tmp_path / "b.png"))
    calls = []

    def work(src: str, dst: str, progress) -> dict:
        progress(1, 1)
        return _copy(src, dst, progress)

    seen = []
    summary = batch.run(plan, work, progress=lambda d, t: calls.append((d, t)),
                        on_outcome=seen.append)
    assert calls == [(1, 1)] and (tmp_path / "b.png").read_bytes() == b"data"
    assert summary.exit_code == 0 and not summary.folder and seen[0].ok
    assert seen[0].record == {"input": str(source), "output": str(tmp_path / "b.png")}

    def broken(src: str, dst: str, progress) -> dict:
        raise PayloadTooLarge("too big")

    with pytest.raises(PayloadTooLarge):
        batch.run(batch.plan(str(source), str(tmp_path / "c.png")), broken)


def test_run_folder_collects_errors_and_exit_code(tmp_path: Path) -> None:
    covers = _folder(tmp_path / "covers", ["a.png", "b.png", "c.png", "d.png"])
    out = tmp_path / "out"

    def work(src: str, dst: str, progress) -> dict:
        assert progress is None  # per-file progress only for a single file
        name = Path(src).name
        if name == "b.png":
            raise InputError(f"{src}: not an image")
        if name == "c.png":
            raise NoHiddenImage()  # a message that does not name the file
        return _copy(src, dst, progress)

    seen, ticks = [], []
    summary = batch.run(batch.plan(str(covers), str(out)), work, on_outcome=seen.append,
                        progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(1, 4), (2, 4), (3, 4), (4, 4)] and len(seen) == 4
    assert [o.ok for o in summary.outcomes] == [True, False, False, True]
    assert (summary.succeeded, summary.failed, summary.exit_code) == (2, 2, 3)
    errors = {Path(o.source).name: o.error for o in summary.outcomes if not o.ok}
    assert errors["b.png"] == f"{covers / 'b.png'}: not an image"  # not named twice
    assert errors["c.png"] == f"{covers / 'c.png'}: no hidden image found"
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "d.png"]


def test_run_folder_refuses_existing_outputs_unless_forced(tmp_path: Path) -> None:
    covers = _folder(tmp_path / "covers", ["a.png", "b.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"precious")
    summary = batch.run(batch.plan(str(covers), str(out)), _copy)
    assert summary.exit_code == 2 and summary.failed == 1
    assert "--force" in summary.outcomes[0].error
    assert (out / "a.png").read_bytes() == b"precious" and (out / "b.png").exists()
    forced = batch.run(batch.plan(str(covers), str(out), force=True),
                       lambda s, t, p: {"ok": Path(t).write_bytes(b"new") > 0})
    assert forced.exit_code == 0 and (out / "a.png").read_bytes() == b"new"


def test_run_folder_bugs_propagate(tmp_path: Path) -> None:
    covers = _folder(tmp_path / "covers", ["a.png"])

    def buggy(src: str, dst: str, progress) -> dict:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        batch.run(batch.plan(str(covers), str(tmp_path / "out")), buggy)


def test_run_folder_jobs_in_parallel_keep_the_plan_order(tmp_path: Path) -> None:
    names = [f"p{i}.png" for i in range(6)]
    covers = _folder(tmp_path / "covers", names)
    together = threading.Barrier(3, timeout=30)  # the first three files run at the same time
    callback_threads = set()

    def work(src: str, dst: str, progress) -> dict:
        if Path(src).name in names[:3]:
            together.wait()
        if src.endswith("p0.png"):
            time.sleep(0.05)  # finishes after the others
        return _copy(src, dst, progress)

    finished = []
    summary = batch.run(batch.plan(str(covers), str(tmp_path / "out")), work, jobs=3,
                        on_outcome=lambda o: (finished.append(Path(o.source).name),
                                              callback_threads.add(threading.get_ident())))
    assert summary.exit_code == 0 and finished[-1] == "p0.png"
    assert [Path(o.source).name for o in summary.outcomes] == names  # the plan's order
    assert callback_threads == {threading.get_ident()}  # callbacks run in the calling thread


def test_jobs_share_the_cpu_threads(monkeypatch) -> None:
    import torch

    from stegnet import device

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    device.request_threads(None)
    try:
        with batch.shared_threads(2):
            assert device.thread_count() == 2
        assert device.requested_threads() is None and device.thread_count() == 4
        device.request_threads(6)
        with batch.shared_threads(4):
            assert device.thread_count() == 1
        assert device.requested_threads() == 6
    finally:
        device.request_threads(None)
        torch.set_num_threads(before)


def test_run_rejects_no_jobs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--jobs"):
        batch.run(batch.Plan((("a", "b"),)), _copy, jobs=0)

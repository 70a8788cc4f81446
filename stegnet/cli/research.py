"""The research commands: ``stegnet eval ...`` (studies that write JSON), ``stegnet train
...`` (the recipes of the shipped models) and ``stegnet bench``.

The only module of the core that reaches into the research wing (``stegnet_research``),
and only inside the command functions: ``stegnet --help`` imports none of it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from stegnet.cli import common as opt
from stegnet.cli.common import STATE, emit_json, errors, progress, stderr
from stegnet.errors import UsageError

app = typer.Typer()
eval_app = typer.Typer(help="Measure quality on a folder of photos; writes JSON.")
train_app = typer.Typer(help="Train the networks (resumable; logs the curve).")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")


# ---------------------------------------------------------------- eval
def _eval_samples(covers: Path, held_out: bool, size: int, limit: int | None,
                  split: str = "every10") -> tuple[list, str]:
    from stegnet_research.evaluate import folder_samples, held_out_samples

    if not covers.is_dir() or split not in ("every10", "package", "both"):
        raise UsageError(f"{covers}: not a folder" if not covers.is_dir() else
                         f"--split must be every10, package or both (got {split!r})")
    samples = held_out_samples(covers, size, split=split) if held_out else folder_samples(covers)
    if limit is not None:
        samples = samples[:limit]
    if not samples:
        raise UsageError(f"{covers}: no images found")
    name = {"every10": "heldout", "package": "heldout-package", "both": "heldout-both"}[split]
    dataset = f"{name}-{size}" if held_out else covers.name
    return samples, dataset


def _command_line() -> str:
    return "stegnet " + " ".join(sys.argv[1:])


def _write_result(result: dict, target: Path, quiet: bool) -> Path:
    import json

    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n")
    stderr(f"wrote {target}", quiet)
    return target


def _model_tag(model: str | None) -> str:
    """A file-name tag for a non-default ``--model`` (a name or a weight file)."""
    return "" if model is None else f"-{Path(model).stem}"


@eval_app.command("hide", epilog=(
    "Example: stegnet eval hide --covers ../shared/data/train --held-out --size 512"))
def eval_hide_cmd(
    covers: opt.CoversOpt,
    secrets: Annotated[
        Path | None, typer.Option("--secrets", help="Folder of secrets (default: next cover).")
    ] = None,
    held_out: opt.HeldOutOpt = False,
    split: opt.SplitOpt = "every10",
    size: opt.SizeOpt = 512,
    latent: Annotated[str, typer.Option("--latent", help="zeros or gaussian.")] = "zeros",
    model: opt.ModelOpt = None,
    device: opt.DeviceOpt = "auto",
    out: opt.OutOpt = None,
    limit: opt.LimitOpt = None,
    quiet: opt.QuietOpt = False,
    precision: opt.PrecisionOpt = "auto",
    key: opt.KeyOpt = None,
) -> None:
    """Hide/reveal every pair, save as PNG, measure PSNR/SSIM; write JSON (-keyed with --key)."""
    with errors():
        from stegnet.device import resolve_device
        from stegnet.zoo import get_model_info
        from stegnet_research.evaluate import eval_hide, folder_samples

        name = get_model_info("hide", model).name
        samples, dataset = _eval_samples(covers, held_out, size, limit, split)
        secret_samples = folder_samples(secrets) if secrets is not None else None
        dev = resolve_device(device)
        result = eval_hide(samples, secret_samples, model=model, device=dev, latent=latent,
                           progress=progress("evaluating", quiet), precision=precision,
                           key=key.encode() if key else None)
        result.update(model=name, dataset=dataset, device=dev, command=_command_line())
        stem = (dataset if latent == "zeros" else f"{dataset}-{latent}") + ("-keyed" * bool(key))
        _write_result(result, out or Path("results") / name / f"{stem}.json", quiet)
        agg = result["aggregate"]
        stderr(f"{len(samples)} images: stego PSNR mean {agg['stego_psnr']['mean']:.2f} dB "
               f"(min {agg['stego_psnr']['min']:.2f}), secret PSNR mean "
               f"{agg['secret_psnr']['mean']:.2f} dB (min {agg['secret_psnr']['min']:.2f})",
               quiet)


@eval_app.command("bits", epilog=(
    "Example: stegnet eval bits --covers ../shared/data/train --held-out --size 512"))
def eval_bits_cmd(
    covers: opt.CoversOpt,
    held_out: opt.HeldOutOpt = False,
    split: opt.SplitOpt = "every10",
    size: opt.SizeOpt = 512,
    sizes: Annotated[
        str, typer.Option("--payloads", help="Comma-separated payload sizes in bytes or "
                          "'capacity'.")
    ] = "0,1,1024,capacity",
    model: opt.ModelOpt = None,
    device: opt.DeviceOpt = "auto",
    out: opt.OutOpt = None,
    limit: opt.LimitOpt = None,
    quiet: opt.QuietOpt = False,
    channel: opt.LosslessChannelOpt = "pixel",
    flow_mode: opt.FlowModeOpt = "auto",
) -> None:
    """Embed/extract payloads through saved PNGs (keyed and not); write JSON."""
    with errors():
        from stegnet.device import resolve_device
        from stegnet.zoo import get_model_info
        from stegnet_research.evaluate import eval_bits
        name = get_model_info("flow", model).name
        samples, dataset = _eval_samples(covers, held_out, size, limit, split)
        dev = resolve_device(device)
        payloads = tuple(p.strip() for p in sizes.split(",") if p.strip())
        result = eval_bits(samples, model=model, device=dev, sizes=payloads, channel=channel,
                           flow_mode=flow_mode, progress=progress("evaluating", quiet))
        name = name if channel == "flow" else "adaptive"  # results/adaptive: the pixel channel
        result.update(model=name, dataset=dataset, device=dev, command=_command_line())
        _write_result(result, out or Path("results") / name / f"{dataset}.json", quiet)
        agg = result["aggregate"]
        stderr(f"{agg['round_trips']} round trips, {agg['failures']} failures; raw BER mean "
               f"{agg['raw_ber']['mean']:.4f} (max {agg['raw_ber']['max']:.4f}); net "
               f"{agg['net_bpp']['mean']:.3f} bit/pixel (min {agg['net_bpp']['min']:.3f}); "
               f"dE00 mean {agg['delta_e00_mean']['mean']:.2f}", quiet)


def _run_study(study: Callable, folder: str, covers: Path, held_out: bool, split: str,
               size: int, model: str | None, device: str, out: Path | None,
               limit: int | None, quiet: bool) -> dict:
    """Run a study over the evaluation images with ``model`` on ``device``; write
    results/FOLDER/DATASET[-MODEL].json (or ``out``)."""
    from stegnet.device import resolve_device

    samples, dataset = _eval_samples(covers, held_out, size, limit, split)
    dev = resolve_device(device)
    result = study(samples, progress=progress(folder, quiet), model=model, device=dev)
    result.update(dataset=dataset, device=dev, command=_command_line())
    if model is not None:
        result.update(model=model)
    target = out or Path("results") / folder / f"{dataset}{_model_tag(model)}.json"
    _write_result(result, target, quiet)
    return result


@eval_app.command("analyze", epilog=(
    "Example: stegnet eval analyze --covers ../shared/data/train --set runs/stegdata --jobs 2"))
def eval_analyze_cmd(
    covers: opt.CoversOpt,
    stegdata: Annotated[
        Path, typer.Option("--set", help="Folder for the cover / stego set (built if missing, "
                           "resumed if partial; see stegnet_research.stegdata).")
    ] = Path("runs/stegdata"),
    size: opt.SizeOpt = 256,
    detectors: Annotated[
        Path | None, typer.Option("--detectors", help="Folder of CNN detectors "
                                  "(default: the shipped weights/detectors).")
    ] = None,
    device: opt.DeviceOpt = "auto",
    out: opt.OutOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Use only the first N photos "
                                              "of each split.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="Processes for building the set.")] = 1,
    quiet: opt.QuietOpt = False,
) -> None:
    """Detectability: classic and CNN detectors on covers vs our stego vs LSB replacement.

    COVERS is the training folder: its train split (thresholds, CNN training) and its
    held-out split (every 10th photo, the reported numbers) each give two covers per
    photo, and each cover a stego image per method.
    """
    with errors():
        from stegnet.device import resolve_device
        from stegnet_research.evaluate import eval_steganalysis
        from stegnet_research.stegdata import build

        if not covers.is_dir():
            raise UsageError(f"{covers}: not a folder")
        dev = resolve_device(device)
        build(covers, stegdata, workers=jobs, limit=limit or 0, size=size,
              progress=progress("building set", quiet))
        result = eval_steganalysis(stegdata, detectors, progress=progress("detectors", quiet),
                                   device=dev)
        dataset = f"heldout-{size}"
        result.update(dataset=dataset, device=dev, command=_command_line())
        _write_result(result, out or Path("results") / "steganalysis" / f"{dataset}.json",
                      quiet)
        for method, detector_rows in result["detection"].items():
            stderr(f"{method:10s} " + "  ".join(
                f"{d}: AUC {v['auc']:.2f} acc {v['accuracy']:.2f}"
                for d, v in detector_rows.items()), quiet)


@eval_app.command("rate-distortion", epilog=(
    "Example: stegnet eval rate-distortion --covers ../shared/data/train --held-out --size 256"))
def eval_rate_distortion_cmd(
    covers: opt.CoversOpt,
    held_out: opt.HeldOutOpt = False,
    split: opt.SplitOpt = "every10",
    size: opt.SizeOpt = 256,
    model: opt.ModelOpt = None,
    device: opt.DeviceOpt = "auto",
    out: opt.OutOpt = None,
    limit: opt.LimitOpt = None,
    quiet: opt.QuietOpt = False,
    channel: opt.LosslessChannelOpt = "pixel",
    flow_mode: opt.FlowModeOpt = "auto",
) -> None:
    """embed-bits quality vs payload (0.01-0.4 bit/pixel and capacity), LSB alongside."""
    with errors():
        from stegnet.zoo import get_model_info
        from stegnet_research.evaluate import eval_rate_distortion

        get_model_info("flow", model)  # a bad name fails before any work
        result = _run_study(functools.partial(eval_rate_distortion, channel=channel,
                                              flow_mode=flow_mode),
                            "rate-distortion", covers, held_out, split, size, model, device,
                            out, limit, quiet)
        for point in result["curve"]:
            if "psnr" in point:
                stderr(f"{point['rate']}: {point['net_bpp']['mean']:.3f} bit/pixel, PSNR "
                       f"{point['psnr']['mean']:.2f} dB, changed pixels "
                       f"{point['changed_pixels']['mean']:.1%}, payload ok {point['ok']}/"
                       f"{point['images']}", quiet)


@eval_app.command("robustness", epilog=(
    "Example: stegnet eval robustness --covers ../shared/data/train --held-out --size 256"))
def eval_robustness_cmd(
    covers: opt.CoversOpt,
    held_out: opt.HeldOutOpt = False,
    split: opt.SplitOpt = "every10",
    size: opt.SizeOpt = 256,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="A hide or a bits model (see `stegnet "
                                 "models`) replacing that task's default.")
    ] = None,
    device: opt.DeviceOpt = "auto",
    out: opt.OutOpt = None,
    limit: opt.LimitOpt = None,
    quiet: opt.QuietOpt = False,
) -> None:
    """What survives: PNG re-save, JPEG 95/90/75, resize, noise, crop (both methods)."""
    with errors():
        from stegnet_research.evaluate import eval_robustness

        result = _run_study(eval_robustness, "robustness", covers, held_out, split, size,
                            model, device, out, limit, quiet)
        for name, row in result["table"].items():
            stderr(f"{name:11s} secret PSNR {row['secret_psnr_mean']:.2f} dB  bits raw BER "
                   f"{row['bits_raw_ber_mean']:.3f}  payload ok {row['bits_success']}", quiet)


# ---------------------------------------------------------------- train
#: Photos a trainer needs at least: hide validates on 2 held-out photos (every 10th photo
#: is held out, so 11 photos in all); the flow on 1 held-out photo and trains on the rest.
MIN_TRAIN_PHOTOS = {"hide": 11, "flow": 2}


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


@contextmanager
def _trainer_output(quiet: bool, json_out: bool) -> Iterator[None]:
    """Where the recipe's validation records (printed on stdout) go: stdout with --json,
    nowhere with --quiet, else stderr with the other messages."""
    import contextlib
    import io

    if json_out:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO() if quiet else sys.stderr):
        yield


def _train(kind: str, recipe: Any, config_class: type, options: dict[str, Any],
           minutes: float | None, quiet: bool, json_out: bool) -> None:
    """Build the recipe's config from its defaults plus the given options, check its data
    folder, then train.

    Threads: the command's own ``--threads``, else the global ``--threads`` or
    ``$OMP_NUM_THREADS``, else the recipe's.
    """
    from stegnet.device import env_threads

    given = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()
             if v is not None}
    if "threads" in options and "threads" not in given and (STATE.threads or env_threads()):
        given["threads"] = STATE.threads or env_threads()
    architecture = {k: given.pop(k) for k in ("blocks", "hidden") if k in given}
    cfg = config_class(**given)
    cfg.model = {**cfg.model, **architecture}
    if kind in MIN_TRAIN_PHOTOS:
        _check_photo_folder(cfg.data, MIN_TRAIN_PHOTOS[kind])
    elif not Path(cfg.data).is_dir():
        raise UsageError(f"--set {cfg.data}: no such folder (build the cover / stego set "
                         f"first: stegnet eval analyze --covers DIR --set {cfg.data})")
    try:
        with _trainer_output(quiet, json_out):
            run = recipe.train(cfg, minutes, progress=progress("training", quiet))
    except FileNotFoundError as error:  # the recipe found no usable data in the folder
        raise UsageError(f"{error.args[-1] if error.args else error}") from None
    best = run / "best.safetensors"
    if json_out:
        emit_json({"command": f"train {kind}", "run": str(run), "best": str(best)})
    stderr(f"run folder {run}: best weights {best}", quiet)


@train_app.command("hide", epilog=(
    "Example: stegnet train hide --data ../shared/data/train --out runs/hide --minutes 60"))
def train_hide_cmd(
    data: opt.DataOpt = None,
    out: opt.RunOpt = None,
    steps: opt.StepsOpt = None,
    minutes: opt.MinutesOpt = None,
    batch: opt.BatchOpt = None,
    crop: opt.CropOpt = None,
    lr: opt.LrOpt = None,
    blocks: opt.BlocksOpt = None,
    hidden: opt.HiddenOpt = None,
    conceal_weight: Annotated[float | None, typer.Option(help="Weight of stego-vs-cover MSE.")
                              ] = None,
    split: Annotated[str | None, typer.Option(help="every10, or package: held-out packages "
                                              "unseen, validation on train-side ones")] = None,
    balance: Annotated[bool | None, typer.Option(help="Draw photos package-balanced.")] = None,
    target_stego: Annotated[float | None, typer.Option(help="Best checkpoint: max of min("
                                                       "stego - this, secret - next)")] = None,
    target_secret: Annotated[float | None, typer.Option(help="See --target-stego.")] = None,
    threads: opt.ThreadsOpt = None,
    quiet: opt.QuietOpt = False,
    json_out: opt.TrainJsonOpt = False,
) -> None:
    """Train the hiding network; checkpoints and the curve go to OUT.

    Unset options take the recipe of the shipped hinet-s8 (stegnet_research.train.hide).
    """
    with errors():
        from stegnet_research.data import SPLITS
        from stegnet_research.train import hide as recipe

        if split not in (None, *SPLITS):
            raise UsageError(f"unknown split '{split}' (choose from {', '.join(SPLITS)})")
        _train("hide", recipe, recipe.HideTrainConfig,
               {"data": data, "out": out, "steps": steps, "batch": batch, "crop": crop,
                "lr": lr, "blocks": blocks, "hidden": hidden, "conceal_weight": conceal_weight,
                "split": split, "balance": balance, "target_stego": target_stego,
                "target_secret": target_secret, "threads": threads}, minutes, quiet,
               json_out)


@train_app.command("bits", hidden=True, help="Deprecated name of `train flow`.")
@train_app.command("flow", epilog=(
    "Example: stegnet train flow --data ../shared/data/train --out runs/flow --minutes 60"))
def train_bits_cmd(
    data: opt.DataOpt = None,
    out: opt.RunOpt = None,
    steps: opt.StepsOpt = None,
    minutes: opt.MinutesOpt = None,
    batch: opt.BatchOpt = None,
    crop: opt.CropOpt = None,
    lr: opt.LrOpt = None,
    blocks: opt.BlocksOpt = None,
    hidden: opt.HiddenOpt = None,
    robust_weight: Annotated[
        float | None, typer.Option(help="Weight of the sign-survives-rounding loss (0: NLL "
                                   "only).")
    ] = None,
    init: Annotated[str | None, typer.Option(help="Start from these .safetensors weights.")
                    ] = None,
    threads: opt.ThreadsOpt = None,
    quiet: opt.QuietOpt = False,
    json_out: opt.TrainJsonOpt = False,
) -> None:
    """Train the colour flow (the flow channel's network); checkpoints and the curve go to
    OUT.

    Unset options take the recipe of the shipped cinn-s6 (stegnet_research.train.bits).
    """
    with errors():
        from stegnet_research.train import bits as recipe

        _train("flow", recipe, recipe.BitsTrainConfig,
               {"data": data, "out": out, "steps": steps, "batch": batch, "crop": crop,
                "lr": lr, "blocks": blocks, "hidden": hidden, "robust_weight": robust_weight,
                "init": init, "threads": threads}, minutes, quiet, json_out)


@train_app.command("detector", epilog=(
    "Example: stegnet train detector --method hide --set runs/stegdata --out runs/detect-hide"))
def train_detector_cmd(
    method: Annotated[str, typer.Option(help="hide, bits-full, bits-half, lsb-full or "
                                        "lsb-half.")] = "hide",
    stegdata: Annotated[Path | None, typer.Option("--set", help="Cover / stego set "
                                                  "(stegnet eval analyze builds it).")] = None,
    out: opt.RunOpt = None,
    steps: opt.StepsOpt = None,
    minutes: opt.MinutesOpt = None,
    batch: Annotated[int | None, typer.Option(help="Cover / stego pairs per step.")] = None,
    crop: opt.CropOpt = None,
    lr: opt.LrOpt = None,
    threads: opt.ThreadsOpt = None,
    quiet: opt.QuietOpt = False,
    json_out: opt.TrainJsonOpt = False,
) -> None:
    """Train a CNN steganalyser on the set's train split; checkpoints and curve go to OUT."""
    with errors():
        from stegnet_research.stegdata import METHODS
        from stegnet_research.train import detector as recipe

        if method not in METHODS:
            raise UsageError(f"unknown method '{method}' (known: {', '.join(METHODS)})")
        _train("detector", recipe, recipe.DetectorTrainConfig,
               {"method": method, "data": stegdata, "out": out or Path(f"runs/detect-{method}"),
                "steps": steps, "batch": batch, "crop": crop, "lr": lr, "threads": threads},
               minutes, quiet, json_out)


# ---------------------------------------------------------------- bench
@app.command(epilog="Example: stegnet bench --sizes 256,512,1024,2048 --json")
def bench(
    sizes: Annotated[str, typer.Option(help="Comma-separated square sizes in pixels.")] = (
        "256,512,1024,2048"),
    device: opt.DeviceOpt = "auto",
    methods: Annotated[str, typer.Option(help="Comma-separated: hide, bits, flow, robust.")] = (
        "hide,bits,robust"),
    large: Annotated[bool, typer.Option(help="Also run a 6000x4000 (24 MP) image in a fresh "
                                        "process and report its own peak RSS.")] = False,
    startup: Annotated[bool, typer.Option(help="Also time `stegnet --help` and one `hide` in "
                                          "fresh processes.")] = False,
    reference: Annotated[
        bool, typer.Option("--reference/--no-reference", help="Also time the HiNet-16 "
                           "architecture against the shipped hide model at 512 px, in this "
                           "process (key 'reference').")
    ] = True,
    json_out: opt.JsonOpt = False,
    precision: opt.PrecisionOpt = "auto",
) -> None:
    """Time hide/reveal and embed/extract per image size; print numbers and peak memory.

    Times are for the pipeline with the model already loaded (one process); peak RSS is
    the process's peak so far (sizes run in the given order). Methods: hide, bits, robust.
    """
    with errors():
        from stegnet_research.benchmark import (
            isolated_case,
            reference_comparison,
            run_benchmark,
            startup_times,
        )

        echo = None if json_out else print
        rows = run_benchmark([int(s) for s in sizes.split(",") if s.strip()], device,
                             [m.strip() for m in methods.split(",")], echo=echo,
                             precision=precision)
        extra: dict[str, Any] = {}
        if large:
            extra["large"] = isolated_case(6000, 4000, device, methods, precision)
            if echo:
                echo("  ".join(f"{k}={v}" for k, v in extra["large"].items()))
        if startup:
            extra["startup"] = startup_times()
            if echo:
                echo("  ".join(f"{k}={v}" for k, v in extra["startup"].items()))
        if reference:
            extra["reference"] = reference_comparison(512, device=device)
            if echo:
                echo("  ".join(f"{k}={v}" for k, v in extra["reference"].items()))
        if json_out:
            emit_json({"command": "bench", "rows": rows, **extra})

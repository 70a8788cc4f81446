"""``stegnet train ...``: the recipes of the shipped models (resumable, logging the curve),
from the research wing (``stegnet_research.train``), imported inside the commands only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from stegnet.cli import common as opt
from stegnet.cli.common import STATE, emit_json, errors, progress, stderr
from stegnet.errors import UsageError

train_app = typer.Typer(help="Train the networks (resumable; logs the curve).")


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

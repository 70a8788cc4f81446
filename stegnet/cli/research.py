"""The research commands: ``stegnet eval ...`` (studies that write JSON) and ``stegnet
bench``; ``stegnet train ...`` is :mod:`stegnet.cli.train`.

With :mod:`stegnet.cli.train`, the only modules of the core that reach into the research
wing (``stegnet_research``), and only inside the command functions: ``stegnet --help``
imports none of it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from stegnet.cli import common as opt
from stegnet.cli.common import emit_json, errors, progress, stderr
from stegnet.cli.train import train_app
from stegnet.errors import UsageError

app = typer.Typer()
eval_app = typer.Typer(help="Measure quality on a folder of photos; writes JSON.")
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
        from stegnet_research.channel_studies import eval_bits
        name = get_model_info("flow", model).name
        _model_needs_the_flow(channel, model)
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


def _model_needs_the_flow(channel: str, model: str | None) -> None:
    """UsageError for a --model with the pixel channel (it runs no network): the study
    would measure the pixel channel under the flow model's name."""
    from stegnet.channels import get

    if model is not None and get(channel).model_task is None:
        raise UsageError(f"--model names a colour flow, and the {channel} channel uses no "
                         f"network: add --channel flow")


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


@eval_app.command("jpeg", epilog=(
    "Example: stegnet eval jpeg --covers ../shared/data/train --held-out --split package "
    "--size 768 --limit 40"))
def eval_jpeg_cmd(
    covers: opt.CoversOpt,
    held_out: opt.HeldOutOpt = False,
    split: opt.SplitOpt = "every10",
    size: opt.SizeOpt = 768,
    out: opt.OutOpt = None,
    limit: opt.LimitOpt = None,
    quiet: opt.QuietOpt = False,
) -> None:
    """jpeg channel round trips through written JPEG files (q75 / q95, baseline and
    progressive, keyed and not); write JSON."""
    with errors():
        from stegnet_research.channel_studies import eval_jpeg_round_trips

        samples, dataset = _eval_samples(covers, held_out, size, limit, split)
        result = eval_jpeg_round_trips(samples, progress=progress("round trips", quiet))
        result.update(dataset=dataset, command=_command_line())
        _write_result(result, out or Path("results") / "jpeg" / f"{dataset}.json", quiet)
        agg = result["aggregate"]
        stderr(f"{agg['round_trips']} round trips, {agg['failures']} failures; clean covers "
               f"rejected {agg['clean_rejected']}/{agg['clean_covers']}; wrong keys rejected "
               f"{agg['wrong_key_rejected']}/{agg['wrong_key_checks']}; metadata kept "
               f"{agg['metadata_kept']}/{agg['round_trips']}; size ratio baseline "
               f"{agg['baseline']['size_ratio']['mean']:.4f} (max "
               f"{agg['baseline']['size_ratio']['max']:.4f}), progressive "
               f"{agg['progressive']['size_ratio']['mean']:.4f}", quiet)


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
        from stegnet_research.channel_studies import eval_rate_distortion

        get_model_info("flow", model)  # a bad name fails before any work
        _model_needs_the_flow(channel, model)
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


# ---------------------------------------------------------------- bench
@app.command(epilog="Example: stegnet bench --sizes 256,512,1024,2048 --json")
def bench(
    sizes: Annotated[str, typer.Option(help="Comma-separated square sizes in pixels.")] = (
        "256,512,1024,2048"),
    device: opt.DeviceOpt = "auto",
    methods: Annotated[str, typer.Option(help="Comma-separated: hide, bits (the pixel channel), "
                                         "flow, robust, jpeg.")] = (
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

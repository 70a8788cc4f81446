"""Both training loops run, log their curve, save best weights and resume."""

import json
from pathlib import Path

from PIL import Image

from stegnet.synthetic import synthetic_photo
from stegnet.zoo import read_weights
from stegnet_research.train import bits as train_bits
from stegnet_research.train import hide as train_hide


def _photos(folder: Path, count: int = 20) -> Path:
    folder.mkdir()
    for index in range(count):
        Image.fromarray(synthetic_photo(48, 56, index)).save(folder / f"p{index:02d}.jpg")
    return folder


def test_hide_training_logs_saves_and_resumes(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    cfg = train_hide.HideTrainConfig(
        data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, crop=16, val_every=1,
        val_pairs=1, val_size=32, threads=1, model={"blocks": 1, "hidden": 4, "depth": 2,
                                                     "clamp": 2.0})
    run = train_hide.train(cfg)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert {"val_stego_psnr", "val_secret_psnr", "train_recover"} <= set(log[0])
    _, arch, config = read_weights(run / "best.safetensors")
    assert arch == "hinet" and config["blocks"] == 1
    cfg.steps = 3
    train_hide.train(cfg)  # resumes from the checkpoint: only step 3 runs
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]


def test_bits_training_with_robust_term(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    cfg = train_bits.BitsTrainConfig(
        data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, crop=16, val_every=2,
        val_images=1, val_size=32, threads=1, robust_weight=1.0,
        model={"blocks": 1, "hidden": 4, "cond_channels": 4, "depth": 2, "clamp": 2.0})
    run = train_bits.train(cfg)
    record = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert record["step"] == 2 and 0.0 <= record["val_ber"] <= 1.0
    assert "train_robust" in record
    _, arch, _ = read_weights(run / "best.safetensors")
    assert arch == "colour-cinn"


def test_train_command_overrides_only_given_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from stegnet.cli import app

    data = _photos(tmp_path / "photos")
    run = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "hide", "--data", str(data), "--out", str(run),
                                      "--steps", "1", "--blocks", "1", "--hidden", "4",
                                      "--batch", "2", "--crop", "16", "--threads", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["steps"] == 1 and config["model"]["blocks"] == 1
    defaults = train_hide.HideTrainConfig()
    assert config["lr"] == defaults.lr and config["conceal_weight"] == defaults.conceal_weight


def test_detector_training_on_a_built_set(tmp_path: Path) -> None:
    from stegnet_research import stegdata
    from stegnet_research.train import detector as train_detector

    data = tmp_path / "photos"
    data.mkdir()
    for index in range(11):  # photos 0 and 10 held out (4 covers), 1..9 train
        Image.fromarray(synthetic_photo(70, 80, index)).save(data / f"p{index:02d}.png")
    stegdata.build(data, tmp_path / "set", workers=1, size=64)
    cfg = train_detector.DetectorTrainConfig(
        data=str(tmp_path / "set"), method="lsb-full", out=str(tmp_path / "run"), steps=4,
        batch=2, crop=32, val_every=2, warmup=1)
    run = train_detector.train(cfg)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and "val_auc" in log[0]
    target = train_detector.publish(run, tmp_path / "set", tmp_path / "detectors")
    card = json.loads(target.with_suffix(".json").read_text())
    assert card["method"] == "lsb-full" and card["heldout"]["images"] == 4
    assert target.with_suffix(".md").exists()

    from stegnet_research.evaluate import eval_steganalysis

    # a folder of trained detectors: a CNN column only where the folder has one ...
    result = eval_steganalysis(tmp_path / "set", tmp_path / "detectors")
    assert [m for m, row in result["detection"].items() if "cnn" in row] == ["lsb-full"]
    cnn = result["detection"]["lsb-full"]["cnn"]
    assert cnn["auc"] == card["heldout"]["auc"] and cnn["accuracy"] == card["heldout"]["accuracy"]
    # ... the zoo's shipped detectors by default, and none for a folder without any
    shipped = eval_steganalysis(tmp_path / "set")
    assert all("cnn" in row for row in shipped["detection"].values())
    bare = eval_steganalysis(tmp_path / "set", tmp_path / "none")
    assert not any("cnn" in row for row in bare["detection"].values())


def test_publish_a_run_where_told(tmp_path: Path, monkeypatch) -> None:
    """A trained run is evaluated from its weight file and published with its card into the
    folders given (paths in the card relative to the current directory)."""
    from stegnet import zoo
    from stegnet_research import cards
    from stegnet_research.evaluate import Sample, eval_hide

    data = _photos(tmp_path / "photos")
    cfg = train_hide.HideTrainConfig(
        data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, crop=16, val_every=2,
        val_pairs=1, val_size=32, threads=1, lr=0.05, warmup=1,  # a stego that differs
        model={"blocks": 1, "hidden": 4, "depth": 2, "clamp": 2.0})
    run = train_hide.train(cfg)
    covers = [Sample(f"c{i}", synthetic_photo(64, 64, 50 + i)) for i in range(2)]
    result = eval_hide(covers, model=str(run / "best.safetensors"))
    result.update(model="tiny", dataset="synthetic-64", command="test")
    evaluation = tmp_path / "work" / "results" / "tiny" / "synthetic-64.json"
    evaluation.parent.mkdir(parents=True)
    evaluation.write_text(json.dumps(result))
    monkeypatch.chdir(tmp_path / "work")
    cards.main(["publish", str(run), "tiny", "--task", "hide", "--results",
                "results/tiny/synthetic-64.json", "--summary", "a tiny test model",
                "--not-default", "--weights", "zoo", "--out", "curves"])
    card = json.loads((tmp_path / "work" / "zoo" / "tiny.json").read_text())
    assert card["evaluation"]["results"] == "results/tiny/synthetic-64.json"
    assert card["training"]["curve"] == "curves/tiny/training-log.jsonl"
    assert card["metrics"]["images"] == 2 and not card["default"]
    assert (tmp_path / "work" / "zoo" / "tiny.md").exists()
    model = zoo.load_weights(tmp_path / "work" / "zoo" / "tiny.safetensors", task="hide")
    assert type(model).__name__ == "HideNet"


def test_package_training_split_never_sees_held_out_packages(tmp_path: Path) -> None:
    import numpy as np

    from stegnet_research import data as photos

    names = [f"pkg{i}" for i in range(200)]
    held = next(n for n in names if photos.is_held_out_package(n))
    val = next(n for n in names if not photos.is_held_out_package(n)
               and photos.is_validation_package(n))
    kept = [n for n in names if not photos.is_held_out_package(n)
            and not photos.is_validation_package(n)][:2]
    folder = tmp_path / "pool"
    folder.mkdir()
    counts = {held: 2, val: 2, kept[0]: 9, kept[1]: 1}
    for package, count in counts.items():
        for index in range(count):
            Image.fromarray(synthetic_photo(40, 40, index)).save(
                folder / f"t{index:03d}_{package}_img{index}.png")
    train, validation, packages = photos.training_split(folder, "package")
    assert {packages[p] for p in train} == set(kept)
    assert {packages[p] for p in validation} == {val}
    every10_train, every10_val, _ = photos.training_split(folder, "every10")
    assert (every10_train, every10_val) == photos.split_photos(folder)
    weights = photos.package_balanced_weights(train, packages)
    by_package = {k: sum(w for p, w in zip(train, weights, strict=True) if packages[p] == k)
                  for k in kept}
    assert np.isclose(weights.sum(), 1.0)
    assert np.isclose(by_package[kept[0]] / by_package[kept[1]], 3.0)  # sqrt(9) / sqrt(1)


def test_recipe_flags_parse_booleans(monkeypatch) -> None:
    from stegnet_research.train import loop

    seen = {}
    monkeypatch.setattr("sys.argv", ["x", "--balance", "--split", "package"])
    loop.main(train_hide.HideTrainConfig, {"blocks": 8}, lambda cfg, minutes: seen.update(
        cfg=cfg), "doc")
    assert seen["cfg"].balance is True and seen["cfg"].split == "package"
    monkeypatch.setattr("sys.argv", ["x", "--no-balance"])
    loop.main(train_hide.HideTrainConfig, {"blocks": 8}, lambda cfg, minutes: seen.update(
        cfg=cfg), "doc")
    assert seen["cfg"].balance is False


def test_package_split_run_is_published_with_its_split(tmp_path: Path) -> None:
    from stegnet_research import data as photos
    from stegnet_research.cards import publish
    from stegnet_research.evaluate import Sample, eval_hide

    names = [f"pkg{i}" for i in range(300)]
    held = [n for n in names if photos.is_held_out_package(n)][:1]
    val = [n for n in names if not photos.is_held_out_package(n)
           and photos.is_validation_package(n)][:1]
    kept = [n for n in names if not photos.is_held_out_package(n)
            and not photos.is_validation_package(n)][:2]
    folder = tmp_path / "pool"
    folder.mkdir()
    for package in held + val + val + kept:
        for index in range(2):
            path = folder / f"t{index:03d}_{package}_img{index}.png"
            Image.fromarray(synthetic_photo(48, 48, index + len(package))).save(path)
    cfg = train_hide.HideTrainConfig(
        data=str(folder), out=str(tmp_path / "run"), steps=1, batch=2, crop=16, val_every=1,
        val_pairs=1, val_size=32, threads=1, split="package", balance=True,
        model={"blocks": 1, "hidden": 4, "depth": 2, "clamp": 2.0})
    run = train_hide.train(cfg)
    samples = [Sample(f"s{i}", synthetic_photo(64, 64, i)) for i in range(2)]
    result = eval_hide(samples, precision="float32")  # the shipped model: finite PSNRs
    result.update(dataset="tiny", command="test")
    (tmp_path / "eval.json").write_text(json.dumps(result))
    card = publish(run, "tiny-hide", "hide", tmp_path / "eval.json", "test model",
                   default=False, weights_dir=tmp_path / "weights", results_dir=tmp_path / "res")
    assert card["training"]["train_photos"] == 4  # the two kept packages
    assert card["training"]["held_out_photos"] == 2
    assert "by source package" in card["training"]["split"]
    assert card["training"]["config"]["split"] == "package"
    assert (tmp_path / "weights" / "tiny-hide.md").exists()


def test_both_split_is_held_out_by_both_rules(tmp_path: Path) -> None:
    from stegnet_research import data as photos
    from stegnet_research.evaluate import held_out_samples

    folder = tmp_path / "pool"
    folder.mkdir()
    for index in range(60):
        Image.fromarray(synthetic_photo(40, 40, index)).save(
            folder / f"t{index:03d}_pkg{index % 7}_img.png")
    both = {s.name for s in held_out_samples(folder, 32, odd=False, split="both")}
    every10 = {p.stem for p in photos.split_photos(folder)[1]}
    package = {p.stem for p in photos.split_by_package(folder)[1]}
    assert both == every10 & package and both  # non-empty for this pool


def test_keyed_secrets_scramble_the_chosen_share_exactly() -> None:
    import numpy as np
    import torch

    from stegnet.hiding import scramble

    secrets = torch.from_numpy(np.stack([synthetic_photo(64, 64, i) for i in range(6)])
                               ).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(train_hide.keyed_secrets(secrets, 0.0, np.random.default_rng(0)),
                       secrets)
    keyed = train_hide.keyed_secrets(secrets, 1.0, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    rng.random(6)  # the draw of which secrets are keyed
    for index in range(6):
        image = (secrets[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        expected = scramble(image, rng)
        got = (keyed[index].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        assert np.array_equal(got, expected) and not np.array_equal(got, image)
    image = synthetic_photo(64, 48, 9)  # a generator's keying is undone by the same seed
    mixed = scramble(image, np.random.default_rng(5))
    assert np.array_equal(scramble(mixed, np.random.default_rng(5), reverse=True), image)


def test_keyed_fine_tuning_starts_from_weights_and_validates_keyed_pairs(tmp_path: Path
                                                                         ) -> None:
    import torch

    data = _photos(tmp_path / "photos")
    model_cfg = {"blocks": 1, "hidden": 4, "depth": 2, "clamp": 2.0}
    first = train_hide.train(train_hide.HideTrainConfig(
        data=str(data), out=str(tmp_path / "first"), steps=1, batch=2, crop=16, val_every=1,
        val_pairs=1, val_size=32, threads=1, model=model_cfg))
    init = first / "best.safetensors"
    cfg = train_hide.HideTrainConfig(
        data=str(data), out=str(tmp_path / "keyed"), steps=1, batch=2, crop=64, lr=0.0,
        val_every=1, val_pairs=1, val_size=64, threads=1, keyed_share=1.0, seam_weight=4.0,
        init=str(init), model=model_cfg)
    run = train_hide.train(cfg)  # lr 0: the weights stay those it started from
    start, _, _ = read_weights(init)
    tuned, _, _ = read_weights(run / "best.safetensors")
    assert all(torch.equal(start[name], tuned[name]) for name in start)
    record = json.loads((run / "log.jsonl").read_text().splitlines()[0])
    assert {"val_keyed_stego_psnr", "val_keyed_secret_psnr"} <= set(record)


def test_seam_weights_mark_tile_boundaries_of_keyed_secrets_only() -> None:
    import numpy as np

    from stegnet.hiding import KEY_BLOCK

    weights = train_hide.seam_weights(np.array([True, False]), 2 * KEY_BLOCK, 2 * KEY_BLOCK, 4.0)
    assert weights.shape == (2, 1, 2 * KEY_BLOCK, 2 * KEY_BLOCK)
    assert bool((weights[1] == 1).all())
    middle = KEY_BLOCK + KEY_BLOCK // 2  # a row inside the second tile row
    assert weights[0, 0, middle, KEY_BLOCK - 1] == 4 and weights[0, 0, middle, KEY_BLOCK] == 4
    assert weights[0, 0, middle, KEY_BLOCK + 2] == 1 and weights[0, 0, KEY_BLOCK, 5] == 4

"""``tfgenopt train gan --images DIR`` / ``demo --images DIR``: bad input exits 2, names the fault."""

import os

import pytest

import tfgenopt as tg
from tfgenopt.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    x, y = tg.data.make_shapes(24, image_size=16, seed=0)
    return tg.data.write_image_folder(x, y, tmp_path_factory.mktemp("cli") / "shapes")


@pytest.mark.parametrize("argv, says", [
    (["train", "vae", "--images", "{folder}"], "--images trains `gan` and `diffusion` only"),
    (["train", "gan", "--images", "{missing}"], "does not exist"),
    (["train", "gan", "--images", "{folder}", "--image-size", "48"], "--image-size"),
    (["demo", "--images", "{missing}"], "does not exist"),
    (["train", "gan", "--image-size", "64"], "image_size"),  # --dataset digits has no 64
    (["train", "gan", "--images", "{folder}", "--background", "purple"], "--background"),
    (["demo", "--images", "{folder}", "--background", "keep"], "--background"),
    (["train", "gan", "--images", "{folder}", "--background", "0,0,300"], "--background"),
])
def test_bad_images_runs_exit_2_naming_the_fault_and_write_nothing(argv, says, folder, tmp_path,
                                                                   capsys):
    out = tmp_path / "out"
    argv = [a.format(folder=folder, missing=tmp_path / "nope") for a in argv]
    assert main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1
    assert not os.path.exists(out / "model.keras")


@pytest.mark.parametrize("flag, expected", [(None, (255, 255, 255)), ("black", (0, 0, 0)),
                                            ("10,20,30", (10, 20, 30))])
def test_background_flag_reaches_the_folder_loader(flag, expected, folder, monkeypatch, capsys):
    import tfgenopt.cli.images as commands_images

    seen = {}
    monkeypatch.setattr(commands_images, "train_gan_images",
                        lambda images, **options: seen.update(options) or {"out": "x"})
    argv = ["train", "gan", "--images", str(folder)] + (["--background", flag] if flag else [])
    assert main(argv) == 0
    assert seen["background"] == expected


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """240 8x8 shape images in 12 class folders: 24 held out, enough for 2-class dropping."""
    x, y = tg.data.make_shapes(240, image_size=8, seed=1)
    return tg.data.write_image_folder(x, y, tmp_path_factory.mktemp("cli") / "labelled",
                                      class_names=tg.data.SHAPE_CLASSES)


@pytest.mark.slow  # ~12 s; tests/test_commands_train.py runs train gan and tests/data/test_folders.py trains from folders in make test
def test_train_gan_images_uses_the_recipe_flags_and_writes_a_loadable_model_and_report(
        labelled, tmp_path, capsys):
    import json

    import keras

    out = tmp_path / "run"
    assert main(["train", "gan", "--images", str(labelled), "--image-size", "8", "--epochs", "2",
                 "--lr", "3e-4", "--loss", "hinge", "--ema", "0", "--latent-dim", "16",
                 "--out", str(out), "-v", "0"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["image_shape"] == [8, 8, 3] and result["epochs_run"] == 2
    gan = keras.saving.load_model(out / "model.keras")
    config = gan.get_compile_config()
    assert config["loss"] == "hinge" and gan.ema is None and gan.latent_dim == 16
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(3e-4)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(3e-4)
    page = (out / "report.html").read_text()
    assert "hinge loss" in page and "Samples across epochs" in page and "8×8 RGB" in page
    rarest = json.loads((out / "summary.json").read_text())["headline"]["rarest_classes"]
    assert len(rarest) == 3 and {r["class"] for r in rarest} <= set(os.listdir(labelled))
    assert "rarest classes" in page
    for name in ("samples.png", "quality.png", "curves.png", "history.json", "summary.json"):
        assert (out / name).exists(), name


def test_images_refuse_workers_and_backups(labelled, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "gan", "--images", str(labelled), "--backup-dir", str(tmp_path / "b"),
                 "--out", str(out)]) == 2
    assert "--backup-dir" in capsys.readouterr().err and not out.exists()


def test_demo_images_report_holds_samples_curves_and_the_sanity_table(labelled, tmp_path,
                                                                      capsys):
    import json

    out = tmp_path / "demo"
    assert main(["demo", "--images", str(labelled), "--image-size", "8", "--epochs", "1",
                 "--out", str(out), "-v", "0"]) == 0
    assert str(out / "report.html") in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["sanity"]) == {"noise", "blur", "drop_classes"}
    assert isinstance(summary["sanity_passed"], bool)
    page = (out / "report.html").read_text()
    assert "metric sanity suite" in page and "drop_classes" in page and "noise" in page
    assert page.count("<img") >= 3  # headline samples, the sample evolution, the curves
    assert (out / "sanity.md").read_text().startswith("# Metric sanity suite")

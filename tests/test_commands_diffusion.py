"""`tfgenopt train diffusion` (tfgenopt/commands_diffusion.py): the default recipe, stopped on KID."""

import json

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.cli import main

TINY = ["--image-size", "8", "--widths", "8,16", "--epochs", "1", "--batch-size", "128"]


def config(model):
    """A compiled Diffusion's recipe config without the optimizer's instance name (adamw_1...)."""
    out = model.get_compile_config()
    out["optimizer"]["config"].pop("name")
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("diffusion") / "run"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["train", "diffusion", *TINY, "--out", str(out), "-v", "0"])
    return code, out, json.loads(printed.getvalue())


def test_train_diffusion_builds_the_default_recipe(run):
    code, out, _ = run
    assert code == 0
    model = keras.saving.load_model(out / "model.keras")
    fresh = tg.models.Diffusion(tg.builders.unet((8, 8, 1), widths=(8, 16)))
    fresh.compile()  # the default recipe, whatever its values are today
    assert config(model) == config(fresh)
    assert model.ema == fresh.ema and model.value_range == (-1.0, 1.0)


def test_train_diffusion_stops_on_smoothed_val_kid_never_on_the_loss(run):
    _, out, result = run
    assert result["monitor"] == "val_kid"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"]["monitor"] == "val_kid"
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_kid"]) == 1 and np.all(np.isfinite(history["val_kid"]))
    assert result["epochs_run"] == 1 and result["widths"] == [8, 16]
    assert result["evaluations"] == tg.diffusion.samplers.evaluations(result["sampler"],
                                                                      result["steps"])


def test_train_diffusion_writes_samples_curves_and_the_report(run):
    _, out, result = run
    for name in ("samples.png", "quality.png", "curves.png", "report.html", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert sorted(p.name for p in (out / "samples").iterdir())[-1] == "samples_epoch0001.png"
    page = (out / "report.html").read_text()
    assert "id='headline'" in page and "KID" in page and "1 of 1 epochs" in page
    assert "Diffusion" in page and "network evaluations" in page
    assert result["report"] == str(out / "report.html")


@pytest.mark.parametrize("argv, says", [
    (["train", "diffusion", "--latent-dim", "8"], "--latent-dim"),
    (["train", "diffusion", "--workers", "2"], "--workers"),
    (["train", "gan", "--widths", "8,16"], "--widths applies to `diffusion` only"),
    (["train", "diffusion", "--widths", "8,x"], "--widths"),
    (["train", "diffusion", "--image-size", "8", "--widths", "8,16,32,64,128"], "image_shape"),
])
def test_bad_diffusion_flags_exit_2_naming_the_flag(argv, says, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "out"), "-v", "0"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err

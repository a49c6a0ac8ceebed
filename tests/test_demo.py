"""The main job: `tfgenopt demo --quick` writes every promised file and summary key."""

import json
import shutil

import pytest

from tfgenopt.cli import main
from tfgenopt.demo import SUMMARY_KEYS

FILES = ["report.html", "summary.json", "lr_find.png", "gan_losses.png", "gan_quality.png",
         "gan_samples.png", "landscape_d_slices.png", "landscape_g_slices.png", "curvature.png",
         "ae_losses.png", "ae_reconstructions.png", "vae_losses.png", "vae_samples.png",
         "optimizers.png", "samples/samples_strip.png", "data_samples.png",
         "samples/restored.png"]


@pytest.fixture(scope="module")
def demo_run(quick_demo):
    return quick_demo  # one quick demo per test session (conftest.py), shared read-only


def test_demo_exits_zero(demo_run):
    assert demo_run[0] == 0


@pytest.mark.parametrize("name", FILES)
def test_demo_writes_promised_file(demo_run, name):
    path = demo_run[1] / name
    assert path.exists() and path.stat().st_size > 200


def test_summary_has_every_key_and_real_numbers(demo_run):
    summary = json.loads((demo_run[1] / "summary.json").read_text())
    assert set(SUMMARY_KEYS) <= set(summary)
    assert 1e-5 <= summary["lr_find"]["suggested_lr"] <= 1.0
    gan = summary["gan"]
    assert gan["epochs_run"] == 3 and gan["stop_reason"]
    for key in ("val_fid", "val_kid", "val_coverage", "d_loss", "g_loss"):
        assert len(gan["curves"][key]) == 3
    assert gan["final"]["val_fid"] > 0 and 0 <= gan["final"]["val_coverage"] <= 1
    assert any("d_hessian_top" in row for row in gan["curvature"])
    assert set(summary["optimizer_comparison"]) == {"sgd", "adam", "rmsprop", "adagrad"}
    assert summary["autoencoder"]["best_val_loss"] < 0.7
    assert summary["vae"]["epochs_run"] >= 1


def test_report_embeds_the_figures(demo_run):
    html = (demo_run[1] / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 12
    assert "missing figure" not in html


def test_report_command_rebuilds_the_report(demo_run, tmp_path, capsys):
    run = shutil.copytree(demo_run[1], tmp_path / "run")  # the shared run stays untouched
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").read_text() == (demo_run[1] / "report.html").read_text()


def test_summary_headline_is_the_gan_run(demo_run):
    summary = json.loads((demo_run[1] / "summary.json").read_text())
    run, gan = summary["headline"], summary["gan"]
    assert run["epochs_run"] == gan["epochs_run"] == 3
    assert run["curves"]["val_fid"] == gan["curves"]["val_fid"]
    assert run["restored_epoch"] == gan["best_epoch"]
    assert run["num_classes"] == 10 and 0 < run["diversity"] < 2
    assert summary["data"]["image_shape"] == [28, 28, 1]

"""The main job: `tfgenopt demo --quick` writes every promised file and summary key."""

import json

import pytest

from tfgenopt.cli import main
from tfgenopt.demo import SUMMARY_KEYS

FILES = ["report.html", "summary.json", "lr_find.png", "gan_losses.png", "gan_quality.png",
         "gan_samples.png", "landscape_d_slices.png", "landscape_g_slices.png", "curvature.png",
         "ae_losses.png", "ae_reconstructions.png", "vae_losses.png", "vae_samples.png",
         "optimizers.png", "samples/samples_strip.png"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    code = main(["demo", "--quick", "--epochs", "3", "--out", str(out), "-v", "0"])
    return code, out


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


def test_report_command_rebuilds_the_report(demo_run, capsys):
    (demo_run[1] / "report.html").unlink()
    assert main(["report", str(demo_run[1])]) == 0
    assert (demo_run[1] / "report.html").exists()

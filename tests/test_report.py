"""tfgenopt.report: summary.json, the verdict of a run and the self-contained HTML report."""

import json
import re

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.plotting import plot_image_grid, save_figure
from tfgenopt.report import (
    build_report,
    fmt,
    read_summary,
    run_record,
    verdict,
    write_summary,
    write_training_report,
)


def banner(html):
    """``(status, title)`` of the report's headline banner."""
    return re.search(r"class='banner (\w+)'><b>(.*?):</b>", html).groups()


def test_summary_converts_numpy_values_and_nan(tmp_path):
    write_summary(tmp_path, {"a": np.float32(1.5), "b": np.arange(3), "c": float("nan")})
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data == {"a": 1.5, "b": [0, 1, 2], "c": None}


def test_report_embeds_every_listed_figure_and_links_the_json(tmp_path):
    save_figure(plot_image_grid(np.random.rand(4, 8, 8, 1)), tmp_path / "grid.png")
    write_summary(tmp_path, {"sections": [
        {"title": "Samples", "text": "four digits", "figures": ["grid.png"],
         "table": [{"metric": "fid", "value": 1.2345678}]}], "stop_reason": "patience"})
    build_report(tmp_path)
    text = (tmp_path / "report.html").read_text()
    assert text.count("data:image/png;base64,") == 1
    assert "<td class='num'>1.23</td>" in text  # rounded to 3 significant digits
    assert "href='summary.json'" in text and "stop_reason" not in text  # linked, not inlined


def test_missing_summary_names_the_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="summary.json"):
        read_summary(tmp_path)


def test_numbers_are_rounded_for_people():
    values = [0.28651562789827023, 265.71, 4e-05, None, float("nan"), 12]
    assert [fmt(v) for v in values] == ["0.287", "266", "4e-05", "-", "NaN", "12"]


def test_improving_run_says_more_epochs_would_help():
    run = run_record({"val_fid": [90.0, 40.0, 20.0], "val_kid": [0.3, 0.1, 0.05],
                      "val_coverage": [0.6, 0.9, 1.0], "d_loss": [1.0, 1.1, 1.2]},
                     model="GAN", epochs=3, num_classes=10, restored_epoch=3, diversity=0.9)
    v = verdict(run)
    rows = {r["label"]: r for r in v["rows"]}
    assert (v["status"], v["title"]) == ("warn", "Still improving")
    assert rows["FID"]["value"] == "90 → 20 (best, epoch 3)"
    assert "more epochs would help" in rows["FID"]["reading"]
    assert rows["coverage"]["value"].startswith("10/10 classes")


def test_healthy_run_that_stopped_early_is_healthy():
    run = run_record({"val_kid": [0.3, 0.05, 0.06, 0.07], "val_coverage": [0.9, 1, 1, 1]},
                     model="GAN", epochs=50, num_classes=10, restored_epoch=2,
                     stop_reason="no improvement of val_kid for 2 epochs")
    v = verdict(run)
    assert (v["status"], v["title"]) == ("good", "Healthy")
    assert {r["label"]: r["value"] for r in v["rows"]}["restored"] == "epoch 2"


def test_rarest_classes_are_one_verdict_row_naming_the_uncovered_ones():
    rare = [{"class": "emu", "share": 0.004, "data_share": 0.022, "covered": False},
            {"class": 1, "share": 0.03, "data_share": 0.05, "covered": True}]
    run = run_record({"val_coverage": [0.5, 0.9]}, model="GAN", num_classes=10,
                     rarest_classes=rare)
    assert json.loads(json.dumps(run))["rarest_classes"][1]["class"] == "1"
    rows = {r["label"]: r for r in verdict(run)["rows"]}
    assert rows["rarest classes"]["value"] == "emu 0.4% (data 2.2%), 1 3.0% (data 5.0%)"
    assert "emu not covered" in rows["rarest classes"]["reading"]
    assert "rarest classes" not in {r["label"] for r in verdict(run_record(
        {"val_coverage": [0.5]}, model="GAN"))["rows"]}


def test_coverage_that_falls_is_a_collapse():
    run = run_record({"val_coverage": [0.5, 1.0, 0.9, 0.2], "val_kid": [0.5, 0.1, 0.2, 0.9]},
                     model="GAN", num_classes=10)
    assert verdict(run)["title"] == "Collapsed"


def test_nan_loss_is_a_divergence_named_with_its_epoch():
    v = verdict(run_record({"d_loss": [0.7, 0.6, float("nan")]}, model="GAN"))
    assert (v["status"], v["title"]) == ("bad", "Diverged") and "epoch 3" in v["text"]


def _gan(generator, latent):
    gan = tg.models.GAN(generator, tg.builders.dense_discriminator(784, seed=1),
                        latent_dim=latent, ema=None, seed=0)
    gan.compile(jit_compile=False)  # two steps: XLA would cost more than it saves
    return gan


def _constant_generator(latent):
    """A generator forced to collapse: a frozen all-zero layer throws the noise away."""
    return keras.Sequential([keras.Input((latent,)),
                             keras.layers.Dense(4, kernel_initializer="zeros", trainable=False),
                             keras.layers.Dense(784, activation="sigmoid")])


@pytest.mark.parametrize("collapsed", [True, False])
def test_report_of_a_collapsed_gan_says_so_in_its_headline(tmp_path, digits28, collapsed):
    x_train, x_val = digits28
    gen = _constant_generator(8) if collapsed else tg.builders.dense_generator(8, 784, seed=0)
    gan = _gan(gen, 8)
    grid = tg.callbacks.SampleGrid(every=1, n=16, out_dir=tmp_path / "samples")
    history = gan.fit(x_train[:64], epochs=1, batch_size=32, callbacks=[grid], verbose=0)
    path = write_training_report(tmp_path, gan, history, data="digits", x_real=x_val[:64],
                                 sample_grid=grid, epochs=1)
    html = open(path, encoding="utf-8").read()
    diversity = read_summary(tmp_path)["headline"]["diversity"]
    if collapsed:
        assert banner(html) == ("bad", "Collapsed") and diversity < 1e-6
        assert "0.00 × the data" in html
    else:
        assert banner(html)[1] != "Collapsed" and diversity > 0.05
    assert html.count("data:image/png;base64,") == 2  # the sample grid, twice

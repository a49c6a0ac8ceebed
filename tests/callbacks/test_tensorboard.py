"""tfgenopt.callbacks.TensorBoard: event files read back (images, scalars, HParams sessions)."""

import copy
import glob
import os

import keras
import keras_tuner
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.plugins.hparams import metadata as hp_metadata

import tfgenopt as tg
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.callbacks import LossLandscape, QualityMonitor, SampleGrid, TensorBoard


def read_events(folder):
    """``{tag: {step: value}}`` of the event files directly in ``folder`` (not below it)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor) if value.HasField("tensor") else None
                out.setdefault(value.tag, {})[event.step] = (value, tensor)
    return out


def session_hparams(folder):
    """The HParams session written in ``folder``: ``{name: value}``, or None."""
    events = read_events(folder)
    if hp_metadata.SESSION_START_INFO_TAG not in events:
        return None
    (value, _), = events[hp_metadata.SESSION_START_INFO_TAG].values()
    info = hp_metadata.parse_session_start_info_plugin_data(
        value.metadata.plugin_data.content)
    return {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
            for k, v in info.hparams.items()}


def tiny_gan(seed=0):
    return _tiny_gan(seed=seed, net_seeds=(seed, seed), lr=(2e-3, 1e-3))


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory):
    """A 4-epoch GAN run with TensorBoard listed FIRST, the drawing/measuring callbacks after."""
    folder = str(tmp_path_factory.mktemp("tb") / "run")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(32, 16)).astype("float32")
    extractor = keras.Sequential([keras.Input((16,)), keras.layers.Dense(6, activation="tanh")])
    qm = QualityMonitor(x, metrics=("fid",), every=3, n_samples=32, extractor=extractor)
    grid = SampleGrid(every=2, n=4)
    probe = LossLandscape(x[:16], every=4, kind=("spectrum",), iterations=4, spectrum_runs=1,
                          verbose=0)
    gan = tiny_gan()
    gan.fit(x, epochs=4, batch_size=16, verbose=0,
            callbacks=[TensorBoard(folder, hparams={"note": "tiny"}), qm, grid, probe])
    return folder, qm, grid, probe


class TestEventFiles:
    def test_sample_grids_are_images_at_the_epochs_sample_grid_drew(self, gan_run):
        folder, _, grid, _ = gan_run
        images = read_events(os.path.join(folder, "train"))["samples"]
        assert sorted(images) == [epoch - 1 for epoch, _ in grid.grids] == [1, 3]
        _, tensor = images[3]
        width, height = int(tensor[0]), int(tensor[1])  # tf.summary.image: [w, h, png...]
        assert (height, width) == grid.grids[-1][1].shape[:2]

    def test_quality_scalars_at_every_measured_epoch_though_listed_after(self, gan_run):
        folder, qm, _, _ = gan_run
        fid = read_events(os.path.join(folder, "validation"))["epoch_fid"]
        assert qm.evaluated_epochs == [0, 2, 3]
        for epoch, value in zip(qm.evaluated_epochs, qm.history["val_fid"]):
            assert float(fid[epoch][1]) == pytest.approx(value, rel=1e-6)

    def test_every_optimizers_learning_rate_is_a_scalar(self, gan_run):
        events = read_events(os.path.join(folder := gan_run[0], "train"))
        assert float(events["epoch_d_lr"][0][1]) == pytest.approx(2e-3)
        assert float(events["epoch_g_lr"][3][1]) == pytest.approx(1e-3)
        assert os.path.isdir(os.path.join(folder, "validation"))

    def test_hessian_spectrum_per_player_as_histogram_and_figure(self, gan_run):
        folder, _, _, probe = gan_run
        events = read_events(os.path.join(folder, "train"))
        for prefix, player in (("d_", "discriminator"), ("g_", "generator")):
            _, hist = events[f"landscape/{prefix}hessian_spectrum"][3]
            assert hist.shape[1] == 3 and hist[:, 2].sum() == pytest.approx(2000)
            spectrum = probe.history[-1]["spectra"][player]
            centre = (hist[:, 0] + hist[:, 1]) / 2  # histogram mean ~ the density's mean
            mean = np.trapezoid(spectrum["grid"] * spectrum["density"], spectrum["grid"])
            width = spectrum["grid"][-1] - spectrum["grid"][0]
            assert (centre * hist[:, 2]).sum() / 2000 == pytest.approx(mean, abs=0.02 * width)
            assert f"landscape/{prefix}hessian_spectrum_density" in events

    def test_hparams_session_holds_the_compile_config_and_final_metrics(self, gan_run):
        folder, qm, _, _ = gan_run
        hparams = session_hparams(folder)
        assert hparams["loss"] == "non_saturating"
        assert hparams["d_optimizer"] == "Adam"
        assert hparams["g_optimizer.learning_rate"] == pytest.approx(1e-3)
        assert hparams["note"] == "tiny" and hparams["batch_size"] == 16
        assert hparams["generator.builder"] == "dense_generator"  # builder arguments
        assert hparams["discriminator.hidden"] == "(8,)"
        final = read_events(folder)["val_fid"][0][1]
        assert float(final) == pytest.approx(qm.history["val_fid"][-1], rel=1e-6)


class TestTrials:
    def test_one_session_per_completed_trial_with_the_recipe(self, tmp_path):
        rng = np.random.default_rng(0)
        x = rng.uniform(size=(32, 16)).astype("float32")
        space = {"epochs": 1, "batch_size": 32, "units": 4, "depth": 1, "latent_dim": 2,
                 "normalization": "none", "kernel_initializer": "glorot_uniform",
                 "optimizer": "adam", "learning_rate": {"min": 1e-3, "max": 1e-2}}
        hm = tg.tuning.AutoencoderHyperModel(16, overrides=space, seed=0)
        logs = str(tmp_path / "logs")
        result = tg.tuning.search(hm, x, x[:16], max_trials=3, directory=tmp_path / "t",
                                  seed=0, verbose=0, callbacks=[TensorBoard(logs)])
        completed = [t for t, s in result.statuses().items() if s == "COMPLETED"]
        assert len(completed) == 3
        sessions = {}
        for run in glob.glob(os.path.join(logs, "*", "execution0")):
            sessions[os.path.basename(os.path.dirname(run))] = session_hparams(run)
        assert sorted(sessions) == sorted(completed)
        rates = {s["learning_rate"] for s in sessions.values()}  # the trial's own values
        assert len(rates) == 3
        for s in sessions.values():  # merged with the compile recipe the trial built
            assert s["optimizer.learning_rate"] == pytest.approx(s["learning_rate"], rel=1e-6)
            assert s["loss"] and s["batch_size"] == 32


class TestBadInput:
    def test_log_dir_that_is_a_file_is_refused(self, tmp_path):
        path = tmp_path / "file.txt"
        path.write_text("x")
        with pytest.raises(ValueError, match="`log_dir`.*file"):
            TensorBoard(path)

    def test_a_used_callback_deep_copies_without_its_model_or_writers(self, tmp_path):
        tb = TensorBoard(tmp_path / "copy", hparams={"a": 1})
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[tb])
        clone = copy.deepcopy(tb)
        assert clone._model is None and clone._writers == {} and clone.log_dir == tb.log_dir
        assert clone.hparams == {"a": 1}

    def test_config_round_trip(self, tmp_path):
        tb = TensorBoard(tmp_path / "a", hparams=False, max_images=3, histogram_freq=1)
        clone = TensorBoard.from_config(tb.get_config())
        assert clone.get_config() == tb.get_config()
        assert clone.histogram_freq == 1


def test_keras_tuner_own_tuner_writes_one_merged_session_per_trial(tmp_path, frozen_heap):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(32, 8)).astype("float32")

    def build(hp):  # a plain build function, as keras-tuner's docs show, on a tfgenopt model
        model = tg.builders.dense_autoencoder(input_dim=8, hidden=(4,), seed=0)
        model.compile(keras.optimizers.SGD(hp.Choice("lr", [0.01, 0.1])), "mse")
        return model

    tuner = keras_tuner.GridSearch(build, objective="val_loss", max_trials=2,
                                   directory=tmp_path / "kt", overwrite=True)
    logs = str(tmp_path / "logs")
    tuner.search(x, x, epochs=1, validation_data=(x, x), verbose=0,
                 callbacks=[TensorBoard(logs)])
    runs = sorted(glob.glob(os.path.join(logs, "*", "execution0")))
    assert len(runs) == 2
    sessions = [session_hparams(run) for run in runs]
    assert sorted(s["lr"] for s in sessions) == [0.01, 0.1]
    assert all(s["optimizer"] == "SGD" and s["loss"] == "mse" for s in sessions)


def test_plain_keras_model_in_a_keras_tuner_trial_gets_keras_tuners_session_only(tmp_path, frozen_heap):
    x = np.random.default_rng(2).uniform(size=(16, 4)).astype("float32")

    def build(hp):  # a plain Keras model records no fit callbacks: no second session
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
        model.compile(keras.optimizers.SGD(hp.Choice("lr", [0.01])), "mse")
        return model

    tuner = keras_tuner.GridSearch(build, objective="val_loss", max_trials=1,
                                   directory=tmp_path / "kt", overwrite=True)
    logs = str(tmp_path / "logs")
    tuner.search(x, x, epochs=1, validation_data=(x, x), verbose=0,
                 callbacks=[TensorBoard(logs)])
    (run,) = glob.glob(os.path.join(logs, "*", "execution0"))
    session = session_hparams(run)
    assert session == {"lr": 0.01}  # Keras Tuner's own session, exactly one

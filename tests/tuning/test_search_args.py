"""Tests of tfgenopt/tuning/_search_args.py: search() takes fit arguments like tuner.search."""

import math
import os

import keras
import keras_tuner
import pytest

from tfgenopt import tuning
from tfgenopt.tuning import _search_args, tuners

SMALL = {"units": 32, "depth": 1, "latent_dim": 16, "normalization": "none",
         "kernel_initializer": "glorot_uniform", "optimizer": ["adam", "sgd"],
         "learning_rate": {"min": 1e-4, "max": 3e-2, "sampling": "log"}}


@pytest.fixture(scope="module")
def data():
    import tfgenopt as tg

    xt, xv = tg.data.load_digits(image_size=8, flatten=True)
    return xt[:600], xv[:200]


class _StepCounter(keras.callbacks.Callback):
    """Records, per fit, the epochs run and the batches each epoch saw (shared across the
    deep copies Keras Tuner makes, through a class-level list)."""

    runs = []

    def on_train_begin(self, logs=None):
        _StepCounter.runs.append({"epochs": 0, "batches": 0, "steps": self.params["steps"]})

    def on_train_batch_end(self, batch, logs=None):
        _StepCounter.runs[-1]["batches"] += 1

    def on_epoch_end(self, epoch, logs=None):
        _StepCounter.runs[-1]["epochs"] += 1


class TestFitArguments:
    def test_epochs_and_batch_size_reach_every_trial(self, data, tmp_path):
        _StepCounter.runs = []
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, batch_size=64), seed=0)
        result = tuning.search(hm, data[0], data[1], max_trials=2, directory=tmp_path,
                               callbacks=[_StepCounter()], early_stopping=False, verbose=0,
                               epochs=2, batch_size=64)
        assert set(result.statuses().values()) == {"COMPLETED"}
        steps = math.ceil(600 / 64)  # 10 batches of 64 (the last one of 24)
        assert _StepCounter.runs == [{"epochs": 2, "batches": 2 * steps, "steps": steps}] * 2
        assert [row["epochs"] for row in result.trials] == [2, 2]  # the table says so too
        assert [row["batch_size"] for row in result.trials] == [64, 64]
        assert all(len(h["val_loss"]) == 2 for h in result.histories().values())
        assert hm.space.params["epochs"].values == 10  # the user's HyperModel is untouched

    def test_other_fit_arguments_are_passed_through(self, data, tmp_path):
        _StepCounter.runs = []
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, batch_size=32,
                                                             epochs=1), seed=0)
        result = tuning.search(hm, data[0], data[1], max_trials=1, directory=tmp_path,
                               callbacks=[_StepCounter()], verbose=0, steps_per_epoch=3)
        assert set(result.statuses().values()) == {"COMPLETED"}
        assert _StepCounter.runs == [{"epochs": 1, "batches": 3, "steps": 3}]

    def test_tuned_batch_size_conflicts_before_any_trial(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=SMALL)  # batch_size: 32, 64 or 128
        with pytest.raises(ValueError, match=r"`batch_size=64` was passed to search\(\), but "
                                             r"the HyperModel tunes `batch_size`"):
            tuning.search(hm, data[0], data[1], directory=tmp_path, batch_size=64)
        assert not os.listdir(tmp_path)  # no tuner folder, no trial

    def test_unknown_argument_is_a_type_error_before_any_trial(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=SMALL)
        with pytest.raises(TypeError, match=r"unknown argument\(s\) \['batchsize', 'epoch'\]"):
            tuning.search(hm, data[0], data[1], directory=tmp_path, epoch=2, batchsize=3)
        assert not os.listdir(tmp_path)

    def test_hyperband_sets_epochs_itself(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=SMALL)
        with pytest.raises(ValueError, match="tuner='hyperband' sets every trial's epochs"):
            tuning.search(hm, data[0], data[1], tuner="hyperband", directory=tmp_path,
                          epochs=2)
        assert not os.listdir(tmp_path)

    def test_a_list_is_not_a_fit_value(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=SMALL)
        with pytest.raises(TypeError, match=r"one value for `epochs`.*\[1, 2\]"):
            tuning.search(hm, data[0], data[1], directory=tmp_path, epochs=[1, 2])

    def test_a_bad_fixed_value_names_the_argument(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=SMALL)
        with pytest.raises(ValueError, match=r"search\(epochs=0\).*>= 1"):
            tuning.search(hm, data[0], data[1], directory=tmp_path, epochs=0)


class TestSorting:
    def test_tuner_and_fit_arguments_are_told_apart(self):
        hm = tuning.AutoencoderHyperModel(64)
        tuner_kw, fit_kw = _search_args.split_kwargs(
            hm, tuners.RandomSearch, {"max_consecutive_failed_trials": 1, "epochs": 2,
                                      "shuffle": False, "max_model_size": 10})
        assert tuner_kw == {"max_consecutive_failed_trials": 1, "max_model_size": 10}
        assert fit_kw == {"epochs": 2, "shuffle": False}

    def test_hyperband_arguments_go_to_hyperband_only(self):
        hm = tuning.AutoencoderHyperModel(64)
        assert _search_args.split_kwargs(hm, tuners.Hyperband, {"factor": 2})[0] == {"factor": 2}
        with pytest.raises(TypeError, match=r"\['factor'\]"):
            _search_args.split_kwargs(hm, tuners.RandomSearch, {"factor": 2})

    def test_plain_keras_tuner_hypermodel_tuned_name_conflicts(self):
        class Plain(keras_tuner.HyperModel):
            def build(self, hp):
                hp.Choice("batch_size", [16, 32])
                hp.Fixed("epochs", 3)
                model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
                model.compile("sgd", "mse")
                return model

        with pytest.raises(ValueError, match="tunes `batch_size`"):
            _search_args.fix_fit_values(Plain(), {"batch_size": 8}, "random")
        hm, left = _search_args.fix_fit_values(Plain(), {"epochs": 2, "shuffle": False},
                                               "random")
        assert left == {"epochs": 2, "shuffle": False}  # its own fit decides what to do


class TestVerbose:
    def test_verbose_1_shows_keras_tuners_trial_display_without_progress_bars(self, data,
                                                                             tmp_path, capsys):
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, batch_size=64), seed=0)
        tuning.search(hm, data[0], data[1], max_trials=1, directory=tmp_path, epochs=1,
                      verbose=1)
        out = capsys.readouterr().out
        assert "Trial 1 Complete" in out
        assert "10/10" not in out  # fit itself stays quiet (verbose=2 shows its bars)

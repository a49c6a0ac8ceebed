"""tfgenopt's HyperModels with Keras Tuner's own tuners and ``tuner.search`` (no tfgenopt.search)."""

import keras
import keras_tuner
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation import FeatureExtractor
from tfgenopt.tuning import AutoencoderHyperModel, GANHyperModel, VAEHyperModel

# Keras Tuner's own tuners clear the session (a full gc.collect) before every trial.
pytestmark = pytest.mark.usefixtures("frozen_heap")

TINY_NETS = {"units": [8], "depth": 1, "latent_dim": [8]}


@pytest.fixture(scope="module")
def digits():
    x, xv = tg.data.load_digits(image_size=8, flatten=True)
    return x[:64], xv[:32]


@pytest.fixture(scope="module")
def quality():
    """QualityMonitor arguments with a tiny softmax extractor (the plumbing is tested)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((64,))
    h = keras.layers.Dense(8, activation="relu", name="features")(inputs)
    ext = FeatureExtractor(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h)))
    return {"extractor": ext, "n_samples": 32, "kid_subsets": 2}


def trials(tuner):
    return sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)


def gan_config(recipe):
    """A ``GANRecipe``'s public config without the optimizers' instance names."""
    out = recipe.to_config()
    for key in ("d_optimizer", "g_optimizer"):
        out[key]["config"].pop("name")
    return out


def test_gan_hypermodel_searches_with_the_unspecified_objective(digits, quality, tmp_path):
    x, xv = digits
    hm = GANHyperModel(64, overrides=TINY_NETS, seed=0, quality=quality)
    tuner = keras_tuner.RandomSearch(hm, max_trials=2, directory=tmp_path, seed=0)
    tuner.search(x, validation_data=(xv,), epochs=2, verbose=0)
    done = trials(tuner)
    assert [t.status for t in done] == ["COMPLETED"] * 2
    assert all(np.isfinite(t.score) for t in done)
    # Trial 0 is the measured default recipe, r1 included.
    first = done[0].hyperparameters
    assert {k: first.values[k] for k in hm.defaults()} == hm.defaults()
    assert first.values["r1"] == 1.0 and first.values["ema"] == 0.999
    assert gan_config(hm.build(first).recipe) == gan_config(tg.models.GANRecipe())
    assert tuner.oracle.get_best_trials(1)[0].score <= done[0].score
    assert len({tuple(sorted(t.hyperparameters.values.items())) for t in done}) == 2


@pytest.mark.slow  # 6 s CPU; the unspecified-objective search above covers the fit path
def test_gan_hypermodel_measures_a_named_quality_objective(digits, quality, tmp_path):
    x, xv = digits
    hm = GANHyperModel(64, overrides=TINY_NETS, seed=0, quality=quality)
    tuner = keras_tuner.RandomSearch(hm, objective=keras_tuner.Objective("val_kid", "min"),
                                     max_trials=1,
                                     directory=tmp_path, seed=0)
    tuner.search(x, validation_data=(xv,), epochs=1, verbose=0)
    (trial,) = trials(tuner)
    assert trial.status == "COMPLETED"
    assert np.isfinite(trial.metrics.get_best_value("val_kid"))


@pytest.mark.parametrize("make", [
    lambda: AutoencoderHyperModel(64, overrides={"units": [8], "latent_dim": [4], "depth": 1}),
    pytest.param(lambda: VAEHyperModel(64, overrides={"units": [8], "latent_dim": [2],
                                                      "depth": 1}),
                 marks=pytest.mark.slow)],  # 7 s CPU: the same path as the autoencoder
    ids=["autoencoder", "vae"])
def test_other_hypermodels_work_without_objective(make, digits, tmp_path):
    x, xv = digits
    tuner = keras_tuner.RandomSearch(make(), max_trials=1, directory=tmp_path, seed=0)
    tuner.search(x, validation_data=(xv,), epochs=1, verbose=0)
    (trial,) = trials(tuner)
    assert trial.status == "COMPLETED" and np.isfinite(trial.score)


class _Scripted(keras.callbacks.Callback):
    """Overwrites ``val_loss`` with one scripted value per trial (shared by Keras Tuner's copies)."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.trial = list(scores), -1

    def __deepcopy__(self, memo):
        return self

    def on_train_begin(self, logs=None):
        self.trial += 1

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.scores[self.trial]


@pytest.mark.slow  # a three-trial GAN search (~6 s)
def test_a_search_never_ends_worse_than_its_first_trial_the_defaults(digits, tmp_path):
    x, xv = digits
    hm = AutoencoderHyperModel(64, overrides={"units": [8, 16], "latent_dim": [4], "depth": 1})
    tuner = keras_tuner.RandomSearch(hm, objective="val_loss", max_trials=2,
                                     directory=tmp_path, seed=0)
    tuner.search(x, validation_data=(xv,), epochs=1, verbose=0,
                 callbacks=[_Scripted([0.2, 0.5])])  # the random trial does worse
    done = trials(tuner)
    assert [t.score for t in done] == [0.2, 0.5]
    assert {k: done[0].hyperparameters.values[k] for k in hm.defaults()} == hm.defaults()
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.trial_id == done[0].trial_id and best.score <= min(t.score for t in done)

"""DiffusionHyperModel (tfgenopt/tuning/diffusion.py) with Keras Tuner's own tuners and search()."""

import keras
import keras_tuner
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation import FeatureExtractor
from tfgenopt.tuning import DiffusionHyperModel

TINY = {"widths": ["4,8", "4"], "depth": 1, "epochs": 1, "batch_size": 64}


@pytest.fixture(scope="module")
def digits():
    x, xv = tg.data.load_digits(image_size=8)
    return x[:128], xv[:32]


@pytest.fixture(scope="module")
def quality():
    """QualityMonitor arguments with a tiny softmax extractor on 8x8 images."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Dense(8, activation="relu", name="features")(keras.layers.Flatten()(inputs))
    ext = FeatureExtractor(keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h)))
    return {"extractor": ext, "n_samples": 32, "kid_subsets": 2}


def config(model):
    out = model.get_compile_config()
    out["optimizer"]["config"].pop("name")
    return out


def default_model(widths=(4, 8)):
    model = tg.models.Diffusion(tg.builders.unet((8, 8, 1), widths=widths, depth=1))
    model.compile()  # the default recipe, whatever its values are today
    return model


@pytest.mark.slow  # 25 s: make bench runs it (a one-trial tg.tuning.search stays in make test)
def test_random_search_completes_every_trial_and_trial_0_is_the_default(digits, quality,
                                                                        tmp_path):
    x, xv = digits
    hm = DiffusionHyperModel((8, 8, 1), overrides=TINY, seed=0, quality=quality)
    tuner = keras_tuner.RandomSearch(hm, max_trials=3, directory=tmp_path, seed=0)
    tuner.search(x, validation_data=(xv,), verbose=0)
    done = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    assert [t.status for t in done] == ["COMPLETED"] * 3
    assert all(np.isfinite(t.score) for t in done)
    first = done[0].hyperparameters
    assert {k: first.values[k] for k in hm.defaults()} == hm.defaults()
    model = hm.build(first)
    assert config(model) == config(default_model()) and model.ema == default_model().ema
    assert len({tuple(sorted(t.hyperparameters.values.items())) for t in done}) == 3


def test_tfgenopt_search_runs_it_with_the_quality_objective(digits, quality, tmp_path):
    x, xv = digits
    hm = DiffusionHyperModel((8, 8, 1), overrides={**TINY, "widths": "4"}, seed=0,
                             quality=quality)
    result = tg.tuning.search(hm, x, xv, tuner="random", max_trials=1, directory=tmp_path,
                              project_name="d", seed=0, verbose=0)
    assert list(result.statuses().values()) == ["COMPLETED"]
    assert np.isfinite(result.best_score)


def test_values_other_than_the_defaults_reach_compile():
    hm = DiffusionHyperModel((8, 8, 1), overrides={"widths": "8,16"})
    values = dict(hm.defaults(), formulation="vp", target="v", weighting="min_snr",
                  learning_rate=2e-4, ema=0.0)
    model = hm.build_model(values)
    cfg = model.get_compile_config()
    assert cfg["formulation"]["target"] == "v" and cfg["formulation"]["weighting"] == "min_snr"
    assert cfg["learning_rate"] == 2e-4 and model.ema is None


@pytest.mark.parametrize("kwargs, error, says", [
    ({"image_shape": (8, 8)}, ValueError, "image_shape"),
    ({"image_shape": (8, 8, 1), "overrides": {"widths": "8,16,32,64,128"}}, ValueError,
     "`widths`"),
    ({"image_shape": (8, 8, 1), "overrides": {"formulation": "ddpm"}}, ValueError,
     "formulation"),
    ({"image_shape": (8, 8, 1), "value_range": (1, 0)}, ValueError, "value_range"),
])
def test_bad_arguments_fail_at_construction_naming_them(kwargs, error, says):
    with pytest.raises(error, match=says):
        DiffusionHyperModel(**kwargs)

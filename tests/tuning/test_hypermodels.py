"""Tests of tfgenopt/tuning/hypermodels.py: valid models for sampled hyperparameters, fit
honours the tuned batch size, optimizers and the cosine epoch schedule."""

import copy
import math

import keras
import keras_tuner
import numpy as np
import pytest

from tests.helpers import check_config_roundtrip
from tfgenopt.tuning import AutoencoderHyperModel, EpochCosineDecay, make_optimizer


def _sampled_hps(hm, n, seed=0):
    """``n`` HyperParameters drawn at random from ``hm``'s space (as a random oracle would)."""
    base = keras_tuner.HyperParameters()
    hm.build(base)
    out = []
    for i in range(n):
        hp = base.copy()
        for p in base.space:
            hp.values[p.name] = p.random_sample(seed + 100 * i + len(hp.values))
        out.append(hp)
    return out


class _CountBatches(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


class TestAutoencoderHyperModel:
    @pytest.mark.parametrize("shape", [64, (8, 8, 1)])
    def test_builds_trainable_models_for_sampled_hyperparameters(self, shape, digits8):
        hm = AutoencoderHyperModel(shape, seed=0)
        x = digits8[0][:32].reshape((32,) + ((64,) if shape == 64 else (8, 8, 1)))
        for hp in _sampled_hps(hm, 3):
            model = hm.build(hp)
            assert model.output_shape[1:] == x.shape[1:]
            assert model.optimizer.__class__.__name__.lower() == hp.get("optimizer")
            lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
            assert lr == pytest.approx(hp.get("learning_rate"), rel=1e-6)
            loss = model.train_on_batch(x, x)
            assert np.isfinite(loss)

    def test_default_dense_space_contains_the_classic_784_64_32_784(self):
        hm = AutoencoderHyperModel(784, overrides={"units": 64, "depth": 1, "latent_dim": 32,
                                                   "normalization": "none"})
        model = hm.build(keras_tuner.HyperParameters())
        assert model.count_params() == 78192

    def test_fit_uses_the_tuned_batch_size(self, digits8):
        x = digits8[0][:200].reshape(200, 64)
        hm = AutoencoderHyperModel(64, overrides={"batch_size": 50, "epochs": 2}, seed=0)
        hp = keras_tuner.HyperParameters()
        model = hm.build(hp)
        counter = _CountBatches()
        history = hm.fit(hp, model, x, callbacks=[counter])
        assert counter.batches == 2 * (200 // 50)  # 2 epochs of 4 batches of 50
        assert len(history.history["loss"]) == 2

    def test_fit_epochs_argument_overrides_the_budget(self, digits8):
        x = digits8[0][:64].reshape(64, 64)
        hm = AutoencoderHyperModel(64, overrides={"batch_size": 32, "epochs": 3})
        hp = keras_tuner.HyperParameters()
        history = hm.fit(hp, hm.build(hp), x, epochs=1)
        assert len(history.history["loss"]) == 1

    def test_fit_rejects_a_batch_size_argument(self, digits8):
        hm = AutoencoderHyperModel(64)
        hp = keras_tuner.HyperParameters()
        with pytest.raises(ValueError, match="`batch_size` is a tuned hyperparameter"):
            hm.fit(hp, hm.build(hp), digits8[0].reshape(-1, 64), batch_size=8)

    def test_adam_search_space_lowers_the_validation_loss(self, digits8):
        xt, xv = (a.reshape(len(a), 64) for a in digits8)
        hm = AutoencoderHyperModel(64, overrides={"optimizer": "adam", "learning_rate": 3e-3,
                                                  "batch_size": 32, "epochs": 3}, seed=0)
        hp = keras_tuner.HyperParameters()
        history = hm.fit(hp, hm.build(hp), xt, validation_data=xv)
        assert history.history["val_loss"][-1] < history.history["val_loss"][0]

    def test_unknown_override_fails_at_construction(self):
        with pytest.raises(ValueError, match="Unknown search-space key.*'widths'"):
            AutoencoderHyperModel(64, overrides={"widths": 3})

    def test_bad_input_shape_is_rejected(self):
        with pytest.raises(ValueError, match="`input_shape`"):
            AutoencoderHyperModel((8, 8))


class TestMakeOptimizer:
    @pytest.mark.parametrize("name,cls", [("sgd", keras.optimizers.SGD),
                                          ("adam", keras.optimizers.Adam),
                                          ("rmsprop", keras.optimizers.RMSprop),
                                          ("adagrad", keras.optimizers.Adagrad)])
    def test_names_map_to_keras_optimizers(self, name, cls):
        opt = make_optimizer(name, 0.02, momentum=0.8)
        assert isinstance(opt, cls)
        assert float(keras.ops.convert_to_numpy(opt.learning_rate)) == pytest.approx(0.02)

    def test_sgd_has_momentum(self):
        assert make_optimizer("sgd", 0.1, momentum=0.7).momentum == pytest.approx(0.7)

    def test_unknown_name_lists_known(self):
        with pytest.raises(ValueError, match=r"`optimizer` must be one of \['adagrad', 'adam'"):
            make_optimizer("adamw", 0.1)


class TestEpochCosineDecay:
    def test_factor_is_a_half_cosine(self):
        cb = EpochCosineDecay(epochs=4, final_fraction=0.1)
        expected = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
        np.testing.assert_allclose([cb.factor(e) for e in range(5)], expected)

    def test_sets_and_logs_the_learning_rate_each_epoch(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        x = np.ones((8, 2), "float32")
        history = model.fit(x, x[:, :1], epochs=3, verbose=0,
                            callbacks=[EpochCosineDecay(epochs=3)])
        np.testing.assert_allclose(history.history["lr"], [0.1, 0.075, 0.025], rtol=1e-5)

    def test_survives_deepcopy_and_config_roundtrip(self):
        cb = EpochCosineDecay(epochs=5, final_fraction=0.2)
        assert copy.deepcopy(cb).get_config() == cb.get_config()
        check_config_roundtrip(cb)

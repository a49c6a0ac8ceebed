"""Tests for tfgenopt/callbacks/vae.py: KL warm-up drives the VAE's beta."""

import copy
import math

import keras
import numpy as np
import pytest

from tests.helpers import check_config_roundtrip
from tests.helpers import tiny_vae as _tiny_vae
from tfgenopt.callbacks import KLWarmup
from tfgenopt.callbacks.vae import warmup_value


def tiny_vae():
    return _tiny_vae(dim=64, hidden=(16,), net_seeds=(None, None), beta=1.0,
                     optimizer=keras.optimizers.Adam(1e-3))


@pytest.fixture(scope="module")
def x64(digits8):
    return digits8[0].reshape(len(digits8[0]), -1)[:96]


class BetaSpy(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.values = []

    def on_train_batch_begin(self, batch, logs=None):
        self.values.append(float(self.model.beta.numpy()))


class TestKLWarmup:
    def test_epoch_warmup_is_linear_and_drives_the_loss(self, x64):
        vae = tiny_vae()
        history = vae.fit(x64, epochs=5, batch_size=32, verbose=0,
                          callbacks=[KLWarmup(0.0, 1.0, epochs=4)])
        h = history.history
        assert h["beta"] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
        for beta, loss, rec, kl in zip(h["beta"], h["loss"], h["reconstruction_loss"],
                                       h["kl_loss"]):
            assert loss == pytest.approx(rec + beta * kl, rel=1e-5)

    def test_per_step_follows_the_global_step(self, x64):
        spy = BetaSpy()
        tiny_vae().fit(x64, epochs=2, batch_size=32, verbose=0,
                       callbacks=[KLWarmup(0.2, 1.0, epochs=2, per_step=True), spy])
        steps = np.arange(6)  # 3 batches per epoch, 2 epochs
        np.testing.assert_allclose(spy.values, 0.2 + 0.8 * steps / 6, rtol=1e-6)

    def test_delay_holds_start_then_warms_up(self, x64):
        spy = BetaSpy()
        tiny_vae().fit(x64, epochs=4, batch_size=96, verbose=0,
                       callbacks=[KLWarmup(0.0, 2.0, epochs=2, delay=1), spy])
        assert spy.values == pytest.approx([0.0, 0.0, 1.0, 2.0])

    def test_cosine_shape_matches_closed_form(self):
        for t in (0.0, 0.3, 0.5, 0.9, 1.2):
            expected = 0.5 * (1 - math.cos(math.pi * min(t, 1.0)))
            assert warmup_value(t, 0.0, 1.0, "cosine") == pytest.approx(expected)

    def test_model_without_beta_variable_is_refused(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        cb = KLWarmup()
        cb.set_model(model)
        with pytest.raises(TypeError, match="model.beta"):
            cb.on_train_begin()

    def test_rejects_unknown_shape(self):
        with pytest.raises(ValueError, match="shape"):
            KLWarmup(shape="sigmoid")

    def test_config_roundtrip_and_deepcopy(self):
        cb = check_config_roundtrip(KLWarmup(0.1, 0.9, epochs=3, per_step=True, delay=2,
                                             shape="cosine", steps_per_epoch=10))
        assert copy.deepcopy(cb).get_config() == cb.get_config()

"""tfgenopt/losses.py and tfgenopt/layers/lecam.py: RaGAN losses and the LeCam regularizer against NumPy / hand values."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import check_config_roundtrip, check_keras_roundtrip
from tfgenopt.layers import LeCamEMA
from tfgenopt.losses import lecam_penalty, ra_d_loss, ra_g_loss


def log_sigmoid(x):
    return -np.log1p(np.exp(-x))


def np_ra_d(real, fake, smoothing=0.0):
    r, f = real - fake.mean(), fake - real.mean()
    t = 1.0 - smoothing
    return (-(t * log_sigmoid(r) + (1 - t) * log_sigmoid(-r)).mean()
            - log_sigmoid(-f).mean())  # log(1 - sigmoid(f)) = log_sigmoid(-f)


def np_ra_g(fake, real):
    return -log_sigmoid(fake - real.mean()).mean() - log_sigmoid(-(real - fake.mean())).mean()


def value(x):
    return float(keras.ops.convert_to_numpy(x))


REAL = np.array([[1.5], [0.5], [2.0], [-0.5]])
FAKE = np.array([[-1.0], [0.0], [-2.0], [1.0]])


class TestRelativisticAverage:
    def test_d_loss_hand_value(self):
        # mean(real) = 0.875, mean(fake) = -0.5; relativistic real = real + 0.5, fake = fake - 0.875
        r = np.array([2.0, 1.0, 2.5, 0.0])
        f = np.array([-1.875, -0.875, -2.875, 0.125])
        expected = np.mean(np.log1p(np.exp(-r))) + np.mean(np.log1p(np.exp(f)))
        assert value(ra_d_loss(REAL, FAKE)) == pytest.approx(expected, rel=1e-6)
        assert expected == pytest.approx(np_ra_d(REAL, FAKE), rel=1e-12)

    def test_g_loss_hand_value_uses_real_logits(self):
        expected = np_ra_g(FAKE, REAL)
        assert value(ra_g_loss(FAKE, REAL)) == pytest.approx(expected, rel=1e-6)
        assert value(ra_g_loss(FAKE, REAL + 1.0)) != pytest.approx(expected, rel=1e-3)

    def test_equal_logits_give_two_log_two(self):
        z = np.zeros((5, 1))
        assert value(ra_d_loss(z, z)) == pytest.approx(2 * np.log(2), rel=1e-6)
        assert value(ra_g_loss(z, z)) == pytest.approx(2 * np.log(2), rel=1e-6)

    def test_roles_swap_between_d_and_g(self):
        assert value(ra_g_loss(FAKE, REAL)) == pytest.approx(value(ra_d_loss(FAKE, REAL)),
                                                            rel=1e-6)

    def test_label_smoothing_matches_numpy(self, rng):
        real, fake = rng.normal(size=(16, 1)), rng.normal(size=(16, 1))
        assert value(ra_d_loss(real, fake, 0.1)) == pytest.approx(np_ra_d(real, fake, 0.1),
                                                                   rel=1e-5)

    def test_large_logits_stay_finite(self):
        big = np.array([[80.0], [-80.0]])
        assert np.isfinite(value(ra_d_loss(big, -big))) and np.isfinite(value(ra_g_loss(big, -big)))

    def test_generator_gradient_flows_through_both_terms(self):
        fake = tf.Variable([[0.5], [-0.5]])
        with tf.GradientTape() as tape:
            loss = ra_g_loss(fake, tf.constant([[1.0], [2.0]]))
        grad = tape.gradient(loss, fake).numpy().ravel()
        # d/df of mean softplus(-(f - 1.5)) + mean softplus(r - mean f), by finite differences
        eps, base = 1e-3, np_ra_g(np.array([0.5, -0.5]), np.array([1.0, 2.0]))
        bumped = np_ra_g(np.array([0.5 + eps, -0.5]), np.array([1.0, 2.0]))
        assert grad[0] == pytest.approx((bumped - base) / eps, rel=1e-2)


class TestLeCam:
    def test_penalty_hand_value(self):
        # relu([2, -1] - 0.5)^2 = [2.25, 0]; relu(1 - [0, 3])^2 = [1, 0]
        assert value(lecam_penalty([2.0, -1.0], [0.0, 3.0], 1.0, 0.5)) == pytest.approx(1.625)

    def test_penalty_matches_numpy(self, rng):
        real, fake = rng.normal(size=(32, 1)), rng.normal(size=(32, 1))
        expected = (np.mean(np.maximum(real - (-0.3), 0) ** 2)
                    + np.mean(np.maximum(0.7 - fake, 0) ** 2))
        assert value(lecam_penalty(real, fake, 0.7, -0.3)) == pytest.approx(expected, rel=1e-5)

    def test_penalty_is_zero_when_d_agrees_with_the_averages(self):
        assert value(lecam_penalty([-1.0, -2.0], [3.0, 4.0], 1.0, 0.0)) == 0.0

    def test_ema_updates_with_decay(self):
        ema = LeCamEMA()  # decay 0.99
        step = tf.function(ema.update)
        for _ in range(3):
            step(tf.constant([[1.0], [3.0]]), tf.constant([[-4.0]]))
        assert value(ema.ema_real) == pytest.approx(2.0 * (1 - 0.99 ** 3), rel=1e-5)
        assert value(ema.ema_fake) == pytest.approx(-4.0 * (1 - 0.99 ** 3), rel=1e-5)

    def test_penalty_method_uses_the_averages(self):
        ema = LeCamEMA(decay=0.0)
        ema.update([1.0], [-1.0])
        assert value(ema.penalty([2.0], [-3.0])) == pytest.approx(9.0 + 16.0)  # (2+1)^2+(1+3)^2

    def test_config_and_keras_roundtrip_keep_the_averages(self, tmp_path):
        check_config_roundtrip(LeCamEMA(decay=0.9, initial=1.0))
        ema = LeCamEMA(decay=0.5)
        model = keras.Sequential([keras.Input((2,)), ema, keras.layers.Dense(1)])
        ema.update([4.0], [-2.0])
        loaded = check_keras_roundtrip(model, np.ones((2, 2), "float32"), tmp_path)
        assert value(loaded.layers[0].ema_real) == 2.0 and value(loaded.layers[0].ema_fake) == -1.0

    @pytest.mark.parametrize("decay", [1.0, -0.1])
    def test_decay_outside_zero_one_raises(self, decay):
        with pytest.raises(ValueError, match="decay"):
            LeCamEMA(decay=decay)

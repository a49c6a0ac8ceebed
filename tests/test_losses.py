"""Tests for tfgenopt.losses: closed forms, the registry, and penalties against NumPy."""

import keras
import numpy as np
import pytest

from tfgenopt import losses

REAL = np.array([[2.0], [-1.0], [0.5]], dtype="float32")
FAKE = np.array([[-3.0], [0.0], [1.5]], dtype="float32")


def softplus(x):
    return np.log1p(np.exp(x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def f(x):
    return float(keras.ops.convert_to_numpy(x))


class TestLossClosedForms:
    def test_non_saturating_d_loss_is_bce_real_ones_plus_bce_fake_zeros(self):
        want = np.mean(-np.log(sigmoid(REAL))) + np.mean(-np.log(1 - sigmoid(FAKE)))
        assert f(losses.non_saturating.d_loss(REAL, FAKE)) == pytest.approx(want, rel=1e-5)

    def test_non_saturating_g_loss_is_minus_log_d_of_fake(self):
        want = np.mean(-np.log(sigmoid(FAKE)))
        assert f(losses.non_saturating.g_loss(FAKE)) == pytest.approx(want, rel=1e-5)

    def test_minimax_g_loss_is_log_one_minus_d_of_fake(self):
        want = np.mean(np.log(1 - sigmoid(FAKE)))
        assert f(losses.minimax.g_loss(FAKE)) == pytest.approx(want, rel=1e-5)

    def test_minimax_and_non_saturating_share_the_discriminator_loss(self):
        assert f(losses.minimax.d_loss(REAL, FAKE)) == f(losses.non_saturating.d_loss(REAL, FAKE))

    def test_label_smoothing_sets_real_targets_to_one_minus_s(self):
        s = 0.1
        p = sigmoid(REAL)
        want = np.mean(-(1 - s) * np.log(p) - s * np.log(1 - p)) + np.mean(softplus(FAKE))
        got = f(losses.non_saturating.d_loss(REAL, FAKE, label_smoothing=s))
        assert got == pytest.approx(want, rel=1e-5)

    def test_hinge_losses_match_hand_values(self):
        # relu(1 - [2, -1, .5]) = [0, 2, .5] -> 2.5/3 ; relu(1 + [-3, 0, 1.5]) = [0, 1, 2.5] -> 3.5/3
        assert f(losses.hinge.d_loss(REAL, FAKE)) == pytest.approx(6.0 / 3, rel=1e-6)
        assert f(losses.hinge.g_loss(FAKE)) == pytest.approx(1.5 / 3, rel=1e-6)

    def test_wasserstein_losses_match_hand_values(self):
        # mean(fake) = -0.5, mean(real) = 0.5
        assert f(losses.wasserstein.d_loss(REAL, FAKE)) == pytest.approx(-1.0, rel=1e-6)
        assert f(losses.wasserstein.g_loss(FAKE)) == pytest.approx(0.5, rel=1e-6)

    def test_least_squares_losses_match_hand_values(self):
        want_d = 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE**2)
        want_g = 0.5 * np.mean((FAKE - 1) ** 2)
        assert f(losses.least_squares.d_loss(REAL, FAKE)) == pytest.approx(want_d, rel=1e-6)
        assert f(losses.least_squares.g_loss(FAKE)) == pytest.approx(want_g, rel=1e-6)

    def test_bce_is_stable_for_huge_logits(self):
        big = np.array([[1e4]], "float32")
        assert f(losses.non_saturating.d_loss(big, -big)) == pytest.approx(0.0, abs=1e-6)
        assert f(losses.non_saturating.g_loss(-big)) == pytest.approx(1e4, rel=1e-6)

    def test_losses_return_float32_for_bfloat16_logits(self):
        out = losses.hinge.d_loss(keras.ops.cast(REAL, "bfloat16"), keras.ops.cast(FAKE, "bfloat16"))
        assert keras.backend.standardize_dtype(out.dtype) == "float32"


class TestRegistry:
    def test_every_promised_name_is_registered(self):
        assert set(losses.names()) == {"minimax", "non_saturating", "hinge", "wasserstein",
                                       "least_squares", "relativistic_average"}

    def test_get_returns_the_named_loss_and_passes_instances_through(self):
        assert losses.get("hinge") is losses.hinge
        assert losses.get(losses.wasserstein) is losses.wasserstein

    def test_unknown_name_lists_known_names(self):
        with pytest.raises(ValueError, match="'nonsaturating'.*known.*non_saturating"):
            losses.get("nonsaturating")

    def test_non_string_raises_type_error(self):
        with pytest.raises(TypeError, match="loss"):
            losses.get(3)


def tanh_critic(w1, b1, w2):
    x = keras.Input((w1.shape[0],))
    h = keras.layers.Dense(w1.shape[1], activation="tanh")(x)
    out = keras.layers.Dense(1, use_bias=False)(h)
    model = keras.Model(x, out)
    model.set_weights([w1, b1, w2])
    return model


def numpy_input_gradient(x, w1, b1, w2):
    """d/dx of tanh(x W1 + b1) W2, per sample, by hand."""
    h = np.tanh(x @ w1 + b1)
    return ((1 - h**2) * w2[:, 0]) @ w1.T


class TestGradientPenalty:
    def test_linear_critic_penalty_is_norm_minus_one_squared(self):
        d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
        d.set_weights([np.array([[3.0], [0.0], [4.0]], "float32")])
        gp = losses.gradient_penalty(d, np.zeros((4, 3)), np.ones((4, 3)), seed=0)
        assert f(gp) == pytest.approx(16.0, rel=1e-6)

    def test_matches_an_independent_numpy_computation_on_interpolates(self, rng):
        w1 = rng.normal(size=(5, 7)).astype("float32")
        b1 = rng.normal(size=(7,)).astype("float32")
        w2 = rng.normal(size=(7, 1)).astype("float32")
        real = rng.normal(size=(6, 5)).astype("float32")
        fake = rng.normal(size=(6, 5)).astype("float32")
        alpha = rng.random(6).astype("float32")
        x_hat = real + alpha[:, None] * (fake - real)
        norms = np.linalg.norm(numpy_input_gradient(x_hat, w1, b1, w2), axis=1)
        want = np.mean((norms - 1.0) ** 2)
        got = losses.gradient_penalty(tanh_critic(w1, b1, w2), real, fake, alpha=alpha)
        assert f(got) == pytest.approx(want, rel=1e-4)

    def test_image_inputs_use_the_norm_over_all_pixels(self):
        x = keras.Input((2, 2, 1))
        d = keras.Model(x, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(x)))
        d.set_weights([np.full((4, 1), 0.5, "float32")])  # grad norm = sqrt(4 * 0.25) = 1
        gp = losses.gradient_penalty(d, np.zeros((3, 2, 2, 1)), np.ones((3, 2, 2, 1)), seed=1)
        assert f(gp) == pytest.approx(0.0, abs=1e-6)

    def test_same_integer_seed_gives_the_same_penalty(self, rng):
        w1, b1, w2 = (rng.normal(size=s).astype("float32") for s in ((4, 3), (3,), (3, 1)))
        d = tanh_critic(w1, b1, w2)
        real, fake = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
        a = f(losses.gradient_penalty(d, real, fake, seed=3))
        b = f(losses.gradient_penalty(d, real, fake, seed=3))
        assert a == b


class TestR1Penalty:
    def test_linear_critic_r1_is_squared_weight_norm(self):
        d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        d.set_weights([np.array([[3.0], [4.0]], "float32"), np.array([7.0], "float32")])
        assert f(losses.r1_penalty(d, np.zeros((4, 2)))) == pytest.approx(25.0, rel=1e-6)

    def test_matches_numpy_gradients_of_a_tanh_critic(self, rng):
        w1, b1, w2 = (rng.normal(size=s).astype("float32") for s in ((5, 4), (4,), (4, 1)))
        real = rng.normal(size=(6, 5)).astype("float32")
        grads = numpy_input_gradient(real, w1, b1, w2)
        want = np.mean(np.sum(grads**2, axis=1))
        got = losses.r1_penalty(tanh_critic(w1, b1, w2), real)
        assert f(got) == pytest.approx(want, rel=1e-4)

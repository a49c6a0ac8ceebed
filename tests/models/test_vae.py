"""Tests for tfgenopt.models.VAE: loss terms against NumPy, beta, training, saving, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, check_keras_roundtrip, tiny_vae
from tfgenopt.models import VAE, protocol
from tfgenopt.models.vae import kl_divergence, reconstruction_loss

DIM, LATENT = 16, 2


def make_vae(beta=1.0, reconstruction="bce"):
    return tiny_vae(dim=DIM, latent_dim=LATENT, beta=beta, reconstruction=reconstruction)


@pytest.fixture
def x(rng):
    return rng.random((32, DIM)).astype("float32")


@pytest.fixture(scope="module")
def idle_vae():
    """A default VAE compiled with Adam, never fitted: for the tests that only read it
    (generate, call, the protocol, data refused before the first step)."""
    vae = make_vae()
    vae.compile("adam")
    return vae


def f(t):
    return float(keras.ops.convert_to_numpy(t))


class TestLossTerms:
    def test_bce_reconstruction_sums_pixels_and_averages_samples(self, rng):
        x, p = rng.random((4, 6)), rng.uniform(0.05, 0.95, (4, 6))
        want = np.mean(np.sum(-(x * np.log(p) + (1 - x) * np.log(1 - p)), axis=1))
        assert f(reconstruction_loss(x, p, "bce")) == pytest.approx(want, rel=1e-5)

    def test_kl_matches_the_gaussian_closed_form(self, rng):
        m, lv = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
        var = np.exp(lv)
        want = np.mean(np.sum(0.5 * (var + m**2 - 1 - lv), axis=1))
        assert f(kl_divergence(m, lv)) == pytest.approx(want, rel=1e-5)

    def test_elbo_terms_without_eps_use_the_mean_code(self, x):
        vae = make_vae(beta=0.5)
        z_mean, z_log_var = vae.encode(x)
        terms = vae.elbo_terms(x)
        want_rec = f(reconstruction_loss(x, vae.decode(z_mean)))
        assert f(terms["reconstruction_loss"]) == pytest.approx(want_rec, rel=1e-6)
        assert f(terms["loss"]) == pytest.approx(want_rec + 0.5 * f(kl_divergence(z_mean, z_log_var)),
                                                 rel=1e-6)
        assert f(vae.elbo_terms(x)["loss"]) == f(terms["loss"])

    def test_elbo_terms_with_eps_reparameterize(self, x, rng):
        vae = make_vae(reconstruction="mse")
        eps = rng.normal(size=(32, LATENT)).astype("float32")
        z_mean, z_log_var = vae.encode(x)
        z = z_mean + keras.ops.exp(0.5 * z_log_var) * eps
        want = f(reconstruction_loss(x, vae.decode(z), "mse"))
        assert f(vae.elbo_terms(x, eps=eps)["reconstruction_loss"]) == pytest.approx(want, rel=1e-6)


class TestBeta:
    def test_beta_is_a_non_trainable_variable_a_callback_can_assign(self, x):
        vae = make_vae(beta=1.0)
        assert isinstance(vae.beta, keras.Variable) and not vae.beta.trainable
        kl = f(vae.elbo_terms(x)["kl_loss"])
        rec = f(vae.elbo_terms(x)["reconstruction_loss"])
        vae.beta.assign(0.0)
        assert f(vae.elbo_terms(x)["loss"]) == pytest.approx(rec, rel=1e-6)
        vae.beta.assign(4.0)
        assert f(vae.elbo_terms(x)["loss"]) == pytest.approx(rec + 4.0 * kl, rel=1e-6)

    def test_annealed_beta_is_seen_by_the_compiled_step_and_logged(self, x):
        class Anneal(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.model.beta.assign(0.25 * (epoch + 1))

        vae = make_vae()
        vae.compile("adam")
        hist = vae.fit(x, batch_size=16, epochs=2, verbose=0, callbacks=[Anneal()]).history
        assert hist["beta"] == pytest.approx([0.25, 0.5])


class TestTraining:
    def test_logs_and_val_logs_have_the_promised_keys(self, x):
        vae = make_vae()
        vae.compile("adam")
        hist = vae.fit(x, batch_size=16, validation_data=(x,), verbose=0).history
        assert set(hist) == {"loss", "reconstruction_loss", "kl_loss", "beta", "val_loss",
                             "val_reconstruction_loss", "val_kl_loss", "val_beta"}

    def test_one_step_matches_a_hand_written_tape_step_with_the_same_noise(self, x):
        class FixedEps(VAE):
            def _sample_eps(self, z_mean):
                return keras.ops.ones_like(z_mean) * 0.3

        vae = FixedEps(*make_vae().networks().values(), seed=0)
        ref = make_vae()
        vae.compile(keras.optimizers.SGD(0.05))
        vae.fit(x, batch_size=32, shuffle=False, verbose=0)
        opt = keras.optimizers.SGD(0.05)
        with tf.GradientTape() as tape:
            m, lv = ref.encoder(x, training=True)
            x_hat = ref.decoder(m + tf.exp(0.5 * lv) * 0.3, training=True)
            rec = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(
                x[..., None], x_hat[..., None]), axis=1))
            loss = rec + tf.reduce_mean(-0.5 * tf.reduce_sum(1 + lv - m**2 - tf.exp(lv), axis=1))
        vars_ = ref.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, vars_), vars_))
        for a, b in zip(vae.get_weights(), ref.get_weights()):
            np.testing.assert_allclose(a, b, atol=2e-5)

    def test_fit_on_digits_lowers_the_loss(self, digits8):
        x = digits8[0].reshape(-1, 64)
        enc = tg.builders.vae_encoder(64, latent_dim=2, seed=0)
        vae = VAE(enc, tg.builders.vae_decoder(2, 64, seed=1), seed=0)
        vae.compile(keras.optimizers.Adam(3e-3))
        hist = vae.fit(x, batch_size=64, epochs=5, verbose=0).history
        assert hist["loss"][-1] < 0.9 * hist["loss"][0]

    def test_wrong_data_shape_raises_at_the_first_step(self, idle_vae, rng):
        with pytest.raises(ValueError, match="sample shape \\(10,\\).*expects \\(16,\\)"):
            idle_vae.fit(rng.random((8, 10)), verbose=0)


class TestUse:
    def test_generate_is_reproducible_and_in_the_decoder_range(self, idle_vae):
        vae = idle_vae
        a = vae.generate(6, seed=2)
        assert a.shape == (6, DIM) and a.dtype == np.float32
        np.testing.assert_array_equal(a, vae.generate(6, seed=2))
        assert 0.0 <= a.min() and a.max() <= 1.0

    def test_call_and_reconstruct_decode_the_mean_code(self, idle_vae, x):
        vae = idle_vae
        want = keras.ops.convert_to_numpy(vae.decode(vae.encode(x)[0]))
        np.testing.assert_allclose(vae.reconstruct(x), want, atol=1e-6)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(vae(x)), want, atol=1e-6)

    def test_networks_protocol(self, idle_vae):
        vae = idle_vae
        assert set(protocol.networks(vae)) == {"encoder", "decoder"}


class TestValidation:
    def test_unknown_reconstruction_lists_choices(self):
        with pytest.raises(ValueError, match="reconstruction.*'bce', 'mse'.*'l1'"):
            make_vae(reconstruction="l1")

    def test_negative_beta_is_rejected(self):
        with pytest.raises(ValueError, match="`beta` must be >= 0.0; received -1.0"):
            make_vae(beta=-1.0)

    def test_decoder_must_take_the_encoder_code(self):
        enc = tg.builders.vae_encoder(DIM, latent_dim=3)
        with pytest.raises(ValueError, match="code shape \\(3,\\).*\\(2,\\)"):
            VAE(enc, tg.builders.vae_decoder(2, DIM))


class TestSaving:
    def test_config_round_trip(self):
        clone = check_config_roundtrip(make_vae(beta=0.5, reconstruction="mse"))
        assert clone.reconstruction == "mse" and f(clone.beta) == 0.5

    def test_keras_round_trip_keeps_weights_beta_and_optimizer_state(self, x, tmp_path):
        vae = make_vae()
        vae.compile("adam")
        vae.fit(x, batch_size=16, verbose=0)
        vae.beta.assign(0.3)
        loaded = check_keras_roundtrip(vae, x, tmp_path)
        assert f(loaded.beta) == pytest.approx(0.3)
        assert int(loaded.optimizer.iterations) == 2
        np.testing.assert_array_equal(loaded.generate(4, seed=1), vae.generate(4, seed=1))

"""Tests for tfgenopt.models.GAN: wiring checks, compile checks, the exact step, EMA, logs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tfgenopt.models import GAN, protocol

LATENT, DIM, BATCH = 4, 12, 8


def tiny_nets(latent=LATENT, dim=DIM, num_classes=None, seed=0):
    g = tg.builders.dense_generator(latent_dim=latent, hidden=(8,), output_dim=dim,
                                    num_classes=num_classes, seed=seed)
    d = tg.builders.dense_discriminator(input_dim=dim, hidden=(8,), num_classes=num_classes,
                                        seed=seed + 1)
    return g, d


class FixedNoiseGAN(GAN):
    """Noise and interpolation weights as fixed functions of the batch (to compare steps)."""

    def _batch_noise(self, x_real, labels):
        return x_real[:, : self.latent_dim] * 2.0 - 1.0

    def _interpolation_weights(self, x_real):
        return x_real[:, -1]


@pytest.fixture
def batch(rng):
    return rng.random((BATCH, DIM)).astype("float32")


def weights(net):
    return [w.copy() for w in net.get_weights()]


class TestConstruction:
    def test_latent_dim_must_match_the_generator_input(self):
        g, d = tiny_nets()
        with pytest.raises(ValueError, match="latent_dim.*5.*noise input.*\\(4,\\)"):
            GAN(g, d, latent_dim=5)

    def test_generator_output_must_fit_the_discriminator(self):
        g, _ = tiny_nets(dim=12)
        _, d = tiny_nets(dim=10)
        with pytest.raises(ValueError, match="output shape \\(12,\\) does not fit.*\\(10,\\)"):
            GAN(g, d, latent_dim=LATENT)

    def test_conditional_needs_num_classes_and_two_inputs(self):
        g, d = tiny_nets()
        with pytest.raises(ValueError, match="num_classes"):
            GAN(g, d, latent_dim=LATENT, conditional=True)
        with pytest.raises(ValueError, match="1 inputs; a conditional GAN needs"):
            GAN(g, d, latent_dim=LATENT, conditional=True, num_classes=3)

    def test_ema_must_be_in_unit_interval(self):
        g, d = tiny_nets()
        with pytest.raises(ValueError, match="`ema` must be < 1.0; received 1.0"):
            GAN(g, d, latent_dim=LATENT, ema=1.0)

    def test_networks_must_be_keras_models(self):
        _, d = tiny_nets()
        with pytest.raises(TypeError, match="`generator` must be a keras.Model"):
            GAN(lambda z: z, d, latent_dim=LATENT)

    def test_protocol_exposes_networks_and_named_optimizers(self):
        g, d = tiny_nets()
        gan = GAN(g, d, latent_dim=LATENT, ema=0.9)
        gan.compile()
        assert set(protocol.networks(gan)) == {"generator", "discriminator", "ema_generator"}
        assert protocol.optimizers(gan) == {"d": gan.d_optimizer, "g": gan.g_optimizer}
        assert {id(v) for v in protocol.trainable_variables(gan)} == {
            id(v) for v in g.trainable_variables + d.trainable_variables}


class TestCompileValidation:
    @pytest.fixture
    def gan(self):
        return GAN(*tiny_nets(), latent_dim=LATENT)

    def test_unknown_loss_lists_the_known_ones(self, gan):
        with pytest.raises(ValueError, match="'hinj'.*known.*hinge"):
            gan.compile(loss="hinj")

    @pytest.mark.parametrize("arg", ["gradient_penalty", "r1", "instance_noise"])
    def test_negative_penalties_are_rejected(self, gan, arg):
        with pytest.raises(ValueError, match=f"`{arg}` must be >= 0.0; received -1.0"):
            gan.compile(**{arg: -1.0})

    def test_d_steps_below_one_is_rejected(self, gan):
        with pytest.raises(ValueError, match="`d_steps` must be >= 1; received 0"):
            gan.compile(d_steps=0)

    def test_label_smoothing_is_rejected_for_critic_losses(self, gan):
        with pytest.raises(ValueError, match="label_smoothing.*'wasserstein'"):
            gan.compile(loss="wasserstein", label_smoothing=0.1)

    def test_one_optimizer_instance_cannot_serve_both_networks(self, gan):
        opt = keras.optimizers.Adam()
        with pytest.raises(ValueError, match="different optimizer instances"):
            gan.compile(d_optimizer=opt, g_optimizer=opt)

    def test_unknown_optimizer_name_is_rejected(self, gan):
        with pytest.raises(ValueError, match="`g_optimizer`.*'adamm'"):
            gan.compile(g_optimizer="adamm")

    def test_failed_compile_leaves_the_previous_recipe(self, gan):
        gan.compile(loss="hinge")
        d_opt = gan.d_optimizer
        with pytest.raises(ValueError):
            gan.compile(loss="minimax", d_steps=0)
        assert gan.adversarial_loss.name == "hinge" and gan.d_optimizer is d_opt

    def test_optimizers_are_built_on_their_networks_at_compile(self, gan):
        gan.compile(d_optimizer="sgd", g_optimizer="adam")
        assert gan.d_optimizer.built and gan.g_optimizer.built
        # Adam: 2 slots per generator variable.
        assert len(gan.g_optimizer.variables) == 2 + 2 * len(gan.generator.trainable_variables)


def reference_step(g, d, x, z, loss, gp_weight=0.0, alpha=None, lr=1e-3):
    """A hand-written keras.io-style step: one D update then one G update (Adam)."""
    opt_d, opt_g = keras.optimizers.Adam(lr), keras.optimizers.Adam(lr)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    x_fake = g(z, training=True)
    with tf.GradientTape() as tape:
        real, fake = d(x, training=True), d(x_fake, training=True)
        if loss == "non_saturating":
            d_loss = bce(tf.ones_like(real), real) + bce(tf.zeros_like(fake), fake)
        else:
            d_loss = tf.reduce_mean(fake) - tf.reduce_mean(real)
        if gp_weight:
            x_hat = x + alpha[:, None] * (x_fake - x)
            with tf.GradientTape() as inner:
                inner.watch(x_hat)
                out = d(x_hat, training=True)
            grad = inner.gradient(out, x_hat)
            norm = tf.sqrt(tf.reduce_sum(grad**2, axis=1) + 1e-12)
            d_loss += gp_weight * tf.reduce_mean((norm - 1.0) ** 2)
    opt_d.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables))
    with tf.GradientTape() as tape:
        fake = d(g(z, training=True), training=True)
        g_loss = bce(tf.ones_like(fake), fake) if loss == "non_saturating" else -tf.reduce_mean(fake)
    opt_g.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables))


class TestTrainStepMatchesHandWrittenStep:
    @pytest.mark.parametrize("loss,gp", [("non_saturating", 0.0), ("wasserstein", 10.0)])
    def test_one_fit_step_updates_weights_like_a_gradient_tape_step(self, batch, loss, gp):
        g, d = tiny_nets()
        g_ref, d_ref = tiny_nets()  # same seeds -> same initial weights
        gan = FixedNoiseGAN(g, d, latent_dim=LATENT, seed=0)
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                    loss=loss, gradient_penalty=gp, r1=0.0)
        gan.fit(batch, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        z = batch[:, :LATENT] * 2.0 - 1.0
        reference_step(g_ref, d_ref, batch, z, loss, gp, alpha=batch[:, -1])
        for got, want in zip(d.get_weights() + g.get_weights(),
                             d_ref.get_weights() + g_ref.get_weights()):
            # Adam moves every weight by ~1e-3; 1e-5 allows float reordering (D sees real
            # and fake as one batch) on near-zero gradients, where Adam divides by ~eps.
            np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)

    def test_logged_losses_are_the_losses_before_the_update(self, batch):
        gan = FixedNoiseGAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile()
        z = batch[:, :LATENT] * 2.0 - 1.0
        want_d = float(gan.discriminator_loss(batch, z))
        logs = gan.train_step(tf.constant(batch))
        assert float(logs["d_loss"]) == pytest.approx(want_d, rel=1e-5)


class TestRecipeOptions:
    def test_d_steps_runs_that_many_discriminator_updates_per_generator_update(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile(loss="wasserstein", gradient_penalty=10.0, d_steps=3)
        gan.fit(np.tile(batch, (2, 1)), batch_size=BATCH, epochs=1, verbose=0)
        assert int(gan.d_optimizer.iterations) == 6 and int(gan.g_optimizer.iterations) == 2

    def test_any_keras_optimizer_by_name_trains(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        for d_opt, g_opt in (("sgd", "adagrad"), ("rmsprop", "adam")):
            before = weights(gan.generator)
            gan.compile(d_optimizer=d_opt, g_optimizer=g_opt)
            gan.fit(batch, batch_size=BATCH, epochs=1, verbose=0)
            assert int(gan.g_optimizer.iterations) == 1
            assert not np.allclose(before[0], gan.generator.get_weights()[0])

    def test_lazy_r1_is_computed_only_on_due_steps(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile(r1=1.0, r1_every=2)
        first = float(gan.train_step(tf.constant(batch))["r1"])  # d iteration 0: due
        gan.reset_metrics()
        second = float(gan.train_step(tf.constant(batch))["r1"])  # iteration 1: skipped
        assert first > 0.0 and second == 0.0

    def test_penalty_logs_appear_only_when_on(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile(r1=0.0)
        keys = set(gan.fit(batch, batch_size=BATCH, verbose=0).history)
        assert keys == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
        gan.compile()  # the default recipe has R1
        assert "r1" in set(gan.fit(batch, batch_size=BATCH, verbose=0).history)
        gan.compile(gradient_penalty=1.0, r1=1.0, instance_noise=0.1, label_smoothing=0.1)
        keys = set(gan.fit(batch, batch_size=BATCH, verbose=0).history)
        assert {"gp", "r1"} <= keys

    def test_validation_data_gives_val_keys_with_finite_values(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile(gradient_penalty=1.0)
        hist = gan.fit(batch, batch_size=4, validation_data=(batch,), verbose=0).history
        for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "gp"):
            assert np.isfinite(hist[f"val_{key}"][0]) and hist[f"val_{key}"][0] != 0.0

    def test_data_of_the_wrong_shape_raises_at_the_first_step(self, rng):
        gan = GAN(*tiny_nets(), latent_dim=LATENT)
        gan.compile()
        with pytest.raises(ValueError, match="sample shape \\(10,\\).*expects \\(12,\\)"):
            gan.fit(rng.random((8, 10)), batch_size=4, verbose=0)

    def test_fits_a_tf_data_dataset(self, batch):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        gan.compile()
        gan.fit(tg.data.as_dataset(np.tile(batch, (3, 1)), batch_size=8), shuffle=False, verbose=0)
        assert int(gan.g_optimizer.iterations) == 3


class TestEMA:
    @pytest.fixture(scope="class")
    def one_step(self):
        """``(gan, w0, ema0)``: a GAN with ``ema=0.75`` after one training step, with its
        generator's and EMA generator's weights before that step. Read only.

        After one step the EMA ramp ``min(ema, (1 + t) / (10 + t))`` is 2/11 for any ``ema``
        above it, so one run serves the update check and the ``generate`` check.
        """
        keras.utils.set_random_seed(0)
        gan = GAN(*tiny_nets(), latent_dim=LATENT, ema=0.75, seed=0)
        gan.compile()
        w0, ema0 = weights(gan.generator), weights(gan.ema_generator)
        gan.fit(np.random.default_rng(0).random((BATCH, DIM)).astype("float32"),
                batch_size=BATCH, verbose=0)  # the `batch` fixture's values
        return gan, w0, ema0

    def test_ema_generator_moves_by_one_minus_decay_towards_the_generator(self, one_step):
        gan, w0, ema0 = one_step
        np.testing.assert_array_equal(ema0[0], w0[0])
        assert int(gan.g_optimizer.iterations) == 1
        decay = 2.0 / 11.0  # the ramp min(0.75, (1 + t) / (10 + t)) after t = 1 step
        for e, a, b in zip(gan.ema_generator.get_weights(), w0, gan.generator.get_weights()):
            np.testing.assert_allclose(e, decay * a + (1 - decay) * b, atol=1e-7)

    def test_ema_decay_ramps_up_to_its_value(self):
        from tfgenopt.models.ema import ema_decay

        got = [float(ema_decay(0.999, t)) for t in (0, 1, 90, 10**5)]
        np.testing.assert_allclose(got, [0.1, 2 / 11, 0.91, 0.999], rtol=1e-6)

    def test_gan_has_an_ema_generator_by_default(self):
        gan = GAN(*tiny_nets(), latent_dim=LATENT)
        assert gan.ema == 0.999 and gan.ema_generator is not None

    def test_generate_uses_the_ema_generator_unless_told_not_to(self, one_step):
        gan, _, _ = one_step
        z = keras.ops.convert_to_numpy(gan.sample_noise(5, seed=7))
        np.testing.assert_allclose(gan.generate(5, seed=7), gan.ema_generator(z), atol=1e-6)
        np.testing.assert_allclose(gan.generate(5, seed=7, use_ema=False), gan.generator(z),
                                   atol=1e-6)
        assert not np.allclose(gan.generate(5, seed=7), gan.generate(5, seed=7, use_ema=False))


class TestGenerate:
    def test_same_seed_same_samples_and_batching_does_not_matter(self):
        gan = GAN(*tiny_nets(), latent_dim=LATENT, seed=0)
        a = gan.generate(10, seed=3)
        assert a.dtype == np.float32 and a.shape == (10, DIM)
        np.testing.assert_allclose(a, gan.generate(10, seed=3, batch_size=3), atol=1e-6)

    def test_conditional_gan_trains_on_labels_and_generates_per_class(self, rng):
        g, d = tiny_nets(num_classes=3)
        gan = GAN(g, d, latent_dim=LATENT, conditional=True, num_classes=3, seed=0)
        gan.compile()
        x, y = rng.random((16, DIM)).astype("float32"), rng.integers(0, 3, 16)
        gan.fit(x, y, batch_size=8, verbose=0)
        assert int(gan.g_optimizer.iterations) == 2
        out = gan.generate(4, labels=[0, 1, 2, 0], seed=1)
        assert out.shape == (4, DIM)
        np.testing.assert_allclose(out[0], gan.generate(1, labels=[0], seed=1)[0], atol=1e-6)
        with pytest.raises(ValueError, match="labels"):
            gan.generate(2, labels=[0, 3])
        with pytest.raises(ValueError, match="no labels"):
            gan.fit(x, batch_size=8, verbose=0)


class TestTrainsOnDigits:
    @pytest.mark.slow  # 60 epochs on the digits (~12 s); every recipe test below trains too
    def test_dense_gan_moves_discriminator_accuracy_off_the_extremes(self, digits28):
        x_train, _ = digits28
        g = tg.builders.dense_generator(latent_dim=100, seed=0)
        d = tg.builders.dense_discriminator(seed=1)
        gan = GAN(g, d, latent_dim=100, seed=0)
        gan.compile()  # the default recipe
        hist = gan.fit(x_train, batch_size=64, epochs=60, verbose=0).history
        fake = gan.generate(256, seed=0, use_ema=False)
        real_acc = float(np.mean(keras.ops.convert_to_numpy(d(x_train[:256])) > 0))
        fake_acc = float(np.mean(keras.ops.convert_to_numpy(d(fake)) < 0))
        acc = (real_acc + fake_acc) / 2
        assert 0.1 < acc < 0.9, (real_acc, fake_acc)  # D alone reaches ~1.0
        gaps = np.subtract(hist["d_real"], hist["d_fake"])
        assert gaps[-1] < 0.5 * gaps.max()
        assert 0.0 <= fake.min() and fake.max() <= 1.0

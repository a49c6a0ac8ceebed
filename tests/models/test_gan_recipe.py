"""tfgenopt/models/recipe.py and the GAN's recipe options: defaults, augmentation, LeCam, RaGAN."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tests.helpers import check_keras_roundtrip
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.models import GAN, recipe

LATENT, SIDE = 4, 8
DIM = SIDE * SIDE


def tiny_gan():
    return _tiny_gan(latent_dim=LATENT, dim=DIM, compile=False)


@pytest.fixture
def batch(rng):
    return rng.random((8, DIM)).astype("float32")


@pytest.fixture(scope="module")
def fitted():
    """``fitted(**compile_kwargs)`` -> ``(gan, generator weights before, history)``: ``tiny_gan()``
    compiled with those arguments and fit for 2 epochs of the one 8-sample ``batch``, made once
    per module for each recipe. Read only (the tests compare, save and reload it)."""
    runs = {}

    def fit(**compile_kwargs):
        key = repr(sorted(compile_kwargs.items()))
        if key not in runs:
            keras.utils.set_random_seed(0)
            gan = tiny_gan()
            gan.compile(**compile_kwargs)
            before = [w.copy() for w in gan.generator.get_weights()]
            batch = np.random.default_rng(0).random((8, DIM)).astype("float32")  # `batch`
            hist = gan.fit(batch, batch_size=8, epochs=2, verbose=0).history
            runs[key] = gan, before, hist
        return runs[key]

    return fit


class TestDefaultRecipe:
    def test_optimizer_names_resolve_with_gan_learning_rates_and_beta_1(self):
        gan = tiny_gan()
        gan.compile()
        assert float(gan.d_optimizer.learning_rate) == pytest.approx(recipe.D_LEARNING_RATE)
        assert float(gan.g_optimizer.learning_rate) == pytest.approx(recipe.G_LEARNING_RATE)
        assert gan.d_optimizer.beta_1 == gan.g_optimizer.beta_1 == 0.5
        gan.compile(d_optimizer="rmsprop", g_optimizer="sgd")  # no beta_1: only the rate
        assert isinstance(gan.g_optimizer, keras.optimizers.SGD)
        assert float(gan.g_optimizer.learning_rate) == pytest.approx(recipe.G_LEARNING_RATE)

    def test_optimizer_instances_are_used_as_given(self):
        gan = tiny_gan()
        d_opt, g_opt = keras.optimizers.Adam(3e-3), keras.optimizers.Adam(7e-3, beta_1=0.9)
        gan.compile(d_optimizer=d_opt, g_optimizer=g_opt)
        assert gan.d_optimizer is d_opt and float(g_opt.learning_rate) == pytest.approx(7e-3)
        assert g_opt.beta_1 == 0.9

    def test_r1_is_on_and_lazy_by_default_and_off_with_the_gradient_penalty(self):
        gan = tiny_gan()
        gan.compile()
        config = gan.get_compile_config()
        assert config["r1"] == recipe.R1_GAMMA and config["r1_every"] == recipe.R1_EVERY
        gan.compile(loss="wasserstein", gradient_penalty=10.0)
        assert gan.get_compile_config()["r1"] == gan.recipe.r1 == 0.0
        gan.compile(r1=0.5)
        assert gan.get_compile_config()["r1"] == 0.5

    def test_r1_rejects_other_strings(self):
        with pytest.raises(ValueError, match="`r1` must be a number >= 0 or 'auto'"):
            tiny_gan().compile(r1="on")


class TestBadRecipeArguments:
    @pytest.mark.parametrize("kwargs,match", [
        ({"augment": "colour"}, "`augment` has unknown augmentation.*'color', 'translation'"),
        ({"augment": ""}, "`augment` must name at least one augmentation"),
        ({"augment": 3}, "`augment` must be a comma-separated string"),
        ({"augment": "color", "augment_p": 1.5}, "`augment_p`"),
        ({"augment": "color", "augment_p": -0.1}, "`augment_p`"),
        ({"augment": "color", "ada_target": 1.0}, "`ada_target`"),
        ({"augment": "color", "ada_target": 0.0}, "`ada_target`"),
        ({"ada_target": 0.6}, "`ada_target` needs `augment`"),
        ({"lecam": -1.0}, "`lecam`"),
    ])
    def test_bad_value_raises_naming_the_argument(self, kwargs, match):
        with pytest.raises((ValueError, TypeError), match=match):
            tiny_gan().compile(**kwargs)

    def test_a_failed_compile_keeps_the_previous_recipe(self):
        gan = tiny_gan()
        gan.compile(augment="translation", lecam=0.1)
        before = (gan.recipe, gan.d_optimizer, gan.augmenter, gan.lecam_ema)
        config = gan.get_compile_config()
        with pytest.raises(ValueError):
            gan.compile(augment="translation", ada_target=2.0)
        assert (gan.recipe, gan.d_optimizer, gan.augmenter, gan.lecam_ema) == before
        assert gan.get_compile_config() == config

    def test_the_recipe_is_the_only_owner_of_its_optimizers_loss_and_layers(self):
        gan = tiny_gan()
        assert (gan.d_optimizer, gan.g_optimizer, gan.augmenter, gan.lecam_ema) == (None,) * 4
        for kwargs in ({"augment": "translation", "lecam": 0.1, "loss": "hinge"}, {}):
            gan.compile(**kwargs)
            r = gan.recipe
            assert (gan.d_optimizer, gan.g_optimizer, gan.adversarial_loss, gan.augmenter,
                    gan.lecam_ema) == (r.d_optimizer, r.g_optimizer, r.loss, r.augmenter,
                                       r.lecam_ema)
            assert not {"d_optimizer", "g_optimizer", "augmenter", "lecam_ema",
                        "adversarial_loss"} & set(vars(gan))
        with pytest.raises(AttributeError):
            gan.d_optimizer = keras.optimizers.Adam()

    def test_the_model_tracks_only_the_current_recipes_layers(self):
        gan = tiny_gan()
        gan.compile(augment="translation", lecam=0.1)
        gan.compile(lecam=0.2)
        extra = [layer for layer in gan.layers if layer not in (gan.generator, gan.discriminator,
                                                                 gan.ema_generator)]
        assert extra == [gan.lecam_ema]
        assert all(any(w is v for v in gan.weights) for w in gan.lecam_ema.weights)

    def test_augment_needs_images_or_square_vectors(self):
        g = tg.builders.dense_generator(latent_dim=LATENT, hidden=(8,), output_dim=10)
        d = tg.builders.dense_discriminator(input_dim=10, hidden=(8,))
        with pytest.raises(ValueError, match="`augment` needs image-shaped data"):
            GAN(g, d, latent_dim=LATENT).compile(augment="cutout")


class TestAugmentation:
    def test_real_and_fake_go_through_one_augmenter_call_and_fakes_again_for_g(self, batch):
        gan = tiny_gan()
        gan.compile(augment="color,translation,cutout")
        sizes = []
        augment = gan.augmenter.augment
        gan.augmenter.augment = lambda x: sizes.append(int(x.shape[0])) or augment(x)
        gan.train_step(tf.constant(batch))
        assert sizes == [16, 8]  # D step: [real; fake] in one call; G step: the fakes

    def test_gradients_reach_the_generator_through_the_augmentation(self, batch):
        gan = tiny_gan()
        gan.compile(augment="color,translation,cutout")
        z = gan.sample_noise(8, seed=0)
        with tf.GradientTape() as tape:
            fake = gan.generator(z, training=True)
            loss = tf.reduce_mean(gan._discriminate(fake, None, training=True))
        grads = tape.gradient(loss, gan.generator.trainable_variables)
        assert all(g is not None for g in grads)
        assert sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0.0

    def test_augmentation_is_off_outside_training(self, batch):
        gan = tiny_gan()
        gan.compile(augment="color,translation,cutout")
        a = gan._discriminate(batch, None, training=False)
        np.testing.assert_array_equal(a, gan.discriminator(batch, training=False))

    def test_ada_p_rises_when_d_overfits_a_tiny_set(self, batch):
        gan = tiny_gan()
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.SGD(0.0),
                    r1=0.0, augment="translation,cutout", ada_target=0.6)
        gan.augmenter.speed_images = 200  # fast adaptation for a short test
        assert float(gan.augmenter.p.numpy()) == 0.0
        hist = gan.fit(np.tile(batch, (8, 1)), batch_size=8, epochs=6, verbose=0).history
        assert max(hist["ada_p"]) >= 0.1  # up from 0 while D overfits, then it adapts

    def test_ada_p_falls_when_d_cannot_tell_real_from_fake(self, batch):
        gan = tiny_gan()
        gan.compile(d_optimizer=keras.optimizers.SGD(0.0), r1=0.0, augment="cutout",
                    ada_target=0.6)
        gan.discriminator.set_weights([np.zeros_like(w) for w in gan.discriminator.get_weights()])
        gan.augmenter.p.assign(0.5)
        gan.augmenter.speed_images = 200
        gan.fit(np.tile(batch, (8, 1)), batch_size=8, epochs=1, verbose=0)
        assert float(gan.augmenter.p.numpy()) < 0.5  # logits all 0: r_t = 0 < 0.6


class TestLossesAndRegularizers:
    def test_lecam_is_logged_and_its_averages_move(self, fitted):
        gan, _, hist = fitted(lecam=0.1)
        assert "lecam" in hist and np.isfinite(hist["lecam"]).all()
        assert float(gan.lecam_ema.ema_real.numpy()) != 0.0

    def test_relativistic_loss_trains_and_needs_real_images_for_the_pure_g_loss(self, batch,
                                                                                 fitted):
        gan, before, hist = fitted(loss="relativistic_average")
        assert np.isfinite(hist["g_loss"]).all()
        assert not np.allclose(before[0], gan.generator.get_weights()[0])
        z = gan.sample_noise(8, seed=0)
        with pytest.raises(ValueError, match="pass `x_real`"):
            gan.generator_loss(z)
        fake = gan.discriminator(gan.generator(z))
        real = gan.discriminator(batch)
        want = tg.losses.ra_g_loss(fake, real)
        assert float(gan.generator_loss(z, x_real=batch)) == pytest.approx(float(want), rel=1e-6)



def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


class TestSaving:
    @pytest.mark.parametrize("kwargs", [
        {"augment": "color,translation,cutout", "augment_p": 0.5},
        slow({"augment": "translation", "ada_target": 0.6}),  # ~3 s; make bench
        slow({"lecam": 0.1}),
        {"loss": "relativistic_average"},
    ])
    def test_keras_round_trip_keeps_the_option_and_its_state(self, fitted, tmp_path, kwargs):
        gan, _, _ = fitted(**kwargs)  # 2 steps; the relativistic and LeCam runs are shared
        loaded = check_keras_roundtrip(gan, None, tmp_path,
                                       call=lambda m, _: m.generate(4, seed=3))
        assert loaded.get_compile_config() == gan.get_compile_config()
        for name in ("augmenter", "lecam_ema"):
            mine, theirs = getattr(gan, name), getattr(loaded, name)
            assert (mine is None) == (theirs is None)
            if mine is not None:
                for a, b in zip(mine.weights, theirs.weights):
                    np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert int(loaded.d_optimizer.iterations) == int(gan.d_optimizer.iterations) == 2

    def test_minibatch_std_discriminator_trains_in_a_gan_and_round_trips(self, batch, tmp_path):
        g = tg.builders.dense_generator(latent_dim=LATENT, hidden=(8,), output_dim=DIM, seed=0)
        d = tg.builders.dense_discriminator(input_dim=DIM, hidden=(8, 8), minibatch_std=True)
        gan = GAN(g, d, latent_dim=LATENT, seed=0)
        gan.compile()
        gan.fit(batch, batch_size=4, epochs=1, verbose=0)
        check_keras_roundtrip(gan, None, tmp_path, call=lambda m, _: m.discriminator(batch))


def test_gan_compile_spells_out_every_recipe_argument_with_its_default():
    import inspect

    from tfgenopt.models import GAN, GANRecipe

    params = dict(inspect.signature(GAN.compile).parameters)
    params.pop("self")
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params.values())
    assert {k: p.default for k, p in params.items()} == {
        k: p.default for k, p in inspect.signature(GANRecipe).parameters.items()}

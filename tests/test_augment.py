"""tfgenopt/augment.py: DiffAugment transforms and the adaptive (ADA) probability."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, check_keras_roundtrip
from tfgenopt.augment import POLICIES, AdaptiveAugment, diff_augment, parse_policy


def np_(x):
    return keras.ops.convert_to_numpy(x)


def dot_images(n, size=16):
    """``n`` black images with one white pixel in the centre."""
    x = np.zeros((n, size, size, 1), "float32")
    x[:, size // 2, size // 2, 0] = 1.0
    return x


def dot_shifts(images, size=16):
    """(dy, dx) of the white pixel of every image."""
    return np.array([np.argwhere(im[..., 0] > 0.5)[0] - size // 2 for im in images])


class TestPolicy:
    def test_names_parse_in_order_without_duplicates(self):
        assert parse_policy("translation, color,translation") == ("translation", "color")
        assert parse_policy(["cutout"]) == ("cutout",)
        assert parse_policy("") == () and parse_policy(None) == ()

    def test_unknown_name_lists_allowed_ones(self):
        with pytest.raises(ValueError, match="policy.*'flip'.*color.*translation.*cutout"):
            diff_augment(np.zeros((2, 8, 8, 1)), policy="color,flip")

    def test_non_string_policy_is_a_type_error(self):
        with pytest.raises(TypeError, match="policy"):
            parse_policy(3)

    def test_empty_policy_is_the_identity(self, rng):
        x = rng.random((3, 8, 8, 1)).astype("float32")
        np.testing.assert_array_equal(np_(diff_augment(x, policy="", seed=0)), x)


class TestBadInput:
    @pytest.mark.parametrize("p", [-0.1, 1.5])
    def test_p_outside_zero_one_raises_naming_p(self, p):
        with pytest.raises(ValueError, match=r"`p` must be"):
            diff_augment(np.zeros((2, 8, 8, 1)), p=p)

    def test_flat_input_without_image_shape_raises(self):
        with pytest.raises(ValueError, match="image_shape"):
            diff_augment(np.zeros((2, 64)))

    def test_image_shape_that_does_not_match_raises(self):
        with pytest.raises(ValueError, match="image_shape"):
            diff_augment(np.zeros((2, 64)), image_shape=(7, 7, 1))

    def test_bad_value_range_raises(self):
        with pytest.raises(ValueError, match="value_range"):
            diff_augment(np.zeros((2, 8, 8, 1)), value_range=(1, 0))

    @pytest.mark.parametrize("target", [0.0, 1.0, -0.2, 1.3])
    def test_ada_target_outside_open_interval_raises(self, target):
        with pytest.raises(ValueError, match="target"):
            AdaptiveAugment(target=target)

    def test_ada_bad_policy_and_speed_raise(self):
        with pytest.raises(ValueError, match="allowed names"):
            AdaptiveAugment(policy="blur")
        with pytest.raises(ValueError, match="speed_images"):
            AdaptiveAugment(speed_images=0)


class TestTransforms:
    @pytest.mark.parametrize("value_range, half_width", [((0, 1), 0.25), ((-1, 1), 0.5)])
    def test_brightness_shift_is_uniform_over_a_quarter_of_the_range(self, value_range,
                                                                     half_width):
        x = np.full((4000, 4, 4, 1), 0.2, "float32")  # constant: contrast and saturation no-ops
        shift = np_(diff_augment(x, "color", value_range=value_range, seed=1))[:, 0, 0, 0] - 0.2
        assert shift.min() >= -half_width - 1e-6 and shift.max() <= half_width + 1e-6
        assert shift.min() < -0.95 * half_width and shift.max() > 0.95 * half_width
        assert abs(shift.mean()) < 0.02 * half_width * 2
        np.testing.assert_allclose(shift.std(), 2 * half_width / np.sqrt(12), rtol=0.05)

    def test_contrast_scales_deviations_from_the_mean_by_half_to_three_halves(self, rng):
        x = np.tile(np.array([0.4, 0.6], "float32").reshape(1, 1, 2, 1), (2000, 1, 1, 1))
        y = np_(diff_augment(x, "color", seed=2))
        factor = (y[:, 0, 1, 0] - y[:, 0, 0, 0]) / 0.2
        assert factor.min() >= 0.5 - 1e-4 and factor.max() <= 1.5 + 1e-4
        assert abs(factor.mean() - 1.0) < 0.03

    def test_saturation_times_contrast_scales_colour_deviations_by_zero_to_three(self):
        x = np.tile(np.array([0.3, 0.5, 0.7], "float32").reshape(1, 1, 1, 3), (4000, 1, 1, 1))
        y = np_(diff_augment(x, "color", seed=3))
        # brightness cancels; saturation U(0, 2) times contrast U(0.5, 1.5), independent
        factor = (y[:, 0, 0, 2] - y[:, 0, 0, 0]) / 0.4
        assert factor.min() >= -1e-4 and factor.max() <= 3 + 1e-4
        assert abs(factor.mean() - 1.0) < 0.05
        np.testing.assert_allclose(factor.var(), (4 / 3) * (13 / 12) - 1, rtol=0.1)

    def test_translation_shifts_by_at_most_an_eighth_uniformly(self):
        shifts = dot_shifts(np_(diff_augment(dot_images(3000), "translation", seed=4)))
        assert set(np.unique(shifts)) == {-2, -1, 0, 1, 2}  # round(16 / 8) = 2
        for axis in (0, 1):
            freq = np.bincount(shifts[:, axis] + 2) / len(shifts)
            np.testing.assert_allclose(freq, 0.2, atol=0.03)

    def test_translation_pads_with_zeros(self):
        y = np_(diff_augment(np.ones((500, 16, 16, 1), "float32"), "translation", seed=5))
        assert y.min() == 0.0 and set(np.unique(y)) == {0.0, 1.0}
        assert np.all(y[:, 2:-2, 2:-2] == 1.0)  # shifts of at most 2 never reach the centre

    def test_cutout_zeroes_one_rectangle_of_at_most_half_the_side(self):
        y = np_(diff_augment(np.ones((500, 16, 16, 1), "float32"), "cutout", seed=6))[..., 0]
        for im in y:
            rows, cols = np.nonzero(im == 0)
            assert 0 < len(rows) == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # a full rectangle
            assert np.ptp(rows) < 8 and np.ptp(cols) < 8
        assert (y == 0).sum(axis=(1, 2)).max() == 64  # an interior hole is 8x8

    def test_flat_inputs_are_reshaped_and_flattened_back(self, rng):
        x = rng.random((4, 64)).astype("float32")
        y = diff_augment(x, image_shape=(8, 8, 1), seed=0)
        assert y.shape == (4, 64)
        img = np_(diff_augment(x.reshape(4, 8, 8, 1), seed=0))
        np.testing.assert_allclose(np_(y), img.reshape(4, 64), atol=1e-6)

    def test_p_zero_is_identity_and_p_half_augments_about_half(self):
        x = np.ones((2000, 8, 8, 1), "float32")
        np.testing.assert_array_equal(np_(diff_augment(x, "cutout", p=0.0, seed=0)), x)
        holed = (np_(diff_augment(x, "cutout", p=0.5, seed=0)) == 0).any(axis=(1, 2, 3))
        assert abs(holed.mean() - 0.5) < 0.04

    def test_p_may_be_a_variable(self):
        p = keras.Variable(0.0, trainable=False)
        x = np.ones((50, 8, 8, 1), "float32")
        np.testing.assert_array_equal(np_(diff_augment(x, "cutout", p=p, seed=0)), x)
        p.assign(1.0)
        assert (np_(diff_augment(x, "cutout", p=p, seed=0)) == 0).any(axis=(1, 2, 3)).all()


class TestSameForRealAndFake:
    def test_a_fixed_int_seed_is_deterministic(self, rng):
        x = rng.random((8, 16, 16, 1)).astype("float32")
        np.testing.assert_array_equal(np_(diff_augment(x, seed=11)), np_(diff_augment(x, seed=11)))
        assert not np.allclose(np_(diff_augment(x, seed=11)), np_(diff_augment(x, seed=12)))

    def test_a_seed_generator_draws_anew_each_call(self, rng):
        gen = keras.random.SeedGenerator(0)
        x = rng.random((8, 16, 16, 1)).astype("float32")
        assert not np.allclose(np_(diff_augment(x, seed=gen)), np_(diff_augment(x, seed=gen)))

    def test_joined_real_fake_batch_gets_the_same_transform_distribution(self):
        """[x; x]: both halves get independent draws from one distribution (ADA / DiffAugment)."""
        n = 3000
        y = np_(diff_augment(np.concatenate([dot_images(n), dot_images(n)]), seed=7,
                             policy="translation"))
        real, fake = dot_shifts(y[:n]), dot_shifts(y[n:])
        for axis in (0, 1):
            f_real = np.bincount(real[:, axis] + 2, minlength=5) / n
            f_fake = np.bincount(fake[:, axis] + 2, minlength=5) / n
            np.testing.assert_allclose(f_real, f_fake, atol=0.04)
        assert not np.array_equal(real, fake)  # independent per-sample draws

    def test_colour_statistics_match_between_halves(self):
        x = np.full((6000, 4, 4, 1), 0.5, "float32")
        shift = np_(diff_augment(x, "color", seed=8))[:, 0, 0, 0] - 0.5
        a, b = np.sort(shift[:3000]), np.sort(shift[3000:])
        assert np.abs(a - b).max() < 0.03  # quantile-quantile: same distribution


class TestGradients:
    def test_gradients_reach_the_generator_weights(self):
        g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=64, seed=0)
        d = tg.builders.dense_discriminator(input_dim=64, hidden=(8,), seed=0)
        gen = keras.random.SeedGenerator(1)

        @tf.function
        def grads(z):
            with tf.GradientTape() as tape:
                fake = diff_augment(g(z), image_shape=(8, 8, 1), seed=gen)
                loss = tf.reduce_mean(tf.nn.softplus(-d(fake)))
            return tape.gradient(loss, g.trainable_variables)

        for grad in grads(tf.random.normal((16, 4), seed=0)):
            grad = np_(grad)
            assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


class TestAdaptiveAugment:
    def test_p_rises_when_real_logits_are_all_positive(self):
        ada = AdaptiveAugment(interval=2, speed_images=1000)
        step = tf.function(ada.update)
        for _ in range(10):
            step(tf.fill((50, 1), 4.0))
        # 5 adjustments of 2 * 50 / 1000
        np.testing.assert_allclose(float(ada.p.numpy()), 0.5, atol=1e-6)
        assert float(ada.rt.numpy()) == 1.0

    def test_update_returns_a_tensor_that_stacks_in_a_tf_function(self):
        ada = AdaptiveAugment(interval=1, speed_images=10)

        @tf.function
        def step(logits):
            return keras.ops.mean(keras.ops.stack([ada.update(logits)]))

        assert float(step(tf.ones((2, 1)))) == pytest.approx(0.2)

    def test_p_moves_only_every_interval_calls(self):
        ada = AdaptiveAugment(interval=3, speed_images=300)
        values = [float(ada.update(np.ones((10, 1)))) for _ in range(6)]
        np.testing.assert_allclose(values, [0, 0, 0.1, 0.1, 0.1, 0.2], atol=1e-6)

    def test_p_falls_when_real_logits_are_mixed_and_stays_in_zero_one(self):
        ada = AdaptiveAugment(interval=1, speed_images=100, initial_p=0.5)
        mixed = np.array([[1.0], [-1.0]] * 10)  # r_t = 0 < 0.6
        values = [float(ada.update(mixed)) for _ in range(4)]
        np.testing.assert_allclose(values, [0.3, 0.1, 0.0, 0.0], atol=1e-6)
        for _ in range(20):
            ada.update(np.ones((20, 1)))
        assert float(ada.p.numpy()) == 1.0

    def test_p_rises_when_a_discriminator_overfits_a_tiny_set(self, rng):
        """A discriminator trained to tell 8 digits from noise ends with all real logits > 0."""
        real = tg.data.load_digits(image_size=8, flatten=True)[0][:8]
        d = tg.builders.dense_discriminator(input_dim=64, hidden=(32,), seed=0)
        opt = keras.optimizers.Adam(1e-2)
        ada = AdaptiveAugment(image_shape=(8, 8, 1), interval=1, speed_images=800)
        for _ in range(40):
            fake = rng.random((8, 64)).astype("float32")
            with tf.GradientTape() as tape:
                r, f = d(real), d(fake)
                loss = tf.reduce_mean(tf.nn.softplus(-r)) + tf.reduce_mean(tf.nn.softplus(f))
            opt.apply_gradients(zip(tape.gradient(loss, d.trainable_variables),
                                    d.trainable_variables))
            p_before = float(ada.p.numpy())
            ada.update(d(real))
        assert float(ada.rt.numpy()) == 1.0 and float(ada.p.numpy()) > p_before
        assert float(ada.p.numpy()) > 0.2

    def test_call_augments_only_in_training(self, rng):
        ada = AdaptiveAugment(image_shape=(8, 8, 1), initial_p=1.0, seed=0)
        x = rng.random((4, 64)).astype("float32")
        np.testing.assert_array_equal(np_(ada(x, training=False)), x)
        assert not np.allclose(np_(ada(x, training=True)), x)

    def test_config_roundtrip(self):
        clone = check_config_roundtrip(AdaptiveAugment(policy="color", image_shape=(8, 8, 1),
                                                       target=0.7, seed=3))
        assert clone.policy == "color" and clone.target == 0.7 and clone.image_shape == (8, 8, 1)

    def test_keras_roundtrip_keeps_p(self, tmp_path, rng):
        ada = AdaptiveAugment(image_shape=(8, 8, 1), seed=0)
        model = keras.Sequential([keras.Input((64,)), ada, keras.layers.Dense(1)])
        ada.p.assign(0.37)
        loaded = check_keras_roundtrip(model, rng.random((3, 64)).astype("float32"), tmp_path)
        np.testing.assert_allclose(float(loaded.layers[0].p.numpy()), 0.37, rtol=1e-6)

    def test_policies_constant(self):
        assert POLICIES == ("color", "translation", "cutout")

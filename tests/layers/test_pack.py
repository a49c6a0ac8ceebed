"""tfgenopt/layers/pack.py: Pack (PacGAN) against a NumPy computation; the builders' ``pack``."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, check_keras_roundtrip
from tfgenopt.layers import Pack


def reference(x, size):
    """NumPy: row i = sample i, then the next size-1 samples of its group, cyclically."""
    n = len(x)
    g = size if n % size == 0 else n
    rows = []
    for i in range(n):
        start = i - i % g
        rows.append(np.concatenate([x[start + (i - start + k) % g] for k in range(size)], -1))
    return np.stack(rows)


def run(layer, x):
    return keras.ops.convert_to_numpy(layer(x.astype("float32")))


class TestAgainstNumPy:
    @pytest.mark.parametrize("size", [2, 3, 4])
    def test_images_match_numpy(self, rng, size):
        x = rng.normal(size=(12, 4, 4, 3))
        np.testing.assert_array_equal(run(Pack(size), x), reference(x.astype("float32"), size))

    def test_a_batch_the_size_does_not_divide_is_one_group(self, rng):
        x = rng.normal(size=(5, 2)).astype("float32")
        got = run(Pack(2), x)
        np.testing.assert_array_equal(got, reference(x, 2))
        np.testing.assert_array_equal(got[4], np.concatenate([x[4], x[0]]))

    def test_packs_of_a_joined_real_fake_batch_stay_pure(self):
        real, fake = np.zeros((4, 3), "float32"), np.ones((4, 3), "float32")
        got = run(Pack(2), np.concatenate([real, fake]))
        assert (got[:4] == 0).all() and (got[4:] == 1).all()

    def test_runs_inside_tf_function_with_an_unknown_batch(self, rng):
        layer = Pack(2)
        fn = tf.function(layer, input_signature=[tf.TensorSpec((None, 3), tf.float32)])
        x = rng.normal(size=(6, 3)).astype("float32")
        np.testing.assert_array_equal(fn(x).numpy(), reference(x, 2))

    def test_gradient_reaches_every_sample_of_the_pack(self):
        x = tf.constant(np.arange(4, dtype="float32")[:, None])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(Pack(2)(x)[0])  # row 0 = samples 0 and 1
        np.testing.assert_array_equal(tape.gradient(y, x).numpy()[:, 0], [1, 1, 0, 0])


class TestLayer:
    def test_output_shape_multiplies_the_channels(self):
        assert Pack(3)(keras.Input((7, 7, 2))).shape == (None, 7, 7, 6)

    def test_size_below_two_raises_naming_it(self):
        with pytest.raises(ValueError, match="size"):
            Pack(1)

    def test_config_roundtrip(self):
        check_config_roundtrip(Pack(4))


class TestBuilderOption:
    def test_default_is_off(self):
        d = tg.builders.dcgan_discriminator(image_shape=(16, 16, 3), base_filters=8)
        assert not [layer for layer in d.layers if isinstance(layer, Pack)]

    def test_pack_2_doubles_the_first_kernel_input_and_keeps_one_logit_per_sample(self, rng):
        base = tg.builders.dcgan_discriminator(image_shape=(16, 16, 3), base_filters=8)
        d = tg.builders.dcgan_discriminator(image_shape=(16, 16, 3), base_filters=8, pack=2)
        assert d.get_layer("down_0").kernel.shape == (4, 4, 6, 8)
        assert d.count_params() - base.count_params() == 4 * 4 * 3 * 8
        assert d(rng.normal(size=(6, 16, 16, 3)).astype("float32")).shape == (6, 1)

    def test_a_packed_discriminator_sees_a_collapsed_batch(self, rng):
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 1), base_filters=4, pack=2,
                                            seed=0)
        x = rng.normal(size=(4, 8, 8, 1)).astype("float32")
        same = np.repeat(x[:1], 4, axis=0)
        mixed_logit = keras.ops.convert_to_numpy(d(x))[0, 0]
        same_logit = keras.ops.convert_to_numpy(d(same))[0, 0]
        assert abs(mixed_logit - same_logit) > 1e-6

    def test_conditional_packs_the_label_channel_too(self, rng):
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 1), base_filters=4, pack=2,
                                            num_classes=3)
        assert d.get_layer("down_0").kernel.shape == (4, 4, 4, 4)  # (1 image + 1 label) x 2
        x = rng.normal(size=(4, 8, 8, 1)).astype("float32")
        assert d([x, np.array([0, 1, 2, 0])]).shape == (4, 1)

    @pytest.mark.parametrize("bad", [0, -2])
    def test_bad_pack_raises_naming_it(self, bad):
        with pytest.raises(ValueError, match="pack"):
            tg.builders.dcgan_discriminator(pack=bad)

    def test_keras_roundtrip(self, tmp_path, rng):
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 3), base_filters=4, pack=2)
        check_keras_roundtrip(d, rng.normal(size=(4, 8, 8, 3)).astype("float32"), tmp_path)


class TestInAGAN:
    def test_a_packed_discriminator_trains_with_r1_and_round_trips(self, rng, tmp_path):
        """R1 differentiates through the packing; the whole GAN reloads with its D."""
        g = tg.builders.dcgan_generator(latent_dim=4, image_shape=(8, 8, 3), base_filters=4,
                                        seed=0)
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 3), base_filters=4, pack=2,
                                            seed=1)
        gan = tg.models.GAN(g, d, latent_dim=4, seed=0)
        gan.compile(r1=1.0, r1_every=1)
        x = rng.uniform(-1, 1, size=(16, 8, 8, 3)).astype("float32")
        before = [w.copy() for w in d.get_weights()]
        logs = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
        assert np.isfinite(logs["r1"][0]) and logs["r1"][0] > 0
        assert any(not np.allclose(a, b) for a, b in zip(before, d.get_weights()))
        loaded = check_keras_roundtrip(gan, x[:4], tmp_path,
                                       call=lambda m, v: m.discriminator(v, training=False))
        assert isinstance(loaded.discriminator.get_layer("pack"), Pack)

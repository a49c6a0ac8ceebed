"""tfgenopt/layers/minibatch_stddev.py: MinibatchStdDev against a NumPy computation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, check_keras_roundtrip
from tfgenopt.layers import MinibatchStdDev


def reference(x, group_size=4, num_features=1):
    """NumPy: consecutive groups (whole batch when G does not divide N), biased std + 1e-8."""
    x = np.asarray(x, np.float64)
    n, c = x.shape[0], x.shape[-1]
    g = min(group_size, n)
    if n % g:
        g = n
    chunk = c // num_features
    out = np.zeros(x.shape[:-1] + (num_features,))
    for start in range(0, n, g):
        group = x[start:start + g]
        std = np.sqrt(group.var(axis=0) + 1e-8)  # biased variance over the group
        for f in range(num_features):
            out[start:start + g, ..., f] = std[..., f * chunk:(f + 1) * chunk].mean()
    return np.concatenate([x, out], axis=-1)


def run(layer, x):
    return keras.ops.convert_to_numpy(layer(x.astype("float32")))


class TestAgainstNumPy:
    def test_flat_inputs_match_numpy(self, rng):
        x = rng.normal(size=(8, 6))
        np.testing.assert_allclose(run(MinibatchStdDev(), x), reference(x), rtol=1e-5, atol=1e-6)

    def test_image_inputs_match_numpy(self, rng):
        x = rng.normal(size=(8, 5, 5, 3)) * rng.uniform(0.5, 2.0, size=(8, 1, 1, 1))
        got = run(MinibatchStdDev(group_size=4), x)
        assert got.shape == (8, 5, 5, 4)
        np.testing.assert_allclose(got, reference(x, 4), rtol=1e-5, atol=1e-6)
        # the appended channel is constant over space and within each group of 4
        assert np.ptp(got[:4, ..., -1]) < 1e-6 and abs(got[0, 0, 0, -1] - got[4, 0, 0, -1]) > 1e-3

    def test_several_features_average_contiguous_channel_chunks(self, rng):
        x = rng.normal(size=(6, 4, 4, 6)) * np.array([1, 1, 1, 5, 5, 5])
        got = run(MinibatchStdDev(group_size=2, num_features=2), x)
        np.testing.assert_allclose(got, reference(x, 2, 2), rtol=1e-5, atol=1e-6)
        assert got[0, 0, 0, -1] > 2 * got[0, 0, 0, -2]  # the scaled chunk has a larger std

    def test_batch_not_a_multiple_of_group_size_uses_the_whole_batch(self, rng):
        x = rng.normal(size=(6, 3))  # 4 does not divide 6: one group of 6
        got = run(MinibatchStdDev(group_size=4), x)
        np.testing.assert_allclose(got, reference(x, 4), rtol=1e-5, atol=1e-6)
        expected = np.sqrt(x.var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(got[:, -1], np.full(6, expected), rtol=1e-5)

    def test_batch_smaller_than_group_is_one_group(self, rng):
        x = rng.normal(size=(3, 2, 2, 1))
        np.testing.assert_allclose(run(MinibatchStdDev(8), x), reference(x, 8), rtol=1e-5,
                                   atol=1e-6)

    def test_identical_samples_give_the_epsilon_floor(self):
        x = np.tile(np.arange(5.0), (4, 1))
        np.testing.assert_allclose(run(MinibatchStdDev(), x)[:, -1], 1e-4, rtol=1e-3)

    def test_unknown_batch_size_in_a_tf_function(self, rng):
        layer = MinibatchStdDev(4)
        fn = tf.function(layer, input_signature=[tf.TensorSpec((None, 4, 4, 2))])
        for n in (8, 6, 1):
            x = rng.normal(size=(n, 4, 4, 2)).astype("float32")
            np.testing.assert_allclose(fn(x).numpy(), reference(x, 4), rtol=1e-5, atol=1e-6)

    def test_gradients_flow_to_the_input(self, rng):
        x = tf.constant(rng.normal(size=(4, 3)).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(MinibatchStdDev()(x)[:, -1])
        grad = tape.gradient(y, x).numpy()
        assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


class TestShapesConfigAndSaving:
    def test_symbolic_output_shape(self):
        assert MinibatchStdDev(num_features=2)(keras.Input((7, 7, 4))).shape == (None, 7, 7, 6)
        assert MinibatchStdDev()(keras.Input((10,))).shape == (None, 11)

    def test_config_roundtrip(self):
        clone = check_config_roundtrip(MinibatchStdDev(group_size=8, num_features=2))
        assert (clone.group_size, clone.num_features) == (8, 2)

    def test_keras_roundtrip_of_a_discriminator_using_it(self, tmp_path, rng):
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 1), base_filters=4,
                                            minibatch_std=True)
        loaded = check_keras_roundtrip(d, rng.random((8, 8, 8, 1)).astype("float32"), tmp_path)
        assert isinstance(loaded.get_layer("minibatch_std"), MinibatchStdDev)


class TestValidation:
    @pytest.mark.parametrize("kwargs, error", [({"group_size": 0}, ValueError),
                                               ({"group_size": 2.5}, TypeError),
                                               ({"num_features": 0}, ValueError)])
    def test_bad_arguments_name_themselves(self, kwargs, error):
        with pytest.raises(error, match=next(iter(kwargs))):
            MinibatchStdDev(**kwargs)

    def test_channels_not_divisible_by_num_features_raise(self):
        with pytest.raises(ValueError, match="num_features"):
            MinibatchStdDev(num_features=2)(keras.Input((5, 5, 3)))

    def test_rank_one_input_raises(self):
        with pytest.raises(ValueError, match="batch"):
            MinibatchStdDev().build((5,))

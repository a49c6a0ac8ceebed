"""The ``minibatch_std`` option of dense_discriminator and dcgan_discriminator."""

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_keras_roundtrip
from tfgenopt.layers import MinibatchStdDev


def mbstd_layers(model):
    return [layer for layer in model.layers if isinstance(layer, MinibatchStdDev)]


class TestDenseDiscriminator:
    def test_default_is_off_and_keeps_784_32_64_1(self):
        d = tg.builders.dense_discriminator()
        assert not mbstd_layers(d)
        assert d.count_params() == 784 * 32 + 32 + 32 * 64 + 64 + 64 + 1

    def test_true_inserts_group_4_before_the_last_hidden_dense(self):
        d = tg.builders.dense_discriminator(minibatch_std=True)
        (layer,) = mbstd_layers(d)
        assert layer.group_size == 4
        assert d.get_layer("dense_1").kernel.shape == (33, 64)  # 32 features + the statistic
        assert d.count_params() == 784 * 32 + 32 + 33 * 64 + 64 + 64 + 1

    def test_int_sets_the_group_size(self):
        d = tg.builders.dense_discriminator(input_dim=64, hidden=(16,), minibatch_std=2)
        assert mbstd_layers(d)[0].group_size == 2
        assert d.get_layer("dense_0").kernel.shape == (65, 16)  # one hidden layer: on the input

    def test_discriminator_sees_a_collapsed_batch(self):
        """Identical samples change the statistic, hence the logits, of every sample."""
        d = tg.builders.dense_discriminator(input_dim=16, hidden=(8, 8), minibatch_std=True,
                                            seed=0)
        x = np.random.default_rng(0).random((4, 16)).astype("float32")
        same = np.repeat(x[:1], 4, axis=0)
        logits_mixed = keras.ops.convert_to_numpy(d(x))[0]
        logits_same = keras.ops.convert_to_numpy(d(same))[0]
        assert abs(logits_mixed - logits_same) > 1e-6

    def test_keras_roundtrip(self, tmp_path):
        d = tg.builders.dense_discriminator(input_dim=64, hidden=(16, 8), minibatch_std=4)
        check_keras_roundtrip(d, np.random.default_rng(0).random((8, 64)).astype("float32"),
                              tmp_path)


class TestDcganDiscriminator:
    def test_default_is_off_and_count_unchanged(self):
        d = tg.builders.dcgan_discriminator(image_shape=(28, 28, 1))
        assert not mbstd_layers(d)

    def test_inserted_before_the_dense_head_as_one_channel(self):
        base = tg.builders.dcgan_discriminator(image_shape=(28, 28, 1))
        d = tg.builders.dcgan_discriminator(image_shape=(28, 28, 1), minibatch_std=8)
        (layer,) = mbstd_layers(d)
        assert layer.group_size == 8
        assert layer.output.shape == (None, 7, 7, 129)
        assert d.count_params() - base.count_params() == 7 * 7

    def test_conditional_discriminator_accepts_it(self):
        d = tg.builders.dcgan_discriminator(image_shape=(8, 8, 1), base_filters=4,
                                            num_classes=3, minibatch_std=True)
        out = d([np.zeros((4, 8, 8, 1), "float32"), np.arange(4) % 3])
        assert out.shape == (4, 1)


class TestValidation:
    @pytest.mark.parametrize("builder", [tg.builders.dense_discriminator,
                                         tg.builders.dcgan_discriminator])
    @pytest.mark.parametrize("value, error", [("yes", TypeError), (2.0, TypeError),
                                              (1, ValueError), (-4, ValueError)])
    def test_bad_minibatch_std_raises_naming_it(self, builder, value, error):
        with pytest.raises(error, match="minibatch_std"):
            builder(minibatch_std=value)

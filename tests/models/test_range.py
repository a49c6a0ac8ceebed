"""Data range checks (tfgenopt/models/_range.py) at GAN.fit, VAE.fit and QualityMonitor."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgenopt as tg
from tfgenopt.models import GAN, VAE
from tfgenopt.models._range import check_data_range, output_activation, output_range


@pytest.fixture(scope="module")
def digits():
    return tg.data.load_digits(image_size=8, flatten=True)[0][:32]  # [0, 1]


def gan(activation="sigmoid"):
    g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=64,
                                    output_activation=activation)
    d = tg.builders.dense_discriminator(input_dim=64, hidden=(8,))
    model = GAN(g, d, latent_dim=4, ema=None, seed=0)
    model.compile()
    return model


def steps(model):
    return {k: int(o.iterations) for k, o in model.optimizers_by_name().items()}


class TestRangeCheckFires:
    def test_uint8_pixels_into_a_sigmoid_generator(self, digits):
        model = gan()
        with pytest.raises(ValueError, match=r"\[0, 255\].*sigmoid.*\[0, 1\].*tg\.data\.scale"):
            model.fit(np.round(digits * 255).astype("uint8"), epochs=1, verbose=0)
        assert steps(model) == {"d": 0, "g": 0}  # before the first step

    def test_minus_one_one_data_into_a_sigmoid_generator(self, digits):
        with pytest.raises(ValueError, match=r"\[-1, 1\].*sigmoid.*\[0, 1\].*tg\.data\.scale"):
            gan().fit(digits * 2 - 1, epochs=1, verbose=0)

    def test_float_pixel_counts_into_a_tanh_generator(self, digits):
        with pytest.raises(ValueError, match=r"\[0, 255\].*tanh.*\[-1, 1\].*tg\.data\.scale"):
            gan("tanh").fit(digits * 255.0, epochs=1, verbose=0)

    def test_a_dataset_is_checked_on_its_first_batch_and_stays_usable(self, digits):
        ds = tf.data.Dataset.from_tensor_slices(digits * 2 - 1).batch(8)
        with pytest.raises(ValueError, match=r"\(first batch\).*\[-1, 1\]"):
            gan().fit(ds, epochs=1, verbose=0)
        assert sum(int(b.shape[0]) for b in ds) == len(digits)

    def test_a_vae_decoder_is_checked(self, digits):
        enc = tg.builders.vae_encoder(input_shape=64, latent_dim=2, hidden=(8,))
        dec = tg.builders.vae_decoder(latent_dim=2, output_shape=64, hidden=(8,))
        vae = VAE(enc, dec)
        vae.compile("adam")
        with pytest.raises(ValueError, match=r"decoder ends in sigmoid"):
            vae.fit(np.round(digits * 255).astype("uint8"), epochs=1, verbose=0)

    def test_quality_monitor_checks_its_real_data(self, digits):
        qm = tg.callbacks.QualityMonitor(digits * 2 - 1, metrics=("kid",))
        with pytest.raises(ValueError, match=r"QualityMonitor: `real_data`.*\[-1, 1\]"):
            gan().fit(digits, epochs=1, verbose=0, callbacks=[qm])


class TestRangeCheckPasses:
    def test_correct_data_trains(self, digits):
        model = gan()
        model.fit(digits, batch_size=16, epochs=1, verbose=0)
        assert steps(model) == {"d": 2, "g": 2}

    def test_zero_one_data_fits_inside_tanh_and_linear_skips(self, digits):
        check_data_range(gan("tanh"), digits)
        check_data_range(gan(None), digits * 255.0)  # linear output: no range to check
        assert output_activation(gan(None).generator) == "linear"

    def test_a_one_shot_iterator_is_not_consumed(self, digits):
        it = iter([digits * 255.0])
        check_data_range(gan(), it)  # cannot look without consuming: skipped
        assert next(it).shape == digits.shape

    def test_keras_io_shapes_are_read_too(self):
        from tests import kerasio as K

        with pytest.raises(ValueError, match="generator ends in sigmoid"):
            check_data_range(K.dcgan(), np.full((2, 64), 255.0))
        with pytest.raises(ValueError, match="decoder ends in sigmoid"):
            check_data_range(K.vae(), np.full((2, 64), -1.0))
        check_data_range(K.dcgan(), keras.ops.convert_to_numpy(keras.ops.ones((2, 64))))


class TestOutputRange:
    def test_reads_the_activation_behind_weightless_layers(self):
        net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"),
                                keras.layers.Reshape((2, 2, 1))])
        assert output_range(net) == (-1.0, 1.0)

    def test_unbounded_output_returns_the_default(self):
        net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
        assert output_range(net) is None
        assert output_range(net, default=(0.0, 1.0)) == (0.0, 1.0)

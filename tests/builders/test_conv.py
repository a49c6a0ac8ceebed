"""tfgenopt.builders.conv: DCGAN networks, conv autoencoder, VAE encoder/decoder."""

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_keras_roundtrip

SIZES = [8, 16, 28, 32, 64]


class TestDCGAN:
    @pytest.mark.parametrize("size", SIZES)
    @pytest.mark.parametrize("channels", [1, 3])
    def test_generator_and_discriminator_fit_every_image_size(self, size, channels):
        g = tg.builders.dcgan_generator(16, (size, size, channels), base_filters=4)
        d = tg.builders.dcgan_discriminator((size, size, channels), base_filters=4)
        z = np.random.randn(2, 16).astype("float32")
        img = g(z)
        assert img.shape == (2, size, size, channels)
        assert d(img).shape == (2, 1)

    def test_generator_uses_batch_norm_and_tanh_by_default(self):
        g = tg.builders.dcgan_generator(16, (16, 16, 1), base_filters=4)
        assert any(isinstance(lyr, keras.layers.BatchNormalization) for lyr in g.layers)
        out = keras.ops.convert_to_numpy(g(np.random.randn(3, 16).astype("float32") * 5))
        assert out.min() >= -1 and out.max() <= 1

    @pytest.mark.parametrize("norm", ["none", "batch", "layer", "spectral"])
    def test_discriminator_normalizations(self, norm):
        d = tg.builders.dcgan_discriminator((16, 16, 1), base_filters=4, normalization=norm)
        assert d(np.zeros((2, 16, 16, 1), "float32")).shape == (2, 1)

    def test_unsupported_image_shape_lists_supported_sizes(self):
        with pytest.raises(ValueError, match="image_shape.*8, 16, 28, 32, 64"):
            tg.builders.dcgan_generator(16, (20, 20, 1))

    def test_conditional_dcgan_pair(self):
        g = tg.builders.dcgan_generator(8, (8, 8, 1), base_filters=4, num_classes=10)
        d = tg.builders.dcgan_discriminator((8, 8, 1), base_filters=4, num_classes=10)
        y = np.arange(3, dtype="int32")
        img = keras.ops.convert_to_numpy(g([np.random.randn(3, 8).astype("float32"), y]))
        assert d([img, y]).shape == (3, 1)


class TestAutoencoderAndVAE:
    @pytest.mark.parametrize("size", [8, 28, 32])
    def test_conv_autoencoder_reconstructs_input_shape(self, size):
        ae = tg.builders.conv_autoencoder((size, size, 1), filters=(4, 8))
        assert ae(np.zeros((2, size, size, 1), "float32")).shape == (2, size, size, 1)

    def test_conv_autoencoder_rejects_too_many_stages(self):
        with pytest.raises(ValueError, match="filters"):
            tg.builders.conv_autoencoder((28, 28, 1), filters=(4, 4, 4))

    def test_dense_vae_encoder_returns_mean_and_log_variance(self):
        enc = tg.builders.vae_encoder(784, latent_dim=3)
        mean, log_var = enc(np.zeros((2, 784), "float32"))
        assert mean.shape == (2, 3) and log_var.shape == (2, 3)

    def test_conv_vae_pair_round_trips_shapes(self):
        enc = tg.builders.vae_encoder((28, 28, 1), latent_dim=4, filters=(4, 8))
        dec = tg.builders.vae_decoder(4, (28, 28, 1), filters=(8, 4))
        mean, _ = enc(np.zeros((2, 28, 28, 1), "float32"))
        out = keras.ops.convert_to_numpy(dec(mean))
        assert out.shape == (2, 28, 28, 1) and out.min() >= 0 and out.max() <= 1

    def test_conditional_vae_pair(self):
        enc = tg.builders.vae_encoder(64, latent_dim=2, num_classes=10)
        dec = tg.builders.vae_decoder(2, 64, num_classes=10)
        y = np.array([1, 2], "int32")
        mean, _ = enc([np.zeros((2, 64), "float32"), y])
        assert dec([keras.ops.convert_to_numpy(mean), y]).shape == (2, 64)

    def test_vae_decoder_spectral_is_refused(self):
        with pytest.raises(ValueError, match="discriminators"):
            tg.builders.vae_decoder(2, 64, normalization="spectral")


class TestSerialization:
    def test_dcgan_generator_keras_round_trip(self, tmp_path):
        g = tg.builders.dcgan_generator(8, (8, 8, 1), base_filters=4)
        check_keras_roundtrip(g, np.random.randn(2, 8).astype("float32"), tmp_path)

    def test_vae_encoder_json_round_trip(self):
        enc = tg.builders.vae_encoder((8, 8, 1), latent_dim=2, filters=(4,))
        clone = keras.models.model_from_json(enc.to_json())
        assert clone.count_params() == enc.count_params()

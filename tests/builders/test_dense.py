"""tfgenopt.builders.dense: the classic dense networks."""

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_keras_roundtrip


class TestClassicNetworks:
    def test_dense_autoencoder_defaults_are_784_64_32_784_with_78192_params(self):
        ae = tg.builders.dense_autoencoder()
        dense = [layer for layer in ae.layers if isinstance(layer, keras.layers.Dense)]
        assert [d.units for d in dense] == [64, 32, 784]
        assert ae.count_params() == 78192
        assert dense[-1].activation.__name__ == "sigmoid"

    def test_dense_generator_defaults_are_100_64_32_784(self):
        g = tg.builders.dense_generator()
        assert g.input_shape == (None, 100) and g.output_shape == (None, 784)
        assert g.count_params() == 100 * 64 + 64 + 64 * 32 + 32 + 32 * 784 + 784

    def test_dense_discriminator_defaults_are_784_32_64_1_logits(self):
        d = tg.builders.dense_discriminator()
        assert d.count_params() == 784 * 32 + 32 + 32 * 64 + 64 + 64 + 1
        out = d(np.full((2, 784), 10.0, np.float32))
        assert d.layers[-1].activation.__name__ == "linear"
        assert out.shape == (2, 1)

    def test_sigmoid_discriminator_outputs_probabilities(self):
        d = tg.builders.dense_discriminator(output_activation="sigmoid")
        out = keras.ops.convert_to_numpy(d(np.random.rand(4, 784).astype("float32")))
        assert np.all((out > 0) & (out < 1))

    def test_tanh_generator_outputs_in_minus_one_one(self):
        g = tg.builders.dense_generator(output_activation="tanh", output_dim=(28, 28, 1))
        out = keras.ops.convert_to_numpy(g(np.random.randn(5, 100).astype("float32") * 10))
        assert out.shape == (5, 28, 28, 1) and out.min() >= -1 and out.max() <= 1

    def test_image_input_discriminator_flattens(self):
        d = tg.builders.dense_discriminator(input_dim=(8, 8, 1))
        assert d(np.zeros((3, 8, 8, 1), "float32")).shape == (3, 1)


class TestOptions:
    @pytest.mark.parametrize("norm, layer", [("batch", "BatchNormalization"),
                                             ("layer", "LayerNormalization")])
    def test_normalization_adds_its_layers(self, norm, layer):
        ae = tg.builders.dense_autoencoder(normalization=norm)
        assert sum(type(lyr).__name__ == layer for lyr in ae.layers) == 2

    def test_spectral_normalization_wraps_discriminator_layers(self):
        d = tg.builders.dense_discriminator(normalization="spectral")
        assert sum(isinstance(lyr, keras.layers.SpectralNormalization) for lyr in d.layers) == 3

    def test_spectral_normalization_is_refused_for_generators(self):
        with pytest.raises(ValueError, match="discriminators"):
            tg.builders.dense_generator(normalization="spectral")

    @pytest.mark.parametrize("init", ["dcgan", "he", "orthogonal", "glorot", "glorot_uniform",
                                      "lecun_normal"])
    def test_every_initializer_builds(self, init):
        g = tg.builders.dense_generator(kernel_initializer=init, seed=1)
        assert g.output_shape == (None, 784)

    def test_dcgan_initializer_has_std_002(self):
        g = tg.builders.dense_generator(hidden=(512,), kernel_initializer="dcgan", seed=0)
        kernel = keras.ops.convert_to_numpy(g.get_layer("dense_0").kernel)
        assert kernel.std() == pytest.approx(0.02, rel=0.05)
        assert abs(kernel.mean()) < 0.002

    def test_orthogonal_initializer_gives_orthonormal_columns(self):
        g = tg.builders.dense_generator(latent_dim=64, hidden=(32,),
                                        kernel_initializer="orthogonal")
        w = keras.ops.convert_to_numpy(g.get_layer("dense_0").kernel)
        np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-5)

    def test_seed_makes_weights_reproducible(self):
        a = tg.builders.dense_autoencoder(seed=7).get_weights()
        b = tg.builders.dense_autoencoder(seed=7).get_weights()
        for wa, wb in zip(a, b):
            np.testing.assert_array_equal(wa, wb)

    @pytest.mark.parametrize("kwargs, match", [
        ({"kernel_initializer": "xavier"}, "known: .*dcgan"),
        ({"normalization": "group"}, "normalization"),
        ({"hidden": (64, 0)}, "hidden"),
        ({"input_dim": -3}, "input_dim"),
        ({"activation": "nope"}, "activation"),
    ])
    def test_bad_options_raise_value_error_naming_the_argument(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            tg.builders.dense_autoencoder(**kwargs)

    def test_non_integer_width_raises_type_error(self):
        with pytest.raises(TypeError, match="latent_dim"):
            tg.builders.dense_generator(latent_dim=2.5)


class TestConditional:
    def test_conditional_generator_and_discriminator_take_labels(self):
        g = tg.builders.dense_generator(latent_dim=8, num_classes=10)
        d = tg.builders.dense_discriminator(num_classes=10)
        z = np.random.randn(4, 8).astype("float32")
        y = np.array([0, 1, 2, 3], "int32")
        img = keras.ops.convert_to_numpy(g([z, y]))
        assert d([img, y]).shape == (4, 1)

    def test_conditional_output_depends_on_label(self):
        g = tg.builders.dense_generator(latent_dim=8, num_classes=10)
        z = np.zeros((2, 8), "float32")
        out = keras.ops.convert_to_numpy(g([z, np.array([0, 1], "int32")]))
        assert not np.allclose(out[0], out[1])


class TestSerialization:
    def test_json_round_trip_keeps_architecture(self):
        ae = tg.builders.dense_autoencoder(normalization="batch")
        clone = keras.models.model_from_json(ae.to_json())
        assert clone.count_params() == ae.count_params()
        assert [type(lyr).__name__ for lyr in clone.layers] == [type(lyr).__name__ for lyr in ae.layers]

    def test_keras_file_round_trip_gives_identical_outputs(self, tmp_path):
        d = tg.builders.dense_discriminator(normalization="spectral")
        x = np.random.rand(3, 784).astype("float32")
        check_keras_roundtrip(d, x, tmp_path)


class TestTraining:
    def test_classic_autoencoder_lowers_validation_loss_on_digits(self, digits28):
        x_train, x_val = digits28
        ae = tg.builders.dense_autoencoder()
        ae.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
        before = ae.evaluate(x_val, x_val, verbose=0)
        ae.fit(x_train, x_train, epochs=3, batch_size=64, verbose=0)
        after = ae.evaluate(x_val, x_val, verbose=0)
        assert after < 0.8 * before

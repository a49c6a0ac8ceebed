"""Tests for tfgenopt/evaluation/features.py: input adaptation, streaming, user models."""

import copy

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation import (
    FeatureExtractor,
    extract_features,
    get_extractor,
    inception_extractor,
    infer_value_range,
)


class TestInferValueRange:
    @pytest.mark.parametrize("values, expected", [
        ([0.0, 0.5, 1.0], (0.0, 1.0)), ([-1.0, 0.2], (-1.0, 1.0)), ([0.0, 200.0], (0.0, 255.0))])
    def test_recognises_the_package_ranges(self, values, expected):
        assert infer_value_range(np.array(values)) == expected


class TestFeatureExtractor:
    def test_features_and_probabilities_have_the_classifier_shapes(self, extractor, digits8):
        f, p = extractor.predict(digits8[1])
        assert f.shape == (len(digits8[1]), 128) and p.shape == (len(digits8[1]), 10)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)

    @pytest.mark.parametrize("size, flatten, value_range", [
        (8, False, (0, 1)), (16, True, (0, 1)), (28, True, (-1, 1)), (32, False, (-1, 1))])
    def test_every_digit_size_range_and_layout_is_classified(self, extractor, size, flatten,
                                                             value_range):
        x, y = tg.data.load_digits(image_size=size, flatten=flatten, validation_split=0,
                                   value_range=value_range, return_labels=True)
        accuracy = (extractor.probabilities(x).argmax(axis=1) == y).mean()
        assert accuracy > 0.97

    def test_generator_of_batches_matches_the_array_pass(self, extractor, digits8):
        x = digits8[1]
        batches = ((x[i:i + 50], None) for i in range(0, len(x), 50))
        np.testing.assert_allclose(extractor.features(batches), extractor.features(x), atol=1e-5)

    def test_memmap_input_is_streamed_in_batches(self, extractor, digits8, tmp_path):
        x = digits8[1]
        mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype="float32",
                                       shape=x.shape)
        mm[:] = x
        np.testing.assert_allclose(extractor.features(mm, batch_size=64),
                                   extractor.features(x), atol=1e-5)

    def test_progress_bar_shows_with_verbose(self, extractor, digits8, capsys):
        extractor.features(digits8[1], batch_size=100, verbose=1)
        assert f"{len(digits8[1])}/{len(digits8[1])}" in capsys.readouterr().out

    def test_deepcopy_shares_the_extractor(self, extractor):
        assert copy.deepcopy(extractor) is extractor

    def test_user_functional_softmax_model_uses_its_penultimate_layer(self):
        inp = keras.Input((64,))
        hidden = keras.layers.Dense(7, activation="relu", name="hidden")(inp)
        out = keras.layers.Dense(3, activation="softmax")(hidden)
        ext = get_extractor(keras.Model(inp, out))
        x = np.random.default_rng(0).uniform(size=(5, 8, 8, 1)).astype("float32")
        f, p = ext.predict(x)
        assert f.shape == (5, 7) and p.shape == (5, 3)

    def test_user_model_without_softmax_gives_its_output_and_no_probabilities(self):
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(4)])
        ext = FeatureExtractor(model)
        x = np.zeros((3, 28, 28, 1), "float32")
        assert ext.features(x).shape == (3, 4)
        with pytest.raises(ValueError, match="no softmax output"):
            ext.probabilities(x)

    def test_named_feature_layer_is_used(self, classifier):
        ext = FeatureExtractor(classifier[0], feature_layer="flatten")
        assert ext.feature_dim == 4 * 4 * 64

    def test_unknown_feature_layer_lists_known_layers(self, classifier):
        with pytest.raises(ValueError, match="not a layer of the model; known"):
            FeatureExtractor(classifier[0], feature_layer="nope")

    def test_unbuilt_sequential_model_raises(self):
        with pytest.raises(ValueError, match="built model with exactly one input"):
            FeatureExtractor(keras.Sequential([keras.layers.Dense(2)]))

    def test_non_model_raises_type_error(self):
        with pytest.raises(TypeError, match="`extractor` must be None"):
            get_extractor(3)

    def test_non_square_flat_vectors_raise(self, extractor):
        with pytest.raises(ValueError, match="not a square image"):
            extractor.features(np.zeros((2, 50), "float32"))

    def test_non_finite_images_raise(self, extractor):
        x = np.zeros((3, 8, 8, 1), "float32")
        x[1, 2, 2, 0] = np.nan
        with pytest.raises(ValueError, match="NaN or infinite"):
            extractor.features(x)

    def test_empty_images_raise(self, extractor):
        with pytest.raises(ValueError, match="empty"):
            extractor.features(np.zeros((0, 8, 8, 1), "float32"))


class TestInceptionExtractor:
    @pytest.mark.slow  # InceptionV3 built twice and 90 MB of weights written (~11 s)
    def test_local_weights_file_gives_2048_features(self, tmp_path, digits8):
        model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                               input_shape=(75, 75, 3))
        path = tmp_path / "inception_notop.weights.h5"
        model.save_weights(path)
        ext = inception_extractor(path, image_size=75)
        x = digits8[1][:4]
        expected = model(ext.preprocess(x, (0.0, 1.0)), training=False)
        got = ext.features(x)
        assert got.shape == (4, 2048)
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(expected), atol=1e-4)

    def test_missing_weights_file_raises_without_downloading(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="never downloads"):
            inception_extractor(tmp_path / "missing.h5")


class TestExtractFeatures:
    def test_default_extractor_is_the_cached_digits_classifier(self, extractor, digits8):
        np.testing.assert_allclose(extract_features(digits8[1]), extractor.features(digits8[1]),
                                   atol=1e-5)


@pytest.mark.slow
class TestLargeInputs:
    def test_50000_streamed_images_hold_only_the_features(self, extractor, digits28):
        import tracemalloc

        base = digits28[0][:1000]
        n, batch = 50_000, 1000

        def batches():
            for i in range(n // batch):
                yield np.roll(base, i, axis=0)

        tracemalloc.start()
        feats = extractor.features(batches())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert feats.shape == (n, 128)
        images_bytes = n * base.shape[1] * 4  # 157 MB if the images were held
        assert peak < 0.5 * images_bytes

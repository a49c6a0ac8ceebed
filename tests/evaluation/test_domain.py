"""The domain extractor (trained on the user's images, cached by fingerprint) and the sanity suite."""

import os

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation.domain import _classifier


@pytest.fixture(scope="session")
def shapes16():
    return tg.data.make_shapes(480, image_size=16, seed=0)


@pytest.fixture(scope="session")
def shapes_extractor(shapes16, tfgenopt_cache):
    """``(extractor, info)`` of the domain classifier of 480 16-px shapes (default: 30 epochs)."""
    return tg.evaluation.domain_extractor(*shapes16, return_info=True)


@pytest.fixture(scope="session")
def digits_extractor(tfgenopt_cache):
    x, y = tg.data.load_digits(image_size=16, validation_split=0, return_labels=True)
    return x, y, tg.evaluation.domain_extractor(x, y, epochs=4)


def _extractors_of_16px_rgb(cache):
    """``{(name, mtime)}`` of the cached extractors of 16x16 RGB images (lock files aside).

    Only these: the other xdist worker writes into the same cache meanwhile (a lock file when
    it first loads the digits classifier, extractors of other images).
    """
    folder = cache / "extractors"
    return {(n, os.path.getmtime(folder / n)) for n in os.listdir(folder)
            if "16x16x3" in n and not n.endswith(".lock")}


class _NoiseFeatures(keras.layers.Layer):
    """Features that ignore the image: fresh Gaussian noise for every call."""

    def call(self, images):
        return keras.random.normal((keras.ops.shape(images)[0], 16))


class TestDomainExtractor:
    def test_labelled_images_give_an_accurate_cached_classifier(self, shapes_extractor, shapes16):
        ext, info = shapes_extractor
        assert ext.num_classes == 12 and ext.input_shape == (16, 16, 3)
        assert info["kind"] == "classifier" and info["val_accuracy"] > 0.4  # chance: 1/12
        assert os.path.exists(info["path"])
        again, info2 = tg.evaluation.domain_extractor(*shapes16, return_info=True)
        assert info2["trained"] is False and info2["path"] == info["path"]
        x = shapes16[0][:8]
        np.testing.assert_allclose(again.features(x), ext.features(x), atol=1e-5)

    def test_the_fingerprint_follows_the_data(self, shapes16):
        x, y = shapes16
        path = tg.evaluation.domain_extractor_path(x, y, epochs=4)
        assert tg.evaluation.domain_extractor_path(x.astype("float32") / 255, y,
                                                   epochs=4) == path  # same pixels
        other = x.copy()
        other[0, 0, 0, 0] ^= 1
        assert tg.evaluation.domain_extractor_path(other, y, epochs=4) != path
        assert tg.evaluation.domain_extractor_path(x, None, epochs=4) != path

    def test_unlabelled_images_give_a_reconstruction_encoder(self, shapes16):
        ext, info = tg.evaluation.domain_extractor(shapes16[0][:64], epochs=1, width=8,
                                                   return_info=True)
        assert info["kind"] == "autoencoder" and ext.probability_output is None
        assert ext.features(shapes16[0][:5]).shape == (5, 8)

    def test_one_class_only_is_refused_before_training(self, shapes16, tfgenopt_cache):
        before = _extractors_of_16px_rgb(tfgenopt_cache)
        with pytest.raises(ValueError, match="one class only"):
            tg.evaluation.domain_extractor(shapes16[0][:10], np.zeros(10, int))
        with pytest.raises(ValueError, match="one class only"):
            tg.callbacks.QualityMonitor((shapes16[0][:10], np.zeros(10, int)),
                                        extractor="domain")
        with pytest.raises(ValueError, match="coverage.*needs `labels`"):
            tg.callbacks.QualityMonitor(shapes16[0][:10], extractor="domain")
        assert _extractors_of_16px_rgb(tfgenopt_cache) == before

    def test_get_extractor_names_the_missing_inception_file(self):
        with pytest.raises(FileNotFoundError, match="inception_v3_weights_tf_dim_ordering"):
            tg.evaluation.get_extractor("inception")
        with pytest.raises(ValueError, match="trains on the real images"):
            tg.evaluation.get_extractor("domain")

    def test_quality_monitor_measures_a_gan_on_the_domain_extractor(self, shapes_extractor,
                                                                     shapes16, tfgenopt_cache):
        x, y = shapes16
        cached = _extractors_of_16px_rgb(tfgenopt_cache)
        g = tg.builders.dcgan_generator(latent_dim=8, image_shape=(16, 16, 3), base_filters=4,
                                        seed=0)
        d = tg.builders.dcgan_discriminator(image_shape=(16, 16, 3), base_filters=4, seed=0)
        gan = tg.models.GAN(g, d, latent_dim=8, seed=0)
        gan.compile(run_eagerly=True)
        real = x.astype("float32") / 127.5 - 1  # the same 8-bit pixels: the same fingerprint
        monitor = tg.callbacks.QualityMonitor((real, y), extractor="domain", n_samples=100,
                                              kid_subsets=2)
        history = gan.fit(real[:64], epochs=1, batch_size=32,
                          verbose=0, callbacks=[monitor])
        assert monitor._extractor.num_classes == 12
        # The monitor trains the extractor itself; here it reloads the fixture's (same data).
        assert _extractors_of_16px_rgb(tfgenopt_cache) == cached
        assert np.isfinite(history.history["val_fid"][0]) and history.history["val_fid"][0] > 0
        assert 0 < history.history["val_coverage"][0] <= 1


class TestCheckExtractor:
    def test_domain_extractor_passes_on_shapes_with_the_whole_table(self, shapes_extractor,
                                                                    shapes16):
        result = tg.evaluation.check_extractor(shapes16[0], shapes_extractor[0],
                                               labels=shapes16[1])
        assert result.passed, str(result)
        assert [r["level"] for r in result.rows if r["check"] == "noise"] == [0, .05, .1, .2]
        assert [r["level"] for r in result.rows if r["check"] == "drop_classes"] == [0, 1, 3, 5]
        assert "| noise | 0.05 |" in str(result)

    @pytest.mark.slow  # ~14 s: trains a second extractor; the shapes case runs in make test
    def test_domain_extractor_passes_on_digits(self, digits_extractor):
        x, y, ext = digits_extractor
        result = tg.evaluation.check_extractor(x, ext, labels=y)
        assert result.passed, str(result)

    def test_features_that_ignore_the_image_fail(self, shapes16):
        inputs = keras.Input((16, 16, 3))
        ext = tg.evaluation.FeatureExtractor(keras.Model(inputs, _NoiseFeatures()(inputs)))
        result = tg.evaluation.check_extractor(shapes16[0], ext, labels=shapes16[1])
        assert not result.passed
        assert result.checks["noise"] is False and result.checks["blur"] is False

    def test_untrained_cnn_fails_where_a_trained_one_passes(self, shapes16):
        model, _ = _classifier((16, 16, 3), 12, 128, 0)
        result = tg.evaluation.check_extractor(shapes16[0], tg.evaluation.FeatureExtractor(model),
                                               labels=shapes16[1])
        assert not result.passed

    def test_bad_levels_and_too_few_images(self, shapes16, shapes_extractor):
        x, y = shapes16
        ext = shapes_extractor[0]
        with pytest.raises(ValueError, match="`noise` must be at least 2 increasing levels"):
            tg.evaluation.check_extractor(x, ext, labels=y, noise=(0.1, 0.2))
        with pytest.raises(ValueError, match="`drop` removes up to 12 classes"):
            tg.evaluation.check_extractor(x, ext, labels=y, drop=(0, 12))
        with pytest.raises(ValueError, match="at least 20 images"):
            tg.evaluation.check_extractor(x[:10], ext)

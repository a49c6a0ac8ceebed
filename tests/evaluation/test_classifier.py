"""Tests for tfgenopt/evaluation/classifier.py: accuracy, cache location, cache reuse."""

import os

import pytest

from tfgenopt.evaluation import cache_dir, classifier_path, domain_classifier
from tfgenopt.evaluation import classifier as classifier_mod


class TestDomainClassifier:
    def test_validation_accuracy_exceeds_97_percent(self, classifier):
        _, info = classifier
        assert info["val_accuracy"] > 0.97
        assert info["n_val"] > 300

    def test_is_cached_under_tfgenopt_cache(self, classifier, tfgenopt_cache):
        _, info = classifier
        assert cache_dir() == str(tfgenopt_cache)
        assert info["path"] == classifier_path()
        assert info["path"].startswith(str(tfgenopt_cache)) and os.path.exists(info["path"])

    def test_second_call_reloads_without_retraining(self, classifier, monkeypatch, digits8):
        first, _ = classifier

        def no_training(*args, **kwargs):
            raise AssertionError("retrained although the cache holds the model")

        monkeypatch.setattr(classifier_mod, "_train", no_training)
        again, info = domain_classifier(return_info=True)
        assert info["trained"] is False
        x = digits8[1][:16]
        import tensorflow as tf

        x16 = tf.image.resize(x, (16, 16)).numpy()
        assert (again.predict(x16, verbose=0) == pytest.approx(first.predict(x16, verbose=0),
                                                                abs=1e-6))

    def test_penultimate_features_layer_can_be_cut_out(self, classifier):
        model, _ = classifier
        assert model.get_layer("features").output.shape[-1] == 128
        assert model.output.shape[-1] == 10

    def test_settings_change_the_cache_key(self):
        assert classifier_path(width=64) != classifier_path(width=128)
        assert classifier_path(seed=1) != classifier_path(seed=0)
        assert "16px" in classifier_path()

    def test_unknown_dataset_lists_known_ones(self):
        with pytest.raises(ValueError, match="`dataset` must be one of"):
            domain_classifier("cifar")

    def test_unsupported_image_size_raises(self):
        with pytest.raises(ValueError, match="`image_size` must be one of"):
            classifier_path(image_size=12)


"""Tests for tfgenopt/evaluation/classifier.py: accuracy, cache location, cache reuse."""

import json
import os
import pathlib

import numpy as np
import pytest

from tfgenopt.evaluation import cache_dir, classifier_path, domain_classifier
from tfgenopt.evaluation import classifier as classifier_mod

FIXTURE = pathlib.Path(__file__).parents[1] / "fixtures" / "extractors"


class TestDomainClassifier:
    def test_validation_accuracy_exceeds_97_percent(self, classifier):
        # The suite's cache starts with tests/fixtures/extractors/ (tests/conftest.py); the
        # accuracy is measured here on the validation split, not read from the sidecar.
        model, info = classifier
        _, (x_val, y_val) = classifier_mod._load_data("digits", 16, seed=0)
        accuracy = float(np.mean(model.predict(x_val, verbose=0).argmax(-1) == y_val))
        assert accuracy > 0.97 and accuracy == pytest.approx(info["val_accuracy"], abs=0.01)
        assert info["n_val"] == len(x_val) > 300

    def test_the_suites_fixture_is_the_current_classifier_under_its_cache_name(self):
        import keras

        # A change of the architecture or of the cache key must regenerate the fixture
        # (tests/fixtures/make_classifier_fixture.py), else the suite tests an old model.
        name = os.path.basename(classifier_path())
        assert sorted(p.name for p in FIXTURE.iterdir()) == sorted(
            [name, name.replace(".keras", ".json")])
        saved = keras.saving.load_model(FIXTURE / name, compile=False)
        built = classifier_mod._build(16, 10, 128, 0)
        assert json.dumps(saved.get_config(), sort_keys=True, default=str) == json.dumps(
            built.get_config(), sort_keys=True, default=str)
        info = json.loads((FIXTURE / name.replace(".keras", ".json")).read_text())
        assert info["format"] == classifier_mod._FORMAT and info["epochs"] == 25

    @pytest.mark.slow  # ~30-60 CPU-s; make test loads tests/fixtures/extractors/ instead
    def test_training_from_scratch_reaches_97_percent(self, tmp_path, monkeypatch):
        monkeypatch.setenv("TFGENOPT_CACHE", str(tmp_path))
        model, info = domain_classifier(return_info=True)
        assert info["trained"] is True and info["val_accuracy"] > 0.97
        assert info["path"].startswith(str(tmp_path)) and os.path.exists(info["path"])

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


"""Tests for tfgenopt/evaluation/extractors.py: the one extractor registry (get / check)."""

import pathlib

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation import FeatureExtractor, extractors


def _tiny_model():
    inp = keras.Input((8, 8, 1))
    return keras.Model(inp, keras.layers.Dense(3)(keras.layers.Flatten()(inp)))


class TestGet:
    def test_names_are_the_dataset_classifiers_domain_and_inception(self):
        assert extractors.names() == ("digits", "mnist", "fashion_mnist", "domain", "inception")

    def test_unknown_name_raises_value_error_listing_the_known_ones(self):
        with pytest.raises(ValueError, match=r"'digts' is not a known extractor name.*'mnist'"):
            extractors.get("digts")

    def test_wrong_type_raises_type_error(self):
        with pytest.raises(TypeError, match="`extractor` must be None"):
            extractors.get(3)

    @pytest.mark.parametrize("wrap", [str, pathlib.Path])
    def test_weights_path_as_str_or_path_goes_to_inception(self, tmp_path, wrap):
        missing = tmp_path / "inception_notop.h5"
        with pytest.raises(FileNotFoundError, match="inception_notop.h5"):
            extractors.get(wrap(missing))

    def test_model_and_feature_extractor_resolve(self):
        ext = extractors.get(_tiny_model())
        assert isinstance(ext, FeatureExtractor) and ext.feature_dim == 3
        assert extractors.get(ext) is ext

    def test_callable_is_called_and_its_model_wrapped(self):
        ext = extractors.get(_tiny_model)
        f = ext.features(np.zeros((4, 8, 8, 1), "float32"), value_range=(0, 1))
        assert f.shape == (4, 3)

    def test_callable_returning_something_else_raises(self):
        with pytest.raises(TypeError, match="must return a keras.Model or a FeatureExtractor"):
            extractors.get(lambda: 3)

    def test_get_extractor_is_the_registry(self):
        assert tg.evaluation.get_extractor is extractors.get


class TestCheck:
    def test_path_comes_back_as_str(self):
        assert extractors.check(pathlib.Path("w") / "x.h5") == str(pathlib.Path("w") / "x.h5")

    @pytest.mark.parametrize("identifier", [None, "digits", "domain", "~/w.h5", "weights.keras"])
    def test_names_and_paths_pass_unchanged(self, identifier):
        assert extractors.check(identifier) == identifier

    def test_builds_nothing_for_a_name(self, tfgenopt_cache):
        before = sorted(pathlib.Path(tfgenopt_cache).rglob("*"))
        assert extractors.check("mnist") == "mnist"
        assert sorted(pathlib.Path(tfgenopt_cache).rglob("*")) == before


class TestEveryExtractorArgumentUsesTheRegistry:
    x = np.zeros((8, 8, 8, 1), "float32")

    @pytest.mark.parametrize("make", [
        lambda x, e: tg.callbacks.QualityMonitor(x, metrics=("fid",), extractor=e),
        lambda x, e: tg.callbacks.CollapseMonitor(x, extractor=e),
    ])
    def test_a_weights_path_is_accepted_and_carried_in_the_config_as_str(self, make, tmp_path):
        path = tmp_path / "inception_notop.h5"
        cb = make(self.x, path)
        assert cb.extractor == str(path) and cb.get_config()["extractor"] == str(path)

    @pytest.mark.parametrize("make", [
        lambda x, e: tg.callbacks.QualityMonitor(x, metrics=("fid",), extractor=e),
        lambda x, e: tg.callbacks.CollapseMonitor(x, extractor=e),
        lambda x, e: tg.evaluation.fid_from_images(x, x, extractor=e),
        lambda x, e: tg.evaluation.mode_coverage(x, classifier=e),
    ])
    def test_an_unknown_name_is_refused_with_the_known_ones(self, make):
        with pytest.raises(ValueError, match="not a known extractor name"):
            make(self.x, "incepton")


def test_features_module_imports_neither_domain_nor_the_registry():
    source = pathlib.Path(tg.evaluation.features.__file__).read_text()
    assert "evaluation.domain" not in source and "extractors" not in source

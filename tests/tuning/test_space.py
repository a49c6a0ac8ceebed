"""Tests of tfgenopt/tuning/space.py: overrides fix, choose or range, and are checked up front."""

import keras_tuner
import pytest

from tfgenopt.tuning import space as S


def _defaults():
    return {
        "optimizer": S.choice("adam", "sgd", allowed=("adam", "sgd", "rmsprop")),
        "learning_rate": S.float_range(1e-4, 1e-2, "log"),
        "batch_size": S.choice(32, 64, legal=(1, None)),
        "depth": S.int_range(1, 3),
    }


class TestOverrides:
    def test_scalar_fixes_the_value(self):
        space = S.SearchSpace(_defaults(), {"learning_rate": 3e-3})
        hp = keras_tuner.HyperParameters()
        assert space.get(hp, "learning_rate") == 3e-3
        assert isinstance(hp._hps["learning_rate"][0], keras_tuner.engine.hyperparameters.Fixed)

    def test_list_becomes_a_choice(self):
        space = S.SearchSpace(_defaults(), {"optimizer": ["sgd", "rmsprop"]})
        hp = keras_tuner.HyperParameters()
        assert space.get(hp, "optimizer") == "sgd"
        assert list(hp._hps["optimizer"][0].values) == ["sgd", "rmsprop"]

    def test_range_dict_becomes_a_log_float(self):
        space = S.SearchSpace(_defaults(),
                              {"learning_rate": {"min": 1e-5, "max": 1e-3, "sampling": "log"}})
        hp = keras_tuner.HyperParameters()
        space.get(hp, "learning_rate")
        p = hp._hps["learning_rate"][0]
        assert (p.min_value, p.max_value, p.sampling) == (1e-5, 1e-3, "log")

    def test_int_range_keeps_integers(self):
        space = S.SearchSpace(_defaults(), {"depth": {"min": 2, "max": 4}})
        assert space.params["depth"].kind == "int"
        assert space.upper("depth") == 4

    def test_untouched_names_keep_defaults(self):
        space = S.SearchSpace(_defaults(), {"depth": 2})
        assert space.params["batch_size"] == _defaults()["batch_size"]


class TestValidation:
    def test_unknown_key_lists_known_keys(self):
        with pytest.raises(ValueError, match=r"Unknown search-space key\(s\) \['lr'\].*learning_rate"):
            S.SearchSpace(_defaults(), {"lr": 1e-3})

    def test_impossible_range_names_the_key(self):
        with pytest.raises(ValueError, match="`learning_rate` is an impossible range"):
            S.SearchSpace(_defaults(), {"learning_rate": {"min": 1e-2, "max": 1e-4}})

    def test_log_range_needs_positive_min(self):
        with pytest.raises(ValueError, match="`learning_rate` uses log sampling, which needs min > 0"):
            S.SearchSpace(_defaults(),
                          {"learning_rate": {"min": 0.0, "max": 1e-2, "sampling": "log"}})

    def test_unknown_choice_is_rejected(self):
        with pytest.raises(ValueError, match="`optimizer` must be one of"):
            S.SearchSpace(_defaults(), {"optimizer": ["adam", "adamw"]})

    def test_wrong_type_is_rejected(self):
        with pytest.raises(TypeError, match="`batch_size` takes int values; received 32.5"):
            S.SearchSpace(_defaults(), {"batch_size": 32.5})

    def test_out_of_bounds_value_is_rejected(self):
        with pytest.raises(ValueError, match="`batch_size` must be >= 1; received 0"):
            S.SearchSpace(_defaults(), {"batch_size": [0, 8]})

    def test_unknown_range_keys_are_rejected(self):
        with pytest.raises(ValueError, match=r"unknown range keys \['maximum'\]"):
            S.SearchSpace(_defaults(), {"depth": {"min": 1, "maximum": 3}})

    def test_range_on_a_name_is_rejected(self):
        with pytest.raises(ValueError, match="`optimizer` takes str values"):
            S.SearchSpace(_defaults(), {"optimizer": {"min": 1, "max": 2}})

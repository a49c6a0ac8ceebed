"""Tests for tfgenopt/callbacks/cosine.py: EpochCosineDecay's home and its old name."""

import keras
import pytest

import tfgenopt as tg


def test_it_lives_in_callbacks_and_tuning_re_exports_the_same_class():
    from tfgenopt.tuning.hypermodels import EpochCosineDecay as from_hypermodels

    cls = tg.callbacks.EpochCosineDecay
    assert cls.__module__ == "tfgenopt.callbacks.cosine"
    assert tg.tuning.EpochCosineDecay is cls and from_hypermodels is cls


def test_a_saved_config_under_the_registered_name_still_loads():
    cb = tg.callbacks.EpochCosineDecay(epochs=4, final_fraction=0.25)
    config = keras.saving.serialize_keras_object(cb)
    again = keras.saving.deserialize_keras_object(config)
    assert isinstance(again, tg.callbacks.EpochCosineDecay)
    assert (again.epochs, again.final_fraction) == (4, 0.25)
    assert again.factor(4) == pytest.approx(0.25) and again.factor(2) == pytest.approx(0.625)

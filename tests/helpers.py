"""One small shared helper for the config round-trip and `.keras` save/load checks."""

from __future__ import annotations

import os
import warnings

import keras
import numpy as np


def check_config_roundtrip(obj):
    """``from_config(get_config())`` gives an object with the same config; returns the copy."""
    config = obj.get_config()
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config
    return clone


def check_keras_roundtrip(model, inputs, tmp_path, call=None, atol=0.0):
    """Save ``model`` as ``.keras``, reload it with no warning, and compare outputs on ``inputs``.

    ``call(model, inputs)`` computes the compared output (default: ``model(inputs)``).
    Returns the reloaded model.
    """
    call = call or (lambda m, x: m(x, training=False))
    path = os.path.join(os.fspath(tmp_path), "model.keras")
    expected = keras.ops.convert_to_numpy(call(model, inputs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.save(path)
        loaded = keras.saving.load_model(path)
    relevant = [w for w in caught if issubclass(w.category, UserWarning)]
    assert not relevant, [str(w.message) for w in relevant]
    got = keras.ops.convert_to_numpy(call(loaded, inputs))
    np.testing.assert_allclose(got, expected, atol=atol, rtol=0)
    return loaded

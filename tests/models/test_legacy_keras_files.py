"""`.keras` files written by an earlier tfgenopt still load: compile config, optimizers, steps.

The files in tests/fixtures/ were saved by ``tests/fixtures/make_legacy_keras_files.py`` with
the code from before the GAN's compile arguments moved into ``GANRecipe``; the JSON beside them
holds what that code reported (its compile config, optimizer iterations, ``generate`` output).
"""

import json
import os
import warnings

import keras
import numpy as np
import pytest

import tfgenopt as tg

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
with open(os.path.join(FIXTURES, "legacy_keras_files.json")) as _f:
    EXPECTED = json.load(_f)


def _load(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    assert not caught, [f"{w.category.__name__}: {w.message}" for w in caught]
    return model


def _optimizers(model):
    if isinstance(model, tg.models.GAN):
        return {"d": model.d_optimizer, "g": model.g_optimizer}
    return {"": model.optimizer}


def _as_json(config):
    return json.loads(json.dumps(config, sort_keys=True, default=str))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_saved_file_loads_with_its_recipe_and_optimizer_state_and_trains_on(name, rng):
    want = EXPECTED[name]
    model = _load(name)
    assert _as_json(model.get_compile_config()) == want["compile_config"]
    iterations = {k: int(o.iterations) for k, o in _optimizers(model).items()}
    assert iterations == want["iterations"]
    np.testing.assert_allclose(model.generate(3, seed=7), want["generate"], atol=2e-6, rtol=0)
    # One train step (eager: the compiled fit path is covered by the saving tests).
    x = rng.random((8, 16)).astype("float32")
    batch = (x, np.arange(8) % 3) if getattr(model, "conditional", False) else x
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logs = model.train_step(keras.tree.map_structure(keras.ops.convert_to_tensor, batch))
    assert not [w for w in caught if issubclass(w.category, UserWarning)]
    assert all(np.isfinite(keras.ops.convert_to_numpy(v)) for v in logs.values())
    steps = model.get_compile_config().get("d_steps", 1)
    assert {k: int(o.iterations) for k, o in _optimizers(model).items()} == {
        k: n + (steps if k == "d" else 1) for k, n in iterations.items()}

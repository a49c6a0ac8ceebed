"""The doctest namespace: names the docstring examples of ``tfgenopt`` share.

``pytest --doctest-modules tfgenopt`` (part of ``make test``) runs every ``>>>`` example of the
package. Each example starts from a fixed seed in a fresh temporary folder (so examples that
write files leave nothing behind) and sees these names, besides its own imports:

* ``tg``, ``np``, ``keras``, ``keras_tuner``: ``tfgenopt``, NumPy, Keras and Keras Tuner;
* ``x``: 64 bundled digits as flat 8x8 vectors (``(64, 64)`` float32 in ``[0, 1]``);
* ``gan``: a tiny compiled dense GAN for that data (``latent_dim=8``, 64 outputs, seed 0);
* ``vae``: a tiny compiled dense VAE for that data (``latent_dim=2``, seed 0);
* ``diffusion``: a tiny compiled ``Diffusion`` (default recipe) around a 2-D MLP denoiser.

``gan``, ``vae`` and ``diffusion`` are built afresh for each example that names them, so an example that
compiles or trains one does not change what the next one sees.
"""

import gc
import os
import re

import pytest

# The costliest test files go first, so the xdist workers finish together (tests/_schedule.py).
pytest_plugins = ["tests._schedule"]

_DIGITS = []


def _digits():
    if not _DIGITS:
        import tfgenopt as tg

        _DIGITS.append(tg.data.load_digits(image_size=8, flatten=True, validation_split=0.0)[:64])
    return _DIGITS[0]


def _gan():
    import tfgenopt as tg

    g = tg.builders.dense_generator(latent_dim=8, hidden=(16,), output_dim=64, seed=0)
    d = tg.builders.dense_discriminator(input_dim=64, hidden=(16,), seed=0)
    gan = tg.models.GAN(g, d, latent_dim=8, seed=0)
    gan.compile()
    return gan


def _vae():
    import tfgenopt as tg

    vae = tg.models.VAE(tg.builders.vae_encoder(64, latent_dim=2, hidden=(16,), seed=0),
                        tg.builders.vae_decoder(2, 64, hidden=(16,), seed=0), seed=0)
    vae.compile("adam")
    return vae


def _diffusion():
    import keras

    import tfgenopt as tg

    x_in, level = keras.Input((2,)), keras.Input((1,))
    h = keras.layers.Dense(16, activation="swish")(keras.layers.Concatenate()([x_in, level]))
    model = tg.models.Diffusion(keras.Model([x_in, level], keras.layers.Dense(2)(h)), seed=0)
    model.compile()
    return model


_BUILDERS = {"gan": _gan, "vae": _vae, "diffusion": _diffusion}


def pytest_configure(config):
    """Python's garbage collector runs less often in the test processes.

    Tracing a model's graph allocates many short-lived objects, so the default threshold (700
    allocations) starts a collection every few hundred ops; at 50,000 the suite's test files
    ran 10-12% faster (four interleaved pairs on two sets of files, 2026-12-07: 61.8 s vs
    68.8 s and 68.0 s vs 77.1 s). Cycles are still collected, and memory stays far below the
    machine's. The product sets nothing of the kind (``import tfgenopt`` has no side effects).
    """
    gc.set_threshold(50_000, 50, 100)


@pytest.fixture(scope="session", autouse=True)
def _lean_graphs():
    """Grappler's graph rewrites off in the test processes (the tests and the doctests).

    The suite traces hundreds of tiny models and runs each for a few steps, where rewriting
    every new graph costs more than it saves (8-16% of a test file's time, measured). Results
    do not depend on it; the product's defaults and the benchmarks (``benchmarks/``) keep
    TensorFlow's optimizer on, and ``TFGENOPT_TEST_GRAPPLER=1`` runs the suite with it.
    """
    if os.environ.get("TFGENOPT_TEST_GRAPPLER") == "1":  # to compare: run with it on
        yield
        return
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    yield


@pytest.fixture(autouse=True)
def _doctest_names(request):
    """Fill ``doctest_namespace`` for a doctest item (other tests are left alone)."""
    doctest = getattr(request.node, "dtest", None)  # set on pytest's doctest items only
    if doctest is None:
        yield
        return
    import keras
    import keras_tuner
    import numpy as np

    import tfgenopt as tg

    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.chdir(request.getfixturevalue("tmp_path"))
    cache = request.getfixturevalue("tmp_path_factory").getbasetemp() / "doctest-cache"
    monkeypatch.setenv("TFGENOPT_CACHE", os.environ.get("TFGENOPT_CACHE") or str(cache))
    keras.utils.set_random_seed(0)
    namespace = request.getfixturevalue("doctest_namespace")
    namespace.update(tg=tg, np=np, keras=keras, keras_tuner=keras_tuner, x=_digits())
    source = "\n".join(example.source for example in doctest.examples)
    for name, build in _BUILDERS.items():
        if re.search(rf"\b{name}\b", source):
            namespace[name] = build()
    yield
    for name in _BUILDERS:
        namespace.pop(name, None)

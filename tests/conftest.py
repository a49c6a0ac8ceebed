"""Shared test settings: quiet TensorFlow, headless matplotlib, deterministic seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _tfgenopt_cache(tmp_path_factory):
    """Keep the extractor cache out of the home folder: one folder per test process.

    Not shared between xdist workers: two workers training the same classifier at once would
    each hold weights that differ (in float round-off) from the file the other one wrote.
    """
    folder = tmp_path_factory.getbasetemp() / "tfgenopt-cache"
    folder.mkdir(exist_ok=True)
    old = os.environ.get("TFGENOPT_CACHE")
    os.environ["TFGENOPT_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("TFGENOPT_CACHE", None)
    else:
        os.environ["TFGENOPT_CACHE"] = old


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds and a clean Keras session.

    ``free_memory=False``: Keras' global state (name counters, the functional-API state) is
    reset, but without the full ``gc.collect()`` that ``clear_session()`` runs by default,
    which costs 0.3-1 s of CPU per test once TensorFlow is loaded (a few minutes over the
    suite); Python's own collector still frees cycles as the run goes.
    """
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)


@pytest.fixture(scope="session")
def digits28():
    """(x_train, x_val) of the bundled digits, 28x28 flattened, in [0, 1]."""
    import tfgenopt as tg

    return tg.data.load_digits(image_size=28, flatten=True)


@pytest.fixture(scope="session")
def digits8():
    """(x_train, x_val) of the bundled digits, 8x8x1 images, in [0, 1]."""
    import tfgenopt as tg

    return tg.data.load_digits(image_size=8)


@pytest.fixture
def rng():
    return np.random.default_rng(0)

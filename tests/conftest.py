"""Shared test settings: quiet TensorFlow, headless matplotlib, deterministic seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds and a clean Keras session."""
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


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

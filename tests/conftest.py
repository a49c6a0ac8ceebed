"""Shared test settings: quiet TensorFlow, headless matplotlib, deterministic seeds.

Nothing here imports TensorFlow at module level: under pytest-xdist the controlling process
loads this file too, and only the workers run tests (an import there costs ~10 s of CPU that
the workers would otherwise have).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _tfgenopt_cache(tmp_path_factory):
    """Keep the extractor cache out of the home folder: one folder for the whole run.

    Shared by the xdist workers: the cache's lock (``classifier.load_or_train``) lets the first
    worker train the digits classifier while the other waits and loads the same file.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this session
    folder = root / "tfgenopt-cache"
    folder.mkdir(exist_ok=True)
    _seed_cache(folder)
    old = os.environ.get("TFGENOPT_CACHE")
    os.environ["TFGENOPT_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("TFGENOPT_CACHE", None)
    else:
        os.environ["TFGENOPT_CACHE"] = old


FIXTURE_EXTRACTORS = os.path.join(os.path.dirname(__file__), "fixtures", "extractors")


def _seed_cache(folder):
    """Put the default digits classifier (tests/fixtures/extractors/) into the run's cache.

    Saves training it in every run (its training runs in ``make bench``; see
    tests/fixtures/make_classifier_fixture.py). Copied under a temporary name and renamed, so
    a concurrent worker never reads half a file.
    """
    import shutil

    target = folder / "extractors"
    target.mkdir(exist_ok=True)
    for name in sorted(os.listdir(FIXTURE_EXTRACTORS)):
        if not (target / name).exists():
            tmp = target / f".{name}.{os.getpid()}"
            shutil.copyfile(os.path.join(FIXTURE_EXTRACTORS, name), tmp)
            os.replace(tmp, target / name)


@pytest.fixture(scope="session", autouse=True)
def _two_logical_cpus():
    """Two logical CPU devices in each test process, made before TensorFlow's runtime starts.

    The ``MirroredStrategy`` checks (tests/models/test_gan_distribution.py) then run in the test
    process instead of a TensorFlow process of their own (~12 s of start-up). Nothing else
    places work on the second device (ops default to ``/CPU:0``; tfgenopt mirrors only over
    GPUs). If the runtime has already started, the tests fall back to their own process.
    """
    import tensorflow as tf

    try:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:  # "Virtual devices cannot be modified after being initialized"
        pass


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seeds and a clean Keras session.

    ``free_memory=False``: Keras' global state (name counters, the functional-API state) is
    reset, but without the full ``gc.collect()`` that ``clear_session()`` runs by default,
    which costs 0.3-1 s of CPU per test once TensorFlow is loaded (a few minutes over the
    suite); Python's own collector still frees cycles as the run goes.
    """
    import keras

    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def frozen_heap():
    """The test process' heap frozen for a test that runs Keras Tuner's own tuners.

    Keras Tuner calls ``keras.backend.clear_session()`` before every trial, and that runs a full
    ``gc.collect()``; in a test process that has traced hundreds of models it walks all of them
    (a KT test took 8-10 s inside the suite and 2 s alone). ``tfgenopt.tuning.search`` freezes
    the heap for its trials with ``tuning.search._frozen_heap``; tests that drive
    ``keras_tuner``'s tuners directly get the same context here. Imported here, not at the top:
    this file must not import TensorFlow (see above).
    """
    from tfgenopt.tuning.search import _frozen_heap

    with _frozen_heap():
        yield


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


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory):
    """``(exit code, run dir)`` of one ``tfgenopt demo --quick --epochs 3`` for the whole run.

    Under pytest-xdist every worker gets the same run directory: the first worker to take the
    lock runs the demo (about a minute), the others wait and reuse it. Read-only for tests.
    """
    import fcntl
    import json

    from tfgenopt.cli import main

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by the workers of this session
    out, done = root / "quick_demo", root / "quick_demo.json"
    with open(root / "quick_demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            code = main(["demo", "--quick", "--epochs", "3", "--out", str(out), "-v", "0"])
            done.write_text(json.dumps({"code": code}))
        fcntl.flock(lock, fcntl.LOCK_UN)
    return json.loads(done.read_text())["code"], out


def pytest_terminal_summary(terminalreporter):
    """Say in one visible line when the report's browser check did not run."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if "test_report_browser" in getattr(r, "nodeid", "")]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser checks of the report (tests/test_report_browser.py) "
            "were SKIPPED: Chromium is not installed (apt-get install chromium).",
            yellow=True, bold=True)

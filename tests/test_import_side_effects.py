"""``import tfgenopt`` has no side effects and is the same in every process; the command's own
entry module (``_tfgenopt_entry``) quiets TensorFlow's start-up for its process only."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
INLINE = "module://matplotlib_inline.backend_inline"
# Every public submodule, so that nothing is left unimported by laziness.
IMPORT_ALL = ("import tfgenopt\n"
              "for name in tfgenopt.__all__:\n"
              "    getattr(tfgenopt, name)\n"
              "import tfgenopt.cli, tfgenopt.cli.train, tfgenopt.demo, tfgenopt.report\n")


def _env(**extra):
    """The test process' environment without the variables under test."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND")}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def _python(code, env=None):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env or _env(), cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """One fresh Python process, as a notebook user's: the properties the tests below read.

    It runs as a console script would (``sys.argv[0]`` is ``/usr/bin/tfgenopt``: the import
    used to defer the submodules there), selects the notebook's inline backend and imports
    pyplot before anything else, imports TensorFlow, Keras and Keras Tuner (they may set
    variables of their own), then ``import tfgenopt`` and, before any tfgenopt name is touched,
    ``keras.saving.load_model`` of a GAN saved by this process; then every public submodule;
    last, what ``python -m tfgenopt --version`` runs (``tfgenopt/__main__.py`` through runpy;
    one process for all of it: each costs a TensorFlow start-up).
    """
    import tfgenopt as tg

    path = tmp_path_factory.mktemp("fresh") / "gan.keras"
    g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=64)
    d = tg.builders.dense_discriminator(input_dim=64, hidden=(8,))
    gan = tg.models.GAN(g, d, latent_dim=4)
    gan.compile()
    gan.save(path)
    out = _python("import sys; sys.argv = ['/usr/bin/tfgenopt', 'demo']\n"
                  "import json, os, matplotlib\n"
                  f"matplotlib.use({INLINE!r})\n"
                  "import matplotlib.pyplot as plt\n"
                  "import tensorflow, keras, keras_tuner\n"
                  "before = dict(os.environ)\n"
                  "import tfgenopt\n"
                  "tf_loaded = 'tensorflow' in sys.modules\n"
                  "tuning_loaded = 'tfgenopt.tuning' in sys.modules\n"
                  "registered = keras.saving.get_registered_object('tfgenopt>GAN') is "
                  "tfgenopt.models.GAN\n"
                  f"loaded = type(keras.saving.load_model({str(path)!r})).__name__\n"
                  "backend_after_import = matplotlib.get_backend()\n"
                  + IMPORT_ALL +
                  "after = dict(os.environ)\n"
                  "fig = tfgenopt.plotting.plot_schedule(lambda step: 0.1, 5)\n"
                  # `python -m tfgenopt --version`: runpy is what `-m` runs
                  "import contextlib, io, runpy\n"
                  "buf, sys.argv = io.StringIO(), ['tfgenopt', '--version']\n"
                  "try:\n"
                  "    with contextlib.redirect_stdout(buf):\n"
                  "        runpy.run_module('tfgenopt', run_name='__main__', alter_sys=True)\n"
                  "    dash_m_exit = None\n"
                  "except SystemExit as exit:\n"
                  "    dash_m_exit = exit.code\n"
                  "print(json.dumps({'backend': matplotlib.get_backend(),\n"
                  "    'backend_after_import': backend_after_import,\n"
                  "    'figure_base': type(fig).__mro__[1].__name__,\n"
                  "    'environ_changes': {k: [before.get(k), after.get(k)] for k in\n"
                  "                        set(before) | set(after) if before.get(k) != after.get(k)},\n"
                  "    'pyplot_figures': plt.get_fignums(),\n"
                  "    'renders_png': fig._repr_png_()[:4] == b'\\x89PNG',\n"
                  "    'loaded': loaded, 'tensorflow': tf_loaded, 'tuning': tuning_loaded,\n"
                  "    'registered': registered, 'dash_m_exit': dash_m_exit,\n"
                  "    'dash_m_stdout': buf.getvalue()}))\n")
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_keeps_a_notebook_users_inline_backend(fresh):
    assert fresh["backend_after_import"] == fresh["backend"] == INLINE
    assert fresh["figure_base"] == "Figure"


def test_import_leaves_os_environ_unchanged(fresh):
    assert fresh["environ_changes"] == {}


def test_keras_load_model_works_right_after_import_tfgenopt(fresh):
    assert fresh["loaded"] == "GAN"  # no tfgenopt name touched before load_model


def test_import_is_the_same_in_the_command_lines_process(fresh):
    # It used to defer the submodules when sys.argv[0] was the console script.
    assert fresh["tensorflow"] and fresh["tuning"] and fresh["registered"]


def test_python_dash_m_tfgenopt_runs_the_command(fresh):
    assert fresh["dash_m_exit"] == 0 and fresh["dash_m_stdout"].startswith("tfgenopt ")


def test_figures_are_not_registered_with_pyplot(fresh):
    # Keras imports pyplot itself; our figures must stay out of its registry (never auto-shown,
    # never leaked) and render on their own.
    assert fresh["pyplot_figures"] == [] and fresh["renders_png"]


@pytest.mark.slow  # a fresh process of its own: the fixture above checks the same backend
def test_the_issue_one_liner_prints_the_inline_backend():
    out = _python("import matplotlib; matplotlib.use('module://matplotlib_inline.backend_inline');"
                  " import tfgenopt; print(matplotlib.get_backend())")
    assert out.stdout.strip() == INLINE


# The console script's process: `from _tfgenopt_entry import main; sys.exit(main())`. It records
# the order in which TensorFlow and tfgenopt are first imported (an import hook), so one process
# (one TensorFlow start-up) checks the entry module's order and the quiet start-up.
CONSOLE_SCRIPT = """
import sys
order = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name in ("tensorflow", "tfgenopt") and name not in order:
            order.append(name)
sys.meta_path.insert(0, Spy())
import _tfgenopt_entry
print("after entry import:", "tfgenopt" in sys.modules, "tensorflow" in sys.modules)
sys.argv = ["tfgenopt", *sys.argv[1:]]
try:
    code = _tfgenopt_entry.main()
finally:
    print("import order:", *order)
sys.exit(code)
"""


def _console_script(argv, tmp_path):
    env = _env(CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", CONSOLE_SCRIPT, *argv], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def console_train(tmp_path_factory):
    """One ``tfgenopt train autoencoder`` run as the console script runs it."""
    tmp = tmp_path_factory.mktemp("console")
    return _console_script(["train", "autoencoder", "--image-size", "8", "--epochs", "1",
                            "-v", "0", "--out", str(tmp / "run")], tmp)


def test_the_command_entry_imports_tensorflow_before_tfgenopt(console_train):
    lines = console_train.stdout.splitlines()
    assert lines[0] == "after entry import: False False"  # standard library only
    assert lines[-1] == "import order: tensorflow tfgenopt"


def _no_cuda_lines(stderr):
    return [line for line in stderr.splitlines() if re.search(r"cuda|cuinit", line, re.I)]


def test_cli_prints_no_cuda_lines_without_a_gpu(console_train):
    assert _no_cuda_lines(console_train.stderr) == [], console_train.stderr[-3000:]


@pytest.mark.slow  # train's start-up (above) is the same
def test_cli_version_prints_no_cuda_lines_without_a_gpu(tmp_path):
    # `python -m _tfgenopt_entry` is what `python -m` of the entry module runs.
    env = _env(CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-m", "_tfgenopt_entry", "--version"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert _no_cuda_lines(out.stderr) == [], out.stderr[-3000:]


@pytest.mark.parametrize("line,noise", [
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
     True),
    ("I0000 00:00:1796119598.534514    4730 cudart_stub.cc:31] Could not find cuda drivers on "
     "your machine, GPU will not be used.", True),
    ("E0000 00:00:1796119601.573225    4730 cuda_platform.cc:52] failed call to cuInit: "
     "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)", True),
    ("I0000 00:00:1796119598.534248    4730 port.cc:153] oneDNN custom operations are on.", True),
    ("E0000 00:00:1796119601.573225    4730 bfc_allocator.cc:485] Allocator ran out of memory",
     False),
    ("Traceback (most recent call last):", False)])
def test_cli_filters_only_tensorflows_start_up_noise(line, noise):
    from _tfgenopt_entry import TF_NOISE

    assert bool(TF_NOISE.search(line)) is noise

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
              "import tfgenopt.cli, tfgenopt.commands, tfgenopt.demo, tfgenopt.report\n")


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


def test_import_keeps_a_notebook_users_inline_backend():
    out = _python("import matplotlib\n"
                  f"matplotlib.use({INLINE!r})\n"
                  "import matplotlib.pyplot\n"
                  + IMPORT_ALL +
                  "fig = tfgenopt.plotting.plot_schedule(lambda step: 0.1, 5)\n"
                  "print(matplotlib.get_backend(), type(fig).__mro__[1].__name__)\n")
    assert out.stdout.split() == [INLINE, "Figure"]


def test_the_issue_one_liner_prints_the_inline_backend():
    out = _python("import matplotlib; matplotlib.use('module://matplotlib_inline.backend_inline');"
                  " import tfgenopt; print(matplotlib.get_backend())")
    assert out.stdout.strip() == INLINE


def test_import_leaves_os_environ_unchanged():
    # TensorFlow, Keras and Keras Tuner may set variables of their own: import them first.
    out = _python("import os, json\n"
                  "import tensorflow, keras, keras_tuner, matplotlib\n"
                  "before = dict(os.environ)\n"
                  + IMPORT_ALL +
                  "after = dict(os.environ)\n"
                  "print(json.dumps({k: [before.get(k), after.get(k)] for k in set(before) | "
                  "set(after) if before.get(k) != after.get(k)}))\n")
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {}


def test_keras_load_model_works_right_after_import_tfgenopt(tmp_path):
    path = tmp_path / "gan.keras"
    _python("import tfgenopt as tg\n"
            "g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=64)\n"
            "d = tg.builders.dense_discriminator(input_dim=64, hidden=(8,))\n"
            "gan = tg.models.GAN(g, d, latent_dim=4); gan.compile()\n"
            f"gan.save({str(path)!r})\n")
    out = _python("import keras, tfgenopt\n"  # a fresh process: no tfgenopt name touched
                  f"print(type(keras.saving.load_model({str(path)!r})).__name__)")
    assert out.stdout.strip().splitlines()[-1] == "GAN"


def test_import_is_the_same_in_the_command_lines_process():
    # It used to defer the submodules when sys.argv[0] was the console script.
    out = _python("import sys; sys.argv = ['/usr/bin/tfgenopt', 'demo']\n"
                  "import keras, tfgenopt\n"
                  "print('tensorflow' in sys.modules, 'tfgenopt.tuning' in sys.modules,\n"
                  "      keras.saving.get_registered_object('tfgenopt>GAN') is tfgenopt.models.GAN)")
    assert out.stdout.split() == ["True", "True", "True"]


def test_the_command_entry_imports_tensorflow_before_tfgenopt():
    out = _python("import sys, _tfgenopt_entry\n"
                  "print('tfgenopt' in sys.modules, 'tensorflow' in sys.modules)\n"
                  "_tfgenopt_entry.import_tensorflow_quietly()\n"
                  "print('tfgenopt' in sys.modules, 'tensorflow' in sys.modules)")
    assert out.stdout.split() == ["False", "False", "False", "True"]


def test_figures_are_not_registered_with_pyplot():
    # Keras imports pyplot itself; our figures must stay out of its registry (never auto-shown,
    # never leaked) and render on their own.
    out = _python(IMPORT_ALL +
                  "import matplotlib.pyplot as plt\n"
                  "fig = tfgenopt.plotting.plot_schedule(lambda step: 0.1, 5)\n"
                  "print(plt.get_fignums(), fig._repr_png_()[:4] == b'\\x89PNG')")
    assert out.stdout.split() == ["[]", "True"]


@pytest.mark.parametrize("argv", [["--version"],
                                  ["train", "autoencoder", "--image-size", "8", "--epochs", "1",
                                   "-v", "0"]], ids=["version", "train"])
def test_cli_prints_no_cuda_lines_without_a_gpu(argv, tmp_path):
    # `python -m _tfgenopt_entry` is what the `tfgenopt` console script runs.
    env = _env(CUDA_VISIBLE_DEVICES="")
    if argv[0] == "train":
        argv = [*argv, "--out", str(tmp_path / "run")]
    out = subprocess.run([sys.executable, "-m", "_tfgenopt_entry", *argv], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    noisy = [line for line in out.stderr.splitlines() if re.search(r"cuda|cuinit", line, re.I)]
    assert noisy == [], out.stderr[-3000:]


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

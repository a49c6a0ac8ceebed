"""The ``tfgenopt`` command's start-up: TensorFlow imported quietly, then ``tfgenopt.cli``.

``import tfgenopt`` imports every submodule, and so TensorFlow, the same way in every process.
On a machine without a GPU TensorFlow writes start-up lines to stderr (the CUDA probe); they
are not errors of the command. This module is the console script's entry point and lives
outside the ``tfgenopt`` package, so that it runs *before* ``import tfgenopt``: :func:`main`
sets ``TF_CPP_MIN_LOG_LEVEL=2`` for the command's own process (unless already set), imports
TensorFlow and probes its devices with stderr captured, passes on every captured line but the
known start-up noise (TensorFlow 2.21 writes its import-time lines whatever the level), and
then runs :func:`tfgenopt.cli.main`. ``TF_CPP_MIN_LOG_LEVEL=0`` shows everything.

``python -m _tfgenopt_entry`` is the quiet command too; ``python -m tfgenopt`` runs the same
command after ``import tfgenopt``, so it shows TensorFlow's import-time lines (its later device
probe is still filtered). Standard library only until TensorFlow loads.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["main", "TF_NOISE"]

# TensorFlow's start-up lines on a machine without a GPU (not errors of the command).
TF_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations|cudart_stub|"
    r"cuda drivers|cuInit|cuda_platform|cpu_feature_guard|To enable the following instructions|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|TF-TRT Warning",
    re.IGNORECASE)

_probed = []


def import_tensorflow_quietly():
    """Import TensorFlow and probe its devices with fd 2 captured; replay all but the noise.

    Runs once per process; nothing is captured with ``TF_CPP_MIN_LOG_LEVEL=0`` or without a
    stderr file descriptor.
    """
    if _probed or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        return
    _probed.append(True)
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr file descriptor (a GUI launcher): nothing to keep clean
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the CUDA probe (cuInit) runs here, once
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not TF_NOISE.search(line):
                    print(line, file=sys.stderr)


def main(argv=None):
    """Entry point of the ``tfgenopt`` console script; returns the exit code.

    Args:
        argv: the arguments after the command name (None: ``sys.argv[1:]``).

    Returns:
        The exit code of :func:`tfgenopt.cli.main` (0 on success, 2 for a user mistake).
    """
    # Before TensorFlow loads (it reads this once, at import): no CUDA-probe noise on CPU.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import_tensorflow_quietly()
    from tfgenopt.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())

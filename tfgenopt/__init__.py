"""tfgenopt: train, diagnose and tune generative Keras models (GANs, VAEs, autoencoders).

``import tfgenopt`` sets no environment variable and switches no matplotlib backend. It loads
every submodule, which registers tfgenopt's Keras serializable classes, so
``keras.saving.load_model("gan.keras")`` works right after ``import tfgenopt`` in a fresh
process, as Keras users expect. The one exception is the ``tfgenopt`` command's own process
(the console script or ``python -m tfgenopt``): there the submodules load on first use, so
that the command can import TensorFlow itself with its start-up noise filtered
(``tfgenopt.cli``).
"""

import importlib as _importlib
import os as _os
import sys as _sys

from tfgenopt.version import __version__

# Public submodules, imported on first attribute access (PEP 562).
_SUBMODULES = ("data", "builders", "models", "losses", "schedules", "callbacks", "landscape",
               "evaluation", "tuning", "plotting", "catalog", "layers", "augment")
# Public names defined in a submodule: {name: submodule}.
_NAMES = {"lr_find": "tfgenopt.callbacks.lr"}

__all__ = ["__version__", "data", "builders", "models", "losses", "schedules", "callbacks",
           "landscape", "evaluation", "tuning", "plotting", "catalog", "layers", "augment",
           "lr_find"]


def _in_the_command_line():
    """True in the ``tfgenopt`` command's own process (console script or ``python -m``)."""
    if _sys.argv and _os.path.basename(_sys.argv[0]) in ("tfgenopt", "tfgenopt.exe"):
        return True
    argv = list(getattr(_sys, "orig_argv", ()))
    return any(a == "-m" and b == "tfgenopt" for a, b in zip(argv, argv[1:]))


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f"tfgenopt.{name}")
    if name in _NAMES:
        value = getattr(_importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tfgenopt' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


if not _in_the_command_line():
    for _name in _SUBMODULES:  # registers the serializable classes with Keras
        globals()[_name] = _importlib.import_module(f"tfgenopt.{_name}")

"""tfgenopt: train, diagnose and tune generative Keras models (GANs, VAEs, autoencoders).

``import tfgenopt`` has no side effects: it sets no environment variable, switches no
matplotlib backend and does not import TensorFlow. Each submodule (``tfgenopt.models``,
``tfgenopt.callbacks``...) is imported on first use, which also registers its Keras
serializable classes: touch it (``tg.models``) or import it (``import tfgenopt.models``) before
``keras.saving.load_model`` in a fresh process.
"""

import importlib as _importlib

from tfgenopt.version import __version__

# Public submodules, imported on first attribute access (PEP 562).
_SUBMODULES = ("data", "builders", "models", "losses", "schedules", "callbacks", "landscape",
               "evaluation", "tuning", "plotting", "catalog", "layers", "augment")
# Public names defined in a submodule: {name: submodule}.
_NAMES = {"lr_find": "tfgenopt.callbacks.lr"}

__all__ = ["__version__", "data", "builders", "models", "losses", "schedules", "callbacks",
           "landscape", "evaluation", "tuning", "plotting", "catalog", "layers", "augment",
           "lr_find"]


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

"""tfgenopt: train, diagnose and tune generative Keras models (GANs, VAEs, autoencoders)."""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfgenopt import (  # noqa: E402
    builders,
    callbacks,
    data,
    evaluation,
    landscape,
    losses,
    models,
    plotting,
    schedules,
    tuning,
)
from tfgenopt.callbacks.lr import lr_find  # noqa: E402
from tfgenopt.version import __version__  # noqa: E402

__all__ = ["__version__", "data", "builders", "models", "losses", "schedules", "callbacks",
           "landscape", "evaluation", "tuning", "plotting", "lr_find"]

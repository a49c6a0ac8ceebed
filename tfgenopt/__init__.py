"""tfgenopt: train, diagnose and tune generative Keras models (GANs, VAEs, diffusion, autoencoders).

``import tfgenopt`` does the same in every process: it imports every submodule (and so Keras and
TensorFlow), which registers tfgenopt's Keras serializable classes, so
``keras.saving.load_model("gan.keras")`` works right after ``import tfgenopt`` in a fresh
process, as Keras users expect. It sets no environment variable and switches no matplotlib
backend. The ``tfgenopt`` command quiets TensorFlow's start-up in its own entry module, which
runs before this one (``_tfgenopt_entry``).
"""

from tfgenopt import (  # every public submodule: registers the serializable classes
    augment,
    builders,
    callbacks,
    catalog,
    data,
    diffusion,
    distribute,
    evaluation,
    landscape,
    layers,
    losses,
    models,
    plotting,
    schedules,
    tuning,
)
from tfgenopt.callbacks.lr import lr_find
from tfgenopt.comparison import compare
from tfgenopt.version import __version__

__all__ = ["__version__", "data", "builders", "models", "losses", "schedules", "callbacks",
           "landscape", "evaluation", "tuning", "plotting", "catalog", "layers", "augment",
           "distribute", "diffusion", "lr_find", "compare"]

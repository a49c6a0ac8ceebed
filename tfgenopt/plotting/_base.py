"""Shared figure plumbing: headless Agg figures, saving, array conversion."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def new_figure(nrows=1, ncols=1, figsize=None, **kwargs):
    """A new ``Figure`` and its axes, never shown (Agg), closed from pyplot's registry."""
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, **kwargs)
    plt.close(fig)
    return fig, axes


def save_figure(fig, path, dpi=100):
    """Save ``fig`` as PNG at ``path`` (folders created) and return the path."""
    import os

    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def to_numpy(x):
    """Convert a tensor or array-like to a NumPy array."""
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)

"""Shared figure plumbing: standalone figures, saving, array conversion.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot: no backend is selected
or switched, nothing is registered with pyplot (so nothing needs closing), and a notebook
displays a returned figure with whatever backend its user chose.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure


class _Figure(Figure):
    """A ``Figure`` that also shows itself in a notebook when pyplot was never imported."""

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def new_figure(nrows=1, ncols=1, figsize=None, **kwargs):
    """A new standalone ``Figure`` and its axes (``Figure.subplots``; pyplot is not used).

    The figure renders itself as PNG in a notebook (``_repr_png_``), whatever the backend.

    Args:
        nrows, ncols: the grid of axes.
        figsize: ``(width, height)`` in inches (default: matplotlib's ``figure.figsize``).
        **kwargs: passed to ``Figure.subplots`` (``sharex``, ``squeeze``, ``gridspec_kw``...).

    Returns:
        ``(figure, axes)`` as ``pyplot.subplots`` returns them.

    Example:
        >>> import matplotlib.figure
        >>> fig, ax = new_figure(figsize=(2, 2))
        >>> isinstance(fig, matplotlib.figure.Figure), len(fig.axes)
        (True, 1)
    """
    fig = _Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


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

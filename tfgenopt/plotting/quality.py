"""Figures of sample quality across epochs: FID, KID (with its std band), coverage, precision."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from tfgenopt import catalog
from tfgenopt.plotting._base import new_figure

__all__ = ["plot_quality", "plot_quality_vs_time"]

# QualityMonitor's keys, from the catalog (``val_kid_std`` is drawn as the band around KID).
_QUALITY_KEYS = tuple(k for k in catalog.keys_by_producer("tfgenopt.callbacks.QualityMonitor")
                      if k != "val_kid_std")


def _series(source):
    """``{key: (epochs, values)}`` from a QualityMonitor, a History or a logs-history dict."""
    history = getattr(source, "history", source)
    epochs = getattr(source, "evaluated_epochs", None)
    if not isinstance(history, dict):
        raise TypeError("`history` must be a QualityMonitor, a keras History or a dict of lists; "
                        f"received {type(source).__name__}.")
    out = {}
    for key, values in history.items():
        values = np.asarray(values, dtype=float)
        x = np.asarray(epochs, dtype=int) if epochs is not None else np.arange(len(values))
        out[key] = (x[: len(values)] + 1, values)
    return out


def plot_quality(history, keys=None, title=None):
    """Plot quality metrics across epochs, one panel per metric (KID with a +-std band).

    Args:
        history: a ``QualityMonitor`` (plots only freshly measured epochs), a
            ``keras.callbacks.History`` or its ``.history`` dict.
        keys: the ``val_*`` keys to draw; default: every quality key present.
        title: optional figure title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_quality({"val_fid": [9.0, 5.0, 4.0], "val_kid": [0.3, 0.1, 0.05],
        ...                     "val_kid_std": [0.05, 0.03, 0.02]})
    """
    series = _series(history)
    keys = list(keys) if keys is not None else [k for k in _QUALITY_KEYS if k in series]
    missing = [k for k in keys if k not in series]
    if missing or not keys:
        raise ValueError(f"`keys` {missing or keys!r} not found; available: {sorted(series)}.")
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        x, y = series[key]
        ax.plot(x, y, "o-", ms=3, label=key)
        std_key = f"{key}_std"
        if std_key in series:
            _, s = series[std_key]
            ax.fill_between(x, y - s, y + s, alpha=0.25, label="+-std")
        if np.any(np.isfinite(y)):
            found = catalog.metric(key)  # the catalog's direction marks the best epoch
            lower_is_better = found is not None and found.direction == "min"
            best = int(np.nanargmin(y) if lower_is_better else np.nanargmax(y))
            ax.plot(x[best], y[best], "*", ms=10, color="tab:red", label="best")
        ax.set_title(key.removeprefix("val_"))
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_quality_vs_time(curves, keys=("val_fid", "val_kid"), title=None):
    """Quality against training CPU time, one line per run, one panel per metric.

    Args:
        curves: ``{name: [{"cpu_s": seconds, key: value, ...}, ...]}`` (e.g. each model
            family's ``tfgenopt.callbacks.CPUBudget.records``).
        keys: the metric keys to draw (those no run has are left out).
        title: optional figure title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_quality_vs_time({"gan": [{"cpu_s": 1.0, "val_fid": 9.0},
        ...                                     {"cpu_s": 2.0, "val_fid": 5.0}],
        ...                             "vae": [{"cpu_s": 1.5, "val_fid": 7.0}]})
        >>> [ax.get_xlabel() for ax in fig.axes], len(fig.axes[0].lines)
        (['training CPU seconds'], 2)
    """
    if not isinstance(curves, dict) or not curves:
        raise TypeError(f"`curves` must be a non-empty dict {{name: [records]}}; received "
                        f"{type(curves).__name__}.")
    keys = [k for k in keys if any(k in r for rs in curves.values() for r in rs)]
    if not keys:
        raise ValueError("`keys`: no run has any of the keys asked for.")
    fig, axes = new_figure(1, len(keys), figsize=(4.6 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes.ravel(), keys):
        for name, records in curves.items():
            pts = [(r["cpu_s"], r[key]) for r in records
                   if r.get(key) is not None and np.isfinite(r[key])]
            if pts:
                x, y = zip(*pts)
                ax.plot(x, y, "o-", ms=4, label=name)
        found = catalog.metric(key)
        better = "" if found is None else (" (lower is better)" if found.direction == "min"
                                           else " (higher is better)")
        ax.set_title(key.removeprefix("val_") + better)
        ax.set_xlabel("training CPU seconds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

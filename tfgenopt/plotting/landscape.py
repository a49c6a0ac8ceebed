"""Figures of the loss landscape: slices across epochs, surfaces, trajectories, curvature."""

from __future__ import annotations

import matplotlib.cm as cm
import numpy as np
from matplotlib.ticker import MaxNLocator

from tfgenopt.plotting._base import new_figure

__all__ = ["plot_slices", "plot_surface", "plot_surface_3d", "plot_curvature",
           "plot_path_angle"]


def _records(history):
    """Accept a ``LossLandscape`` callback, its ``history`` list, or one result dict."""
    history = getattr(history, "history", history)
    if isinstance(history, dict):
        return [{"epoch": None, "logs": {}, "slices": {"model": history}, "surfaces": {}}]
    return list(history)


def _surface_values(surface, key, log):
    """The drawn values of a ``surface_2d`` result, ``log`` of them (floored at 1e-12) if asked."""
    z = np.asarray(surface[key], dtype=float)
    return np.log(np.maximum(z, 1e-12)) if log else z


def _label_directions(ax):
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")


def plot_slices(history, player=None, key="loss", title=None):
    """1-D loss slices, one curve per probed epoch (darker = later).

    Args:
        history: a ``LossLandscape`` callback, its ``history``, or one ``slice_1d`` result.
        player: which slices (``"model"``, ``"discriminator"``, ``"generator"``); default the
            first recorded.
        key: the value drawn (``"loss"`` or a metric name).
        title: the axes title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> import numpy as np
        >>> fig = plot_slices({"alphas": np.linspace(-1, 1, 5), "loss": np.arange(5.0)})
    """
    records = [r for r in _records(history) if r["slices"]]
    if not records:
        raise ValueError("`history` holds no 1-D slices (probe with kind='1d').")
    player = player or next(iter(records[0]["slices"]))
    fig, ax = new_figure(figsize=(6, 4))
    colors = cm.viridis(np.linspace(0.15, 0.95, len(records)))
    for color, record in zip(colors, records):
        s = record["slices"].get(player)
        if s is None:
            continue
        label = f"epoch {record['epoch']}" if record["epoch"] is not None else player
        ax.plot(s["alphas"], s[key], color=color, label=label)
    ax.set_xlabel("alpha (filter-normalized direction)")
    ax.set_ylabel(key)
    ax.set_title(title or f"1-D slices ({player})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def plot_surface(surface, key="loss", trajectory=None, levels=30, log=False, title=None):
    """Contour of a 2-D surface, optionally with a trajectory projected on its plane.

    Args:
        surface: a ``surface_2d`` result (``alphas``, ``betas``, ``loss``).
        key: the value drawn.
        trajectory: ``(T, 2)`` coordinates to draw on top (e.g. ``trajectory_pca(...).coords``
            with a surface computed on the PCA directions).
        levels: number of contour levels.
        log: draw ``log(value)`` (for losses spanning decades).
        title: the axes title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> import numpy as np
        >>> a = np.linspace(-1, 1, 5)
        >>> fig = plot_surface({"alphas": a, "betas": a, "loss": np.add.outer(a**2, a**2)})
    """
    z = _surface_values(surface, key, log)
    fig, ax = new_figure(figsize=(5.5, 4.5))
    cs = ax.contour(surface["alphas"], surface["betas"], z, levels=levels, cmap="viridis")
    fig.colorbar(cs, ax=ax, label=f"log {key}" if log else key)
    ax.plot([0], [0], "k+", markersize=10)
    if trajectory is not None:
        t = np.asarray(trajectory, dtype=float)
        ax.plot(t[:, 0], t[:, 1], "o-", color="tab:red", markersize=3, label="trajectory")
        ax.legend(fontsize=8)
    _label_directions(ax)
    ax.set_title(title or f"{key} surface")
    return fig


def plot_surface_3d(surface, key="loss", log=False, title=None):
    """A 3-D surface plot of a ``surface_2d`` result.

    Args:
        surface: a ``surface_2d`` result.
        key: the value drawn.
        log: draw ``log(value)``.
        title: the axes title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> import numpy as np
        >>> a = np.linspace(-1, 1, 5)
        >>> fig = plot_surface_3d({"alphas": a, "betas": a, "loss": np.add.outer(a**2, a**2)})
    """
    z = _surface_values(surface, key, log)
    fig, _ = new_figure(figsize=(6, 5))
    fig.clf()
    ax = fig.add_subplot(projection="3d")
    aa, bb = np.meshgrid(surface["alphas"], surface["betas"])
    ax.plot_surface(aa, bb, z, cmap="viridis", linewidth=0, antialiased=True)
    _label_directions(ax)
    ax.set_zlabel(f"log {key}" if log else key)
    ax.set_title(title or f"{key} surface")
    return fig


def plot_curvature(history, keys=None, title=None, ncols=None):
    """Curvature figures across epochs: one panel per logged key (trace with its CI band).

    Args:
        history: a ``LossLandscape`` callback or its ``history`` list.
        keys: the scalar keys drawn (default every key the probes logged, ``*_std`` drawn as
            bands of their base key).
        title: the figure title.
        ncols: panels per row (default: all in one row).

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_curvature([{"epoch": 1, "logs": {"hessian_top": 2.0}},
        ...                       {"epoch": 2, "logs": {"hessian_top": 3.0}}])
    """
    records = [r for r in _records(history) if r.get("logs")]
    if not records:
        raise ValueError("`history` holds no scalar probes (kind 'hessian', 'trace', ...).")
    all_keys = []
    for r in records:
        all_keys += [k for k in r["logs"] if k not in all_keys]
    keys = list(keys) if keys else [k for k in all_keys if not k.endswith("_std")]
    ncols = min(ncols or len(keys), len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4 * ncols, 3.2 * nrows), squeeze=False)
    for ax in axes.ravel()[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(axes.ravel(), keys):
        epochs = [r["epoch"] for r in records if key in r["logs"]]
        values = np.array([r["logs"][key] for r in records if key in r["logs"]], dtype=float)
        ax.plot(epochs, values, "o-")
        std_key = f"{key}_std"
        if std_key in all_keys:
            std = np.array([r["logs"].get(std_key, np.nan) for r in records if key in r["logs"]])
            ax.fill_between(epochs, values - 1.96 * std, values + 1.96 * std, alpha=0.25)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(key)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    if nrows > 1:
        fig.tight_layout()
    return fig


def plot_path_angle(result, title=None):
    """The path-angle figure of a game: cosine and field norm along the checkpoint path.

    Args:
        result: a ``path_angle`` result (``alphas``, ``cosine``, ``norm``).
        title: the figure title.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> import numpy as np
        >>> fig = plot_path_angle({"alphas": np.linspace(0, 1.5, 4), "cosine": np.zeros(4),
        ...                        "norm": np.ones(4)})
    """
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(9, 3.2))
    ax1.plot(result["alphas"], result["cosine"], "o-")
    ax1.axhline(0.0, color="grey", lw=0.8)
    ax1.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax1.set_ylim(-1.05, 1.05)
    ax1.set_xlabel("alpha (A -> B)")
    ax1.set_title("cos(field, path)")
    ax2.plot(result["alphas"], result["norm"], "o-", color="tab:orange")
    ax2.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax2.set_xlabel("alpha (A -> B)")
    ax2.set_title("|joint gradient field|")
    if title:
        fig.suptitle(title)
    return fig

"""Figures of hyperparameter searches: objective vs trial and vs each hyperparameter,
learning curves of the top trials, and a side-by-side optimizer comparison.

The functions take plain data (the trial table as a list of dicts, histories as
``{label: {metric: [values]}}``) so they work on any search, saved or live.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tfgenopt.plotting._base import new_figure

__all__ = [
    "plot_objective_vs_trial",
    "plot_objective_vs_hyperparameters",
    "plot_learning_curves",
    "plot_optimizer_comparison",
    "plot_parallel_coordinates",
    "plot_hyperparameter_importance",
]

_SKIP = {"trial_id", "status", "score", "best_step", "tuner_id", "pruned_at_epoch"}
_LOG_NAMES = ("learning_rate", "lr")


def _scored(trials):
    return [t for t in trials if t.get("score") is not None and t.get("status") == "COMPLETED"]


def plot_objective_vs_trial(trials, objective="objective", direction="min"):
    """Plot each completed trial's objective in start order, with the best-so-far line.

    Args:
        trials: the trial table (``SearchResult.trials``): dicts with ``trial_id``,
            ``status`` and ``score``.
        objective: the objective's name (axis label).
        direction: ``"min"`` or ``"max"`` (for the best-so-far line).

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_objective_vs_trial(
        ...     [{"trial_id": "0", "status": "COMPLETED", "score": 0.3}], "val_loss")
    """
    fig, ax = new_figure(figsize=(6, 3.5))
    done = _scored(trials)
    xs = np.arange(len(done))
    ys = np.array([t["score"] for t in done], dtype=float)
    if len(ys):
        best = np.minimum.accumulate(ys) if direction == "min" else np.maximum.accumulate(ys)
        ax.plot(xs, ys, "o", label="trial")
        ax.plot(xs, best, "-", label="best so far")
        ax.set_xticks(xs)
        ax.set_xticklabels([t["trial_id"] for t in done], rotation=90 if len(xs) > 12 else 0)
        ax.legend()
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"{objective} per trial")
    return fig


def hyperparameter_names(trials):
    """The hyperparameter columns of a trial table that vary across trials."""
    names = []
    for t in trials:
        for k in t:
            if k not in _SKIP and not k.startswith("metric/") and k not in names:
                names.append(k)
    return [n for n in names if len({repr(t.get(n)) for t in trials}) > 1]


def _is_numeric(values):
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)


def plot_objective_vs_hyperparameters(trials, objective="objective", names=None):
    """Scatter the objective against each hyperparameter (log axis for learning rates).

    Numeric hyperparameters get a numeric axis (logarithmic for names containing
    ``learning_rate`` or ``lr``, or when the values span more than two decades); choices
    such as the optimizer get a categorical axis.

    Args:
        trials: the trial table.
        objective: the objective's name (axis label).
        names: hyperparameters to plot; default: every one that varies.

    Returns:
        A ``matplotlib.figure.Figure`` with one panel per hyperparameter.

    Example:
        >>> rows = [{"trial_id": str(i), "status": "COMPLETED", "score": s, "learning_rate": lr}
        ...         for i, (s, lr) in enumerate([(0.3, 1e-3), (0.2, 1e-2)])]
        >>> plot_objective_vs_hyperparameters(rows, "val_loss").axes[0].get_xscale()
        'log'
    """
    done = _scored(trials)
    names = list(names) if names is not None else hyperparameter_names(done)
    n = max(len(names), 1)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
    flat = axes.ravel()
    scores = np.array([t["score"] for t in done], dtype=float)
    for ax, name in zip(flat, names):
        values = [t.get(name) for t in done]
        if _is_numeric(values) and values:
            v = np.asarray(values, dtype=float)
            ax.plot(v, scores, "o")
            positive = np.all(v > 0)
            wide = positive and v.max() / max(v.min(), 1e-300) > 100
            if positive and (any(k in name for k in _LOG_NAMES) or wide):
                ax.set_xscale("log")
        else:
            labels = sorted({str(v) for v in values})
            pos = {label: i for i, label in enumerate(labels)}
            ax.plot([pos[str(v)] for v in values], scores, "o")
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels)
        ax.set_xlabel(name)
        ax.set_ylabel(objective)
    if not names:
        flat[0].text(0.5, 0.5, "no varying hyperparameter", ha="center", va="center")
    for ax in flat[max(len(names), 1):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_learning_curves(histories, metric="val_loss", also_train=True):
    """Plot per-epoch curves of several runs (the top trials) on one axis.

    Args:
        histories: ``{label: {metric: [per-epoch values]}}``.
        metric: the metric to draw (``val_loss``, ``val_kid``...).
        also_train: also draw the training metric (``metric`` without ``val_``) dashed.

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_learning_curves({"trial 0": {"val_loss": [0.3, 0.2]}})
    """
    fig, ax = new_figure(figsize=(6, 3.5))
    train_metric = metric[4:] if metric.startswith("val_") else None
    for i, (label, hist) in enumerate(histories.items()):
        color = f"C{i % 10}"
        if metric in hist:
            ax.plot(np.arange(1, len(hist[metric]) + 1), hist[metric], "-o", color=color,
                    label=f"{label} {metric}", markersize=3)
        if also_train and train_metric and train_metric in hist:
            ax.plot(np.arange(1, len(hist[train_metric]) + 1), hist[train_metric], "--",
                    color=color, label=f"{label} {train_metric}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title("learning curves of the top trials")
    if histories:
        ax.legend(fontsize="small")
    return fig


def plot_optimizer_comparison(histories, metrics=("loss", "val_loss")):
    """Side-by-side panels, one per metric, with one curve per optimizer.

    Args:
        histories: ``{optimizer name: {metric: [per-epoch values]}}`` (for example from
            :func:`tfgenopt.tuning.compare_optimizers`).
        metrics: the metrics to draw, one panel each (missing ones are skipped).

    Returns:
        A ``matplotlib.figure.Figure``.

    Example:
        >>> fig = plot_optimizer_comparison({"adam": {"loss": [1.0, 0.5]},
        ...                                  "sgd": {"loss": [1.0, 0.8]}})
    """
    present = [m for m in metrics if any(m in h for h in histories.values())] or list(metrics[:1])
    fig, axes = new_figure(1, len(present), figsize=(5 * len(present), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], present):
        for i, (name, hist) in enumerate(histories.items()):
            if metric in hist:
                ax.plot(np.arange(1, len(hist[metric]) + 1), hist[metric], "-o",
                        color=f"C{i % 10}", label=name, markersize=3)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.set_yscale("log" if _all_positive(histories, metric) else "linear")
        ax.legend()
    fig.suptitle("optimizer comparison (same model, same initial weights)")
    fig.tight_layout()
    return fig


def _all_positive(histories, metric):
    vals = [v for h in histories.values() for v in h.get(metric, [])]
    return bool(vals) and min(vals) > 0


def _axis_positions(name, values):
    """Each value's height in [0, 1] on its axis, and the axis' ``(position, label)`` ticks."""
    if _is_numeric(values):
        v = np.asarray(values, dtype=float)
        positive = bool(np.all(v > 0))
        log = positive and (any(k in name for k in _LOG_NAMES) or v.max() / v.min() > 100)
        t = np.log10(v) if log else v
        lo, hi = float(t.min()), float(t.max())
        pos = (t - lo) / (hi - lo) if hi > lo else np.full(len(t), 0.5)
        ticks = [(0.0, f"{v.min():.3g}"), (1.0, f"{v.max():.3g}")] if hi > lo else \
            [(0.5, f"{v.min():.3g}")]
        return pos, ticks
    labels = sorted({str(v) for v in values})
    step = 1.0 / (len(labels) - 1) if len(labels) > 1 else 0.0
    where = {label: (i * step if len(labels) > 1 else 0.5) for i, label in enumerate(labels)}
    return np.array([where[str(v)] for v in values]), [(where[x], x) for x in labels]


def plot_parallel_coordinates(trials, objective="objective", direction="min", names=None):
    """Draw every scored trial as a line across one vertical axis per hyperparameter.

    Each axis is scaled to the trials' range (logarithmic for learning rates and values that
    span more than two decades; choices evenly spaced, in sorted order), the last axis is
    the objective, and a line's colour is its objective (bright: better). Pruned trials are
    drawn dashed.

    Args:
        trials: the trial table (``SearchResult.trials``); ``COMPLETED`` and ``PRUNED`` rows
            with a score are drawn.
        objective: the objective's name.
        direction: ``"min"`` or ``"max"`` (which end of the colour scale is better).
        names: the hyperparameter axes; default: every one that varies.

    Returns:
        A ``matplotlib.figure.Figure``: one line per trial, in table order.

    Example:
        >>> rows = [{"trial_id": str(i), "status": "COMPLETED", "score": s, "optimizer": o}
        ...         for i, (s, o) in enumerate([(0.3, "adam"), (0.2, "sgd")])]
        >>> len(plot_parallel_coordinates(rows, "val_loss").axes[0].get_lines())
        2
    """
    import matplotlib

    rows = [t for t in trials if t.get("score") is not None
            and t.get("status") in ("COMPLETED", "PRUNED") and np.isfinite(t["score"])]
    names = list(names) if names is not None else hyperparameter_names(rows)
    axes_names = names + [objective]
    fig, ax = new_figure(figsize=(max(5.0, 1.6 * len(axes_names) + 1.5), 4))
    if not rows:
        ax.text(0.5, 0.5, "no scored trial", ha="center", va="center")
        return fig
    scores = np.array([t["score"] for t in rows], dtype=float)
    columns = [_axis_positions(n, [t.get(n) for t in rows]) for n in names]
    columns.append(_axis_positions(objective, list(scores)))
    cmap = matplotlib.colormaps["viridis" if direction == "max" else "viridis_r"]
    norm = matplotlib.colors.Normalize(scores.min(), scores.max())
    xs = np.arange(len(axes_names))
    heights = np.stack([pos for pos, _ in columns], axis=1)
    for row, ys, score in zip(rows, heights, scores):
        pruned = row.get("status") == "PRUNED"
        ax.plot(xs, ys, "--" if pruned else "-", color=cmap(norm(score)), alpha=0.8,
                label=f"trial {row.get('trial_id')}" + (" (pruned)" if pruned else ""))
    ax.vlines(xs, 0, 1, color="0.4", linewidth=0.8)  # a collection: get_lines() = trials
    for x, (_, ticks) in zip(xs, columns):
        for y, text in ticks:
            ax.text(x + 0.03, y, text, fontsize="x-small", va="center")
    ax.set_xticks(xs)
    ax.set_xticklabels(axes_names, rotation=20 if len(xs) > 5 else 0)
    ax.set_yticks([])
    ax.set_xlim(-0.2, xs[-1] + 0.5)
    ax.set_ylim(-0.05, 1.05)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=objective)
    ax.set_title(f"{len(rows)} trials in parallel coordinates")
    return fig


def plot_hyperparameter_importance(importance, objective="objective"):
    """Horizontal bars of each hyperparameter's importance, largest on top.

    Args:
        importance: ``{name: value in [0, 1]}``, e.g. ``SearchResult.importance()``.
        objective: the objective's name (title).

    Returns:
        A ``matplotlib.figure.Figure`` with one bar per hyperparameter.

    Example:
        >>> fig = plot_hyperparameter_importance({"learning_rate": 0.6, "optimizer": 0.1})
        >>> [float(round(p.get_width(), 2)) for p in fig.axes[0].patches]
        [0.1, 0.6]
    """
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig, ax = new_figure(figsize=(5, 0.4 * max(len(items), 2) + 1.2))
    if items:
        ax.barh(range(len(items)), [v for _, v in items], color="C0")
        ax.set_yticks(range(len(items)))
        ax.set_yticklabels([n for n, _ in items])
    else:
        ax.text(0.5, 0.5, "fewer than 3 completed trials", ha="center", va="center")
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the objective's variance explained")
    ax.set_title(f"hyperparameter importance for {objective}")
    return fig

"""Figures of learning rates: a schedule over steps, and the LR range test (finder) curve."""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_int
from tfgenopt.plotting._base import new_figure, to_numpy

__all__ = ["schedule_values", "plot_schedule", "plot_lr_finder"]


def schedule_values(schedule, steps):
    """The learning rate of ``schedule`` at each step ``0 .. steps - 1`` as a NumPy array.

    Args:
        schedule: a ``LearningRateSchedule`` or any callable ``step -> lr``.
        steps: number of steps (>= 1), or a sequence of the steps to evaluate.

    Returns:
        ``(values, steps)``: two 1-D NumPy arrays (float64 rates, int steps).

    Example:
        >>> from tfgenopt.schedules import StepDecay
        >>> schedule_values(StepDecay(1.0, every=2), 4)[0].tolist()
        [1.0, 1.0, 0.5, 0.5]
    """
    if not callable(schedule):
        raise TypeError(f"`schedule` must be a LearningRateSchedule or callable; "
                        f"received {schedule!r}.")
    if np.ndim(steps) == 0:
        t = np.arange(check_int("steps", steps, minimum=1))
    else:
        t = np.asarray(steps, dtype=np.int64).reshape(-1)
        if t.size == 0:
            raise ValueError("`steps` must not be empty.")
    try:  # vectorized: our schedules (keras.ops) and most Keras ones accept a vector of steps
        values = to_numpy(schedule(t.astype(np.float32))).astype(np.float64).reshape(-1)
        if values.shape != t.shape:
            raise ValueError
    except Exception:  # noqa: BLE001 - fall back to one call per step
        values = np.array([float(to_numpy(schedule(int(s)))) for s in t])
    return values, t


def plot_schedule(schedule, steps, title=None, logy=False, ax=None):
    """A figure of a learning-rate schedule over training steps.

    Args:
        schedule: a ``LearningRateSchedule`` or callable ``step -> lr``.
        steps: number of steps (or the steps) to draw.
        title: figure title (default: the schedule's class name).
        logy: logarithmic learning-rate axis.
        ax: draw into this axes instead of a new figure.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:
        >>> from tfgenopt.schedules import WarmupCosine
        >>> fig = plot_schedule(WarmupCosine(1e-3, 1000, warmup_steps=100), 1000)
    """
    values, t = schedule_values(schedule, steps)
    if ax is None:
        fig, ax = new_figure(figsize=(6, 3.5))
    else:
        fig = ax.figure
    ax.plot(t, values, lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if logy:
        ax.set_yscale("log")
    ax.set_title(title or type(schedule).__name__)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_lr_finder(result, title=None, skip_start=0, skip_end=0):
    """A figure of the LR range test: smoothed loss against learning rate (log axis).

    Marks the two suggestions: the steepest descent of the smoothed loss, and the rate of the
    minimum loss divided by 10.

    Args:
        result: an ``LRFinderResult`` (from ``tfgenopt.lr_find`` or ``LRFinder.result``) or a
            dict with ``lrs``, ``losses``, ``smoothed`` and optionally ``steepest``, ``min_div10``.
        title: figure title.
        skip_start: points to leave out at the start.
        skip_end: points to leave out at the end (the divergence tail).

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:
        >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64)])
        >>> model.compile("adam", "mse")
        >>> result = tg.lr_find(model, x, x, min_lr=1e-5, max_lr=1.0, steps=20, batch_size=8,
        ...                     verbose=0)
        >>> fig = plot_lr_finder(result)
        >>> len(fig.axes)
        1
    """
    get = result.get if isinstance(result, dict) else (lambda k, d=None: getattr(result, k, d))
    lrs = np.asarray(get("lrs"), dtype=np.float64)
    raw = np.asarray(get("losses"), dtype=np.float64)
    smooth = np.asarray(get("smoothed"), dtype=np.float64)
    if lrs.size == 0:
        raise ValueError("`result` holds no points; the sweep did not run.")
    stop = lrs.size - int(skip_end)
    sl = slice(int(skip_start), max(stop, int(skip_start) + 1))
    fig, ax = new_figure(figsize=(6, 4))
    ax.plot(lrs[sl], raw[sl], color="0.75", lw=1, label="loss")
    ax.plot(lrs[sl], smooth[sl], color="C0", lw=2, label="smoothed loss")
    ax.set_xscale("log")
    for key, color, label in (("steepest", "C3", "steepest descent"),
                              ("min_div10", "C2", "minimum / 10")):
        value = get(key)
        if value is not None and np.isfinite(value):
            ax.axvline(value, color=color, ls="--", lw=1.2, label=f"{label}: {value:.2e}")
    finite = smooth[sl][np.isfinite(smooth[sl])]
    if finite.size:
        lo, hi = float(finite.min()), float(np.percentile(finite, 95))
        pad = 0.1 * max(hi - lo, 1e-12)
        ax.set_ylim(lo - pad, hi + 4 * pad)
    ax.set_xlabel("learning rate")
    ax.set_ylabel(get("monitor", None) or "loss")
    ax.set_title(title or "learning-rate range test")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

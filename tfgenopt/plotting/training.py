"""Figures of a training run: loss curves and image grids."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from tfgenopt.plotting._base import new_figure, to_numpy

__all__ = ["plot_history", "plot_image_grid", "image_grid_array"]


def plot_history(history, keys=None, title=None, logy=False):
    """Plot the curves of a ``keras.callbacks.History`` (or its ``.history`` dict).

    ``keys`` defaults to every numeric key; ``val_x`` is drawn dashed next to ``x``.

    Example:
        >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    """
    logs = getattr(history, "history", history)
    keys = [k for k in (keys or logs) if not k.startswith("val_") or keys]
    fig, ax = new_figure(figsize=(6, 4))
    for key in keys:
        if key not in logs:
            continue
        values = np.asarray(logs[key], dtype=float)
        marker = "o" if len(values) < 30 else None  # a few epochs: show the points
        (line,) = ax.plot(np.arange(1, len(values) + 1), values, label=key, marker=marker,
                          ms=3)
        val = f"val_{key}"
        if val in logs and val not in keys:
            ax.plot(np.arange(1, len(logs[val]) + 1), logs[val], "--", color=line.get_color(),
                    label=val, marker=marker, ms=3)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def image_grid_array(images, ncols=None, value_range=None, pad=1):
    """Tile ``(n, h, w[, c])`` or flat square images into one ``(H, W, c)`` float array in [0, 1].

    Example:
        >>> image_grid_array(np.zeros((4, 8, 8, 1))).shape  # 2 x 2 images, 1-pixel padding
        (19, 19, 1)
    """
    images = to_numpy(images).astype(np.float32)
    if images.ndim == 2:
        side = int(round(math.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(
                f"`images` are flat vectors of length {images.shape[1]}, which is not a square "
                "number; reshape them to (n, h, w, c) first."
            )
        images = images.reshape(-1, side, side, 1)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"`images` must be (n, h, w[, c]) with n >= 1; received {images.shape}.")
    lo, hi = value_range or ((-1.0, 1.0) if images.min() < 0 else (0.0, 1.0))
    images = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    n, h, w, c = images.shape
    ncols = ncols or int(math.ceil(math.sqrt(n)))
    nrows = int(math.ceil(n / ncols))
    grid = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[top:top + h, left:left + w] = images[i]
    return grid


def plot_image_grid(images, ncols=None, value_range=None, title=None, scale=0.25):
    """A figure of ``images`` tiled in a grid (grey for one channel), one pixel per pixel x scale.

    Example:
        >>> fig = plot_image_grid(np.random.rand(16, 8, 8, 1))
    """
    grid = image_grid_array(images, ncols, value_range)
    h, w, c = grid.shape
    fig, ax = new_figure(figsize=(max(2.0, w * scale / 4), max(2.0, h * scale / 4)))
    ax.imshow(grid[..., 0] if c == 1 else grid, cmap="gray" if c == 1 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig

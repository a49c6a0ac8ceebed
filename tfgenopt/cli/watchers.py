"""The watchers of every generative ``tfgenopt train`` run: quality, early stopping, samples."""

from __future__ import annotations

import os

from tfgenopt import callbacks

__all__ = ["quality_watchers"]


def quality_watchers(real, epochs, patience, out, seed, extractor, verbose,
                     metrics=("fid", "kid"), value_range=None):
    """QualityMonitor + early stopping on smoothed ``val_kid`` + sample grids, for any generator.

    What ``train gan`` and ``train diffusion`` run (never a stop on the loss): ``real`` is the
    held-out data (``(x, labels)`` for coverage); about 30 measurements in a long run, every
    epoch in a short one; patience ``max(4 * every, 10)`` unless ``patience``.

    Returns:
        ``(quality, stopper, grids)``, in the order they go into ``callbacks``.

    Example:
        >>> q, stop, grids = quality_watchers(x, 60, None, "run", 0, "digits", 0)
        >>> q.every, stop.monitor, stop.patience
        (2, 'val_kid', 10)
    """
    every = max(1, epochs // 30)
    n = len(real[0] if isinstance(real, tuple) else real)
    quality = callbacks.QualityMonitor(real, metrics=metrics, every=every,
                                       n_samples=min(n, 1000), seed=seed, extractor=extractor,
                                       value_range=value_range)
    stopper = callbacks.EarlyStopping(monitor="val_kid", patience=patience or max(4 * every, 10),
                                      restore_best_weights=True, smoothing="ema",
                                      verbose=min(verbose, 1))
    grids = callbacks.SampleGrid(every=max(every, epochs // 5), n=36, seed=seed,
                                 out_dir=os.path.join(out, "samples"))
    return quality, stopper, grids

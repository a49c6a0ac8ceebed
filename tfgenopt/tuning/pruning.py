"""Pruning: stop a trial mid-training when it is worse than the median of earlier trials.

Keras Tuner only prunes inside Hyperband's brackets. ``search(..., pruner="median")`` adds
Optuna's median rule to any tuner: after each epoch ``k`` of a trial (past a warm-up), its
objective is compared with the median of the objective at epoch ``k`` of the earlier
completed, unpruned trials, and the trial stops when it is worse (a larger value for a
``"min"`` objective, a smaller one for ``"max"``). A pruned trial keeps the best value it
reached, so Keras Tuner records it as ``COMPLETED`` (the oracle uses its score); tfgenopt
writes the epoch it stopped at into the trial's ``history.json``, and the trial table
(``SearchResult.trials``, ``trials.csv``, ``results.json``) reports its status as ``PRUNED``.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from tfgenopt._validation import check_int

__all__ = ["MedianPruner", "get_pruner", "PRUNERS", "PRUNED"]

#: The status the trial table gives a trial the pruner stopped.
PRUNED = "PRUNED"


class MedianPruner:
    """Stop a trial whose objective at epoch ``k`` is worse than the median of earlier trials'.

    Only completed trials that were not pruned count, each with its objective at the same
    epoch (the mean over executions when ``executions_per_trial > 1``); a non-finite value
    counts as worse than any median. Epochs are counted from 1.

    Args:
        warmup_epochs: never prune during a trial's first ``warmup_epochs`` epochs.
        min_trials: only prune at epoch ``k`` when at least this many earlier trials reached
            epoch ``k``, so the first ``min_trials`` trials always run to the end.

    Example:
        >>> pruner = MedianPruner(warmup_epochs=1, min_trials=2)
        >>> pruner.set_history([{1: 0.5, 2: 0.4}, {1: 0.7, 2: 0.2}], direction="min")
        >>> pruner.should_prune(2, 0.35), pruner.should_prune(2, 0.25)
        (True, False)
        >>> pruner.should_prune(1, 9.0)  # still warming up
        False
    """

    name = "median"

    def __init__(self, warmup_epochs=1, min_trials=2):
        self.warmup_epochs = check_int("warmup_epochs", warmup_epochs, minimum=0)
        self.min_trials = check_int("min_trials", min_trials, minimum=1)
        self.direction = "min"
        self._curves = []

    def set_history(self, curves, direction):
        """Set the earlier trials' curves (``[{epoch: value}]``, epochs from 1) and direction."""
        if direction not in ("min", "max"):
            raise ValueError(f"`direction` must be 'min' or 'max'; received {direction!r}.")
        self.direction = direction
        self._curves = [dict(c) for c in curves]

    def threshold(self, epoch):
        """The median of the earlier trials at ``epoch``, ``None`` when pruning does not apply."""
        if epoch <= self.warmup_epochs:
            return None
        values = [c[epoch] for c in self._curves if epoch in c and math.isfinite(c[epoch])]
        if len(values) < self.min_trials:
            return None
        return float(np.median(values))

    def should_prune(self, epoch, value):
        """Whether a trial whose objective at ``epoch`` (from 1) is ``value`` should stop."""
        median = self.threshold(epoch)
        if median is None:
            return False
        value = float(value)
        if not math.isfinite(value):
            return True
        return value > median if self.direction == "min" else value < median

    def get_config(self):
        return {"warmup_epochs": self.warmup_epochs, "min_trials": self.min_trials}

    def __repr__(self):
        return (f"MedianPruner(warmup_epochs={self.warmup_epochs}, "
                f"min_trials={self.min_trials})")


PRUNERS = {"median": MedianPruner}


def get_pruner(pruner):
    """Return a pruner for ``None``, a name (``"median"``) or a pruner instance.

    Args:
        pruner: ``None`` (no pruning), a name from :data:`PRUNERS`, or an object with
            ``set_history(curves, direction)`` and ``should_prune(epoch, value)``.

    Returns:
        The pruner (a new one with default settings for a name), or ``None``.

    Example:
        >>> get_pruner("median")
        MedianPruner(warmup_epochs=1, min_trials=2)
    """
    if pruner is None:
        return None
    if isinstance(pruner, str):
        if pruner not in PRUNERS:
            raise ValueError(f"`pruner` must be one of {sorted(PRUNERS)} or a pruner "
                             f"instance; received {pruner!r}.")
        return PRUNERS[pruner]()
    if not (callable(getattr(pruner, "should_prune", None))
            and callable(getattr(pruner, "set_history", None))):
        raise TypeError("`pruner` must be None, a name such as 'median', or an object with "
                        f"set_history() and should_prune(); received {pruner!r}.")
    return pruner


def trial_curves(project_dir, objective, exclude=()):
    """The objective curves ``[{epoch: value}]`` of the completed, unpruned trials on disk.

    Reads each ``trial_*/trial.json`` (written by the oracle, also a distributed chief's) and
    the ``history.json`` tfgenopt's tuners save beside it.
    """
    curves = []
    if not os.path.isdir(project_dir):
        return curves
    for entry in sorted(os.listdir(project_dir)):
        folder = os.path.join(project_dir, entry)
        if not entry.startswith("trial_") or entry[len("trial_"):] in exclude:
            continue
        record = _load(os.path.join(folder, "history.json"))
        state = _load(os.path.join(folder, "trial.json"))
        if (not record or not state or state.get("status") != "COMPLETED"
                or record.get("pruned_at_epoch") is not None):
            continue
        curve = _mean_curve(record, objective)
        if curve:
            curves.append(curve)
    return curves


def _load(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _mean_curve(record, objective):
    """``{epoch (from 1): mean over executions}`` of ``objective`` in a ``history.json``."""
    sums, counts = {}, {}
    epochs = record.get("epochs") or [None] * len(record.get("executions", []))
    for execution, indices in zip(record.get("executions", []), epochs):
        values = execution.get(objective, [])
        indices = indices if indices is not None else list(range(len(values)))
        for epoch, value in zip(indices, values):
            if value is None:
                value = math.nan
            sums[epoch + 1] = sums.get(epoch + 1, 0.0) + float(value)
            counts[epoch + 1] = counts.get(epoch + 1, 0) + 1
    return {e: sums[e] / counts[e] for e in sums}

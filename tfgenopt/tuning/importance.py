"""Hyperparameter importance of a finished search: how much of the objective each one explains.

A dependency-free, documented measure on the completed trials (pruned and failed trials are
left out: their scores are partial or missing), one number in [0, 1] per hyperparameter that
varies:

* a choice (strings, booleans, or numbers with at most :data:`MAX_LEVELS` distinct values):
  the correlation ratio eta squared, the share of the objective's variance explained by the
  mean of each value's group, ``sum_g n_g (mean_g - mean)^2 / sum_i (y_i - mean)^2``;
* a numeric range with more distinct values: the squared Spearman correlation between the
  hyperparameter and the objective (the share of the variance of the objective's ranks that
  a monotone trend in the hyperparameter explains; invariant to log scales).

Both read like an R^2 of that hyperparameter alone. They ignore interactions and, with few
trials, are noisy (with one trial per value, eta squared is 1): read them as a ranking of
where to look, not as effects.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["hyperparameter_importance", "eta_squared", "spearman", "MAX_LEVELS"]

#: Numeric hyperparameters with at most this many distinct values are treated as choices.
MAX_LEVELS = 5
_NOT_HYPERPARAMETERS = ("trial_id", "status", "score", "best_step", "tuner_id",
                        "pruned_at_epoch")


def eta_squared(values, scores):
    """The share of the variance of ``scores`` explained by the groups of equal ``values``.

    Args:
        values: one hyperparameter value per trial (any hashable values).
        scores: the objective per trial.

    Returns:
        A float in [0, 1] (0 when the scores do not vary).

    Example:
        >>> eta_squared(["a", "a", "b", "b"], [1.0, 2.0, 3.0, 4.0])
        0.8
    """
    y = np.asarray(scores, dtype=float)
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return 0.0
    keys = [repr(v) for v in values]
    between = 0.0
    for key in set(keys):
        group = y[[k == key for k in keys]]
        between += len(group) * (group.mean() - y.mean()) ** 2
    return float(min(max(between / total, 0.0), 1.0))


def _ranks(v):
    """Ranks from 0 with ties given their average rank."""
    v = np.asarray(v, dtype=float)
    ranks = np.empty(len(v))
    ranks[np.argsort(v, kind="mergesort")] = np.arange(len(v))
    _, inverse = np.unique(v, return_inverse=True)
    return (np.bincount(inverse, ranks) / np.bincount(inverse))[inverse]


def spearman(values, scores):
    """Spearman's rank correlation of ``values`` and ``scores`` (ties: average ranks).

    Returns:
        A float in [-1, 1] (0 when either does not vary).

    Example:
        >>> spearman([1e-4, 1e-3, 1e-2, 1e-1], [0.9, 0.5, 0.4, 0.1])
        -1.0
    """
    a, b = _ranks(values), _ranks(scores)
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float(np.sum(a * a)) * float(np.sum(b * b)))
    return 0.0 if denom == 0.0 else float(np.sum(a * b) / denom)


def _is_numeric(values):
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)


def hyperparameter_importance(trials, names=None):
    """Rank the hyperparameters of a finished search by how much of the objective they explain.

    Args:
        trials: the trial table (``SearchResult.trials``); only ``COMPLETED`` rows with a
            finite ``score`` count.
        names: the hyperparameters to measure; default: every one that varies among them.

    Returns:
        ``{name: importance in [0, 1]}``, largest first (empty with fewer than 3 trials).

    Example:
        >>> rows = [{"status": "COMPLETED", "score": s, "optimizer": o, "units": u}
        ...         for s, o, u in [(1.0, "a", 8), (2.0, "a", 16), (3.0, "b", 8), (4.0, "b", 16)]]
        >>> hyperparameter_importance(rows)
        {'optimizer': 0.8, 'units': 0.2}
    """
    done = [t for t in trials if t.get("status") == "COMPLETED"
            and t.get("score") is not None and math.isfinite(float(t["score"]))]
    if len(done) < 3:
        return {}
    if names is None:
        names = []
        for t in done:
            names += [k for k in t if k not in _NOT_HYPERPARAMETERS
                      and not k.startswith("metric/") and k not in names]
    scores = [float(t["score"]) for t in done]
    out = {}
    for name in names:
        values = [t.get(name) for t in done]
        if len({repr(v) for v in values}) < 2:
            continue
        if _is_numeric(values) and len(set(values)) > MAX_LEVELS:
            out[name] = spearman(values, scores) ** 2
        else:
            out[name] = eta_squared(values, scores)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))

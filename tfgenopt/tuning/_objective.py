"""Keras Tuner's side of a trial as a HyperModel sees it: the tuner's objective, read from
the callbacks Keras Tuner passes to ``HyperModel.fit``, and its unspecified objective."""

from __future__ import annotations

import keras_tuner

__all__ = ["tuner_objective", "is_default_objective", "per_epoch"]


def tuner_objective(callbacks):
    """The ``keras_tuner.Objective`` of the tuner running this trial, read from its callbacks.

    Keras Tuner adds a checkpoint callback carrying ``objective`` to every trial's callbacks;
    None outside a tuner.
    """
    for cb in callbacks or ():
        for owner in (cb, getattr(cb, "saver", None)):
            objective = getattr(owner, "objective", None)
            if isinstance(objective, keras_tuner.Objective):
                return objective
    return None


def is_default_objective(objective):
    """True for Keras Tuner's objective when ``objective=`` was left unspecified."""
    return type(objective).__name__ == "DefaultObjective"


def per_epoch(history):
    """``[{key: value}]`` per epoch from a ``History.history`` dict."""
    n = max((len(v) for v in history.values()), default=0)
    return [{k: v[i] for k, v in history.items() if i < len(v)} for i in range(n)]

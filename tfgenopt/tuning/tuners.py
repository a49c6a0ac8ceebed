"""tfgenopt's Keras Tuner tuners: learning curves saved per trial, pruning, lighter housekeeping.

Each class is the Keras Tuner tuner of the same name plus :class:`_RecordsHistory`; the
private Keras Tuner hooks they override go through :mod:`tfgenopt.tuning._kt_adapter`.
"""

from __future__ import annotations

import gc
import os
from unittest import mock

import keras
import keras_tuner
import numpy as np

from tfgenopt import _keras_adapter
from tfgenopt._io import atomic_write_json
from tfgenopt.callbacks._tuning import PruningCallback
from tfgenopt.tuning import _kt_adapter
from tfgenopt.tuning.pruning import trial_curves
from tfgenopt.tuning.results import HISTORY_FILE

__all__ = ["RandomSearch", "BayesianOptimization", "Hyperband", "GridSearch", "TUNER_CLASSES"]


class _RecordsHistory(_kt_adapter.TunerHooks):
    """Tuner mixin: saves each trial's per-epoch logs as ``trial_XX/history.json``, prunes
    trials when a pruner is set, and trims Keras Tuner's per-trial housekeeping (one garbage
    collection per trial instead of two, no TensorBoard import without a TensorBoard
    callback)."""

    #: Set by ``search`` while it holds the collector frozen (see ``search._frozen_heap``):
    #: each trial's collection is then followed by ``gc.freeze()``.
    _freeze_survivors = False
    #: The search's pruner (``None``: no pruning) and ``fit``'s verbosity, set by ``search``.
    pruner = None
    fit_verbose = None

    def try_build(self, hp):
        """Keras Tuner's ``_try_build`` with one garbage collection instead of two and no
        flush of TensorFlow's kernel cache (see :func:`clear_session`).

        Keras Tuner calls ``keras.backend.clear_session()`` (which already runs
        ``gc.collect()``) and then ``gc.collect()`` again, which finds nothing left. Inside
        ``search``, what survives the collection is frozen as well: TensorFlow's gradient
        registry keeps every traced train step alive (~9,000 objects per trial, in a plain
        ``fit`` loop too), and without the freeze each trial's collection would scan all
        previous trials' (~1 ms more per trial already run, on a 2-core CPU).
        """
        clear_session()  # Keras' global state, then gc.collect(): frees the last trial's model
        if self._freeze_survivors:
            gc.freeze()
        model = _kt_adapter.build_hypermodel(self, hp)
        if not isinstance(model, keras.Model):
            raise keras_tuner.errors.FatalTypeError(
                "Expected the model-building function, or HyperModel.build() "
                "to return a valid Keras Model instance. "
                f"Received: {model} of type {type(model)}."
            )
        if self.max_model_size and model.built:
            size = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
            if size > self.max_model_size:
                raise keras_tuner.errors.FailedTrialError(
                    f"Oversized model: {size} parameters. Skip model.")
        return model

    def configure_tensorboard(self, callbacks, trial, execution=0):
        """Keras Tuner imports TensorBoard's HParams API here on every trial; only do so when
        there is a ``TensorBoard`` callback to configure (its own test, by class name)."""
        if any(cb.__class__.__name__ == "TensorBoard" for cb in callbacks):
            super().configure_tensorboard(callbacks, trial, execution)

    def run_trial(self, trial, *args, **kwargs):
        if self.fit_verbose is not None:
            kwargs.setdefault("verbose", self.fit_verbose)
        state = {"pruned_at_epoch": None}
        if self.pruner is not None:
            objective = self.oracle.objective
            self.pruner.set_history(
                trial_curves(self.project_dir, objective.name, exclude=(trial.trial_id,)),
                objective.direction)
            kwargs["callbacks"] = [*kwargs.get("callbacks", []),
                                   PruningCallback(self.pruner, objective, state)]
        histories = super().run_trial(trial, *args, **kwargs)
        records, epochs = [], []
        for h in histories if isinstance(histories, list) else [histories]:
            if isinstance(h, keras.callbacks.History):
                records.append({k: [float(v) for v in vals] for k, vals in h.history.items()})
                epochs.append([int(e) for e in h.epoch])
        path = os.path.join(self.get_trial_dir(trial.trial_id), HISTORY_FILE)
        atomic_write_json(path, {"tuner_id": self.tuner_id, "executions": records,
                                 "epochs": epochs,
                                 "pruned_at_epoch": state["pruned_at_epoch"]})
        return histories


class RandomSearch(_RecordsHistory, keras_tuner.RandomSearch):
    """``keras_tuner.RandomSearch`` that also saves each trial's learning curves."""


class BayesianOptimization(_RecordsHistory, keras_tuner.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` that also saves each trial's learning curves."""


class Hyperband(_RecordsHistory, keras_tuner.Hyperband):
    """``keras_tuner.Hyperband`` that also saves each trial's learning curves."""


class GridSearch(_RecordsHistory, keras_tuner.GridSearch):
    """``keras_tuner.GridSearch`` that also saves each trial's learning curves."""


TUNER_CLASSES = {"random": RandomSearch, "bayesian": BayesianOptimization,
                 "hyperband": Hyperband, "grid": GridSearch}


def _kernel_cache_owner():
    """TensorFlow's eager context, whose ``clear_kernel_cache`` :func:`clear_session` skips."""
    ctx = _keras_adapter.eager_context()
    return ctx if callable(getattr(ctx, "clear_kernel_cache", None)) else None


def clear_session():
    """``keras.backend.clear_session()`` without its flush of TensorFlow's eager kernel cache.

    Keras' global state (layer-name counters, settings) is reset and ``gc.collect()`` frees
    the previous trial's model as before. The kernel cache only holds the compiled op
    kernels, keyed by op, types and shapes: flushing it freed no memory over 40 trials
    (same RSS) but made the next build ~30 ms and its ``fit`` 20-100 ms slower, each trial
    re-creating the kernels the previous one had made for the same shapes.
    """
    ctx = _kernel_cache_owner()
    if ctx is None:
        keras.backend.clear_session()
        return
    with mock.patch.object(ctx, "clear_kernel_cache", lambda: None):
        keras.backend.clear_session()

"""Keras Tuner's best-epoch checkpoint, written once per trial instead of once per epoch."""

from __future__ import annotations

import keras

try:
    from keras_tuner.src.engine.tuner_utils import SaveBestEpoch
except ImportError:  # a future keras-tuner layout: leave its checkpoint untouched.
    SaveBestEpoch = None


class BestWeightsInMemory(keras.callbacks.Callback):
    """Keep the best epoch's weights in memory and let Keras Tuner's checkpoint write them once.

    Keras Tuner's ``SaveBestEpoch`` writes a ``.weights.h5`` file at every improving epoch
    (about 20-70 ms each on a small model, most of the per-trial overhead of a short trial).
    This wrapper compares the objective the same way, copies the weights in memory, and calls
    the wrapped checkpoint's writer once, at the end of training, with the best weights in
    place (the optimizer state saved with them is the final one).

    Args:
        saver: the ``keras_tuner`` ``SaveBestEpoch`` instance of the trial (its best value is
            shared across the trial's executions, as in Keras Tuner).
    """

    def __init__(self, saver):
        super().__init__()
        self.saver = saver
        self._best = None

    def set_model(self, model):
        super().set_model(model)
        self.saver.set_model(model)

    def on_train_begin(self, logs=None):
        self._best = None

    def on_epoch_end(self, epoch, logs=None):
        objective = self.saver.objective
        if not objective.has_value(logs):
            self._best = "last"
            return
        value = objective.get_value(logs)
        if objective.better_than(value, self.saver.best_value):
            self.saver.best_value = value
            self._best = [keras.ops.convert_to_numpy(v) for v in self.model.weights]

    def on_train_end(self, logs=None):
        if self._best is None:
            return
        if self._best == "last":
            self.saver._save_model()
            return
        current = [keras.ops.convert_to_numpy(v) for v in self.model.weights]
        for var, value in zip(self.model.weights, self._best):
            var.assign(value)
        try:
            self.saver._save_model()
        finally:
            for var, value in zip(self.model.weights, current):
                var.assign(value)


def defer_checkpoints(callbacks):
    """Wrap every Keras Tuner ``SaveBestEpoch`` in ``callbacks`` (a new list)."""
    if SaveBestEpoch is None:
        return list(callbacks)
    return [BestWeightsInMemory(cb) if type(cb) is SaveBestEpoch else cb for cb in callbacks]

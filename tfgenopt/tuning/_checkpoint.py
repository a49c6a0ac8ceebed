"""Keras Tuner's best-epoch checkpoint, written once per trial instead of once per epoch."""

from __future__ import annotations

import keras

from tfgenopt._io import atomic_path
from tfgenopt.tuning._kt_adapter import SaveBestEpoch, write_checkpoint


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
            self._write()
            return
        current = [keras.ops.convert_to_numpy(v) for v in self.model.weights]
        for var, value in zip(self.model.weights, self._best):
            var.assign(value)
        try:
            self._write()
        finally:
            for var, value in zip(self.model.weights, current):
                var.assign(value)

    def _write(self):
        """The wrapped checkpoint's writer, into a temporary file renamed over the checkpoint
        (a trial killed mid-write leaves the previous file, never half of one)."""
        final = self.saver.filepath
        with atomic_path(final) as tmp:
            self.saver.filepath = tmp
            try:
                write_checkpoint(self.saver)
            finally:
                self.saver.filepath = final


def defer_checkpoints(callbacks):
    """Wrap every Keras Tuner ``SaveBestEpoch`` in ``callbacks`` (a new list)."""
    return [BestWeightsInMemory(cb) if type(cb) is SaveBestEpoch else cb for cb in callbacks]

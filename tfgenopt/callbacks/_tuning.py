"""The callbacks a tuning search adds to each trial (internal; wired by ``tfgenopt.tuning``).

They live here, with every other ``keras.callbacks.Callback`` of the package, and know nothing
of Keras Tuner's privates: ``tfgenopt.tuning`` passes in what they call (the checkpoint
writer, the pruner, the HyperModel's objective).
"""

from __future__ import annotations

import keras

from tfgenopt._io import atomic_path

__all__ = ["BestWeightsInMemory", "DefaultObjectiveLogger", "PruningCallback"]


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
        write: ``write(saver)`` writes the model's current weights through ``saver``
            (``tfgenopt.tuning._kt_adapter.write_checkpoint``).
    """

    def __init__(self, saver, write):
        super().__init__()
        self.saver = saver
        self.write = write
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
                self.write(self.saver)
            finally:
                self.saver.filepath = final


class DefaultObjectiveLogger(keras.callbacks.Callback):
    """Writes ``logs["default_objective"]``: the HyperModel's objective, to minimize.

    Args:
        hypermodel: anything with ``_signed(logs)`` returning the signed objective or None
            (a ``tfgenopt.tuning.TunableHyperModel``).
    """

    def __init__(self, hypermodel):
        super().__init__()
        self.hypermodel = hypermodel

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            value = self.hypermodel._signed(logs)
            if value is not None:
                logs["default_objective"] = value


class PruningCallback(keras.callbacks.Callback):
    """Asks the search's pruner after every epoch and stops the trial when it says so.

    Keras Tuner deep-copies callbacks for every trial; the copies share the pruner (and the
    trial's record of where it stopped), which :class:`tfgenopt.tuning.tuners` reads back.

    Args:
        pruner: the search's pruner (``should_prune(epoch, value)``).
        objective: the ``keras_tuner.Objective`` of the search.
        state: a dict shared by the copies; ``state["pruned_at_epoch"]`` is set on pruning.
    """

    def __init__(self, pruner, objective, state):
        super().__init__()
        self.pruner, self.objective, self.state = pruner, objective, state

    def __deepcopy__(self, memo):
        return PruningCallback(self.pruner, self.objective, self.state)

    def on_epoch_end(self, epoch, logs=None):
        if not logs or not self.objective.has_value(logs):
            return
        value = float(self.objective.get_value(logs))
        if self.pruner.should_prune(epoch + 1, value):
            self.state["pruned_at_epoch"] = epoch + 1
            self.model.stop_training = True

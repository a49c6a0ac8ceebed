"""``EpochProgressBar``: one ``keras.utils.Progbar`` over the epochs of a run (the CLI's)."""

from __future__ import annotations

import keras

__all__ = ["EpochProgressBar"]


class EpochProgressBar(keras.callbacks.Callback):
    """Draw one ``keras.utils.Progbar`` over the epochs, showing ``keys`` of the logs.

    Args:
        epochs: the epochs of the run (the bar's length).
        keys: the ``logs`` keys shown beside the bar (those present each epoch).

    Example:
        >>> EpochProgressBar(3, ["loss"]).keys
        ['loss']
    """

    def __init__(self, epochs, keys):
        super().__init__()
        self.epochs, self.keys = epochs, list(keys)
        self.bar, self.done = None, 0

    def on_train_begin(self, logs=None):
        self.bar, self.done = keras.utils.Progbar(self.epochs, unit_name="epoch"), 0

    def on_epoch_end(self, epoch, logs=None):
        shown = [(k, float(logs[k])) for k in self.keys if logs and k in logs]
        self.done = epoch + 1
        self.bar.update(self.done, shown, finalize=self.done >= self.epochs)

    def on_train_end(self, logs=None):
        if self.done < self.epochs:  # stopped early: end the bar's line
            self.bar.update(self.done, finalize=True)

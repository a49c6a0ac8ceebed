"""A per-epoch half-cosine learning-rate decay for every optimizer of a model (GANs: both)."""

from __future__ import annotations

import math

import keras

from tfgenopt._validation import check_int
from tfgenopt.models import protocol

__all__ = ["EpochCosineDecay"]


@keras.saving.register_keras_serializable(package="tfgenopt")
class EpochCosineDecay(keras.callbacks.Callback):
    """Anneal every optimizer's learning rate along a half cosine, once per epoch.

    The rate of each optimizer (``model.optimizers_by_name()``, so both GAN optimizers) starts
    at the value it has when training begins and reaches ``final_fraction`` of it after
    ``epochs`` epochs. It is the ``lr_schedule="cosine"`` choice of the HyperModels.

    Args:
        epochs: the epoch budget the cosine spans.
        final_fraction: the fraction of the initial rate left at the end.

    It lives in ``tfgenopt.callbacks`` (every callback does) and is re-exported as
    ``tfgenopt.tuning.EpochCosineDecay``, where it was first; saved configs keep their
    registered name ``tfgenopt>EpochCosineDecay``.

    Example:
        >>> cb = EpochCosineDecay(epochs=10)
        >>> round(cb.factor(5), 3)
        0.5
    """

    def __init__(self, epochs, final_fraction=0.0):
        super().__init__()
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.final_fraction = float(final_fraction)
        self._base = {}

    def factor(self, epoch):
        """The multiplier of the initial rate at the start of ``epoch``."""
        t = min(epoch, self.epochs) / self.epochs
        return self.final_fraction + (1 - self.final_fraction) * 0.5 * (1 + math.cos(math.pi * t))

    def on_train_begin(self, logs=None):
        self._base = {
            name: float(keras.ops.convert_to_numpy(opt.learning_rate))
            for name, opt in protocol.optimizers(self.model).items()
        }

    def on_epoch_begin(self, epoch, logs=None):
        for name, opt in protocol.optimizers(self.model).items():
            opt.learning_rate = self._base[name] * self.factor(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            for name, opt in protocol.optimizers(self.model).items():
                logs.setdefault(protocol.lr_log_key(name),
                                float(keras.ops.convert_to_numpy(opt.learning_rate)))

    def get_config(self):
        return {"epochs": self.epochs, "final_fraction": self.final_fraction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

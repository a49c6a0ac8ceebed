"""Learning-rate callbacks that act on EVERY optimizer of a model (a GAN's two included).

Optimizers are found through :func:`tfgenopt.models.protocol.optimizers`: ``{"d": ..., "g": ...}``
for the GAN (rates logged as ``d_lr``, ``g_lr``), ``{"": model.optimizer}`` for a plain model
(logged as ``lr``).

Optimizers driven by a ``LearningRateSchedule`` have no settable rate: ``ReduceLROnPlateau``
leaves them alone (one ``UserWarning`` per run); ``LearningRateLogger`` logs their current value.
The learning-rate range test lives in :mod:`tfgenopt.callbacks.lr_finder` and is re-exported here.
"""

from __future__ import annotations

import numbers
import warnings

import keras
import numpy as np

from tfgenopt._validation import check_float, check_int
from tfgenopt.callbacks._monitor import MonitorCallback
from tfgenopt.callbacks._optimizers import get_lr, has_schedule, set_lr
from tfgenopt.models import protocol

__all__ = ["ReduceLROnPlateau", "LearningRateLogger", "LRFinder", "lr_find", "get_lr", "set_lr",
           "has_schedule"]


def _per_optimizer(name, value, minimum, maximum, min_inclusive=True, max_inclusive=True):
    """A float, or a ``{optimizer name: float}`` dict, validated."""
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"`{name}` must not be an empty dict.")
        return {str(k): check_float(f"{name}[{k!r}]", v, minimum, maximum, min_inclusive,
                                    max_inclusive) for k, v in value.items()}
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return check_float(name, value, minimum, maximum, min_inclusive, max_inclusive)
    raise TypeError(f"`{name}` must be a number or a dict {{optimizer name: number}}; "
                    f"received {value!r}.")


def _check_names(name, value, known):
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"`{name}` names unknown optimizers {unknown}; this model's "
                             f"optimizers are {sorted(known)}.")


def _lookup(value, key):
    return value.get(key) if isinstance(value, dict) else value


@keras.saving.register_keras_serializable(package="tfgenopt")
class LearningRateLogger(keras.callbacks.Callback):
    """Write the learning rate of every optimizer into ``logs`` at the end of each epoch.

    Keys: ``lr`` for a single-optimizer model, ``{name}_lr`` otherwise (``d_lr``, ``g_lr``).
    Works for float rates and schedules alike (a schedule is read at the optimizer's current
    step). The values are also kept in ``self.history`` (``{key: [value per epoch]}``).

    Args:
        per_batch: also write the rates into the batch ``logs`` (visible to batch callbacks).

    Returns:
        A ``keras.callbacks.Callback``.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> model.compile(keras.optimizers.SGD(0.1), "mse")
        >>> history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=2, verbose=0,
        ...                     callbacks=[LearningRateLogger()])
        >>> history.history["lr"]
        [0.1, 0.1]
    """

    def __init__(self, per_batch=False):
        super().__init__()
        if not isinstance(per_batch, bool):
            raise TypeError(f"`per_batch` must be a bool; received {per_batch!r}.")
        self.per_batch = per_batch
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {}

    def _rates(self):
        return {protocol.lr_log_key(n): get_lr(o)
                for n, o in protocol.optimizers(self.model).items()}

    @property
    def needs_every_batch(self):
        """Only ``per_batch=True`` needs every batch (``steps_per_execution="auto"`` reads it)."""
        return self.per_batch

    def on_train_batch_end(self, batch, logs=None):
        if self.per_batch and logs is not None:
            logs.update(self._rates())

    def on_epoch_end(self, epoch, logs=None):
        rates = self._rates()
        for k, v in rates.items():
            self.history.setdefault(k, []).append(v)
        if logs is not None:
            logs.update(rates)

    def get_config(self):
        return {"per_batch": self.per_batch}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfgenopt")
class ReduceLROnPlateau(MonitorCallback):
    """Multiply every optimizer's learning rate by ``factor`` when ``monitor`` stops improving.

    Like ``keras.callbacks.ReduceLROnPlateau`` (``patience``, ``min_delta``, ``cooldown``,
    ``min_lr``) but it acts on all optimizers of the model (both of a GAN), with an optional
    per-optimizer ``factor`` and ``min_lr`` (``factor={"d": 0.5, "g": 0.2}``); an optimizer
    missing from a ``factor`` dict is left alone. Direction is inferred from the monitored name
    (``mode="auto"``; ``val_kid`` down, ``val_coverage`` up). The rates used during the epoch
    are written into ``logs`` (``lr`` or ``d_lr``/``g_lr``) before any reduction, as Keras does. Optimizers driven by a
    ``LearningRateSchedule`` are skipped with a ``UserWarning``. A value carried over from an
    earlier epoch (``model.carried_log_keys``) never counts as an improvement.

    Args:
        monitor: the ``logs`` key to watch.
        factor: multiplier in (0, 1), or ``{optimizer name: multiplier}``.
        patience: epochs without improvement before reducing.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: the smallest change that counts as an improvement (its absolute value, as
            in Keras; an improvement must beat the best by more than it).
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound of the rate, a float or ``{optimizer name: float}``.
        verbose: 1 prints a line at each reduction.

    Returns:
        A ``keras.callbacks.Callback``.

    Example:
        >>> cb = ReduceLROnPlateau("val_g_loss", factor={"d": 0.5, "g": 0.2}, patience=3)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, verbose=0):
        super().__init__(monitor, mode, min_delta, verbose)
        self.factor = _per_optimizer("factor", factor, 0.0, 1.0, False, False)
        self.patience = check_int("patience", patience, minimum=0)
        self.cooldown = check_int("cooldown", cooldown, minimum=0)
        self.min_lr = _per_optimizer("min_lr", min_lr, 0.0, None)
        self._reset()

    def _reset(self):
        self.best = self._initial_best()
        self.wait = 0
        self.cooldown_counter = 0
        self.reductions = []  # (epoch, {log key: new rate})

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        opts = protocol.optimizers(self.model)
        if not opts:
            raise ValueError("ReduceLROnPlateau needs a compiled model with an optimizer.")
        _check_names("factor", self.factor, opts)
        _check_names("min_lr", self.min_lr, opts)
        self._targets = {}
        for name, opt in opts.items():
            if _lookup(self.factor, name) is None:
                continue
            if has_schedule(opt):
                warnings.warn(
                    f"ReduceLROnPlateau: optimizer {name or opt.name!r} follows a "
                    "LearningRateSchedule; its rate cannot be reduced and is left alone.",
                    UserWarning, stacklevel=2)
                continue
            self._targets[name] = opt

    def _reduce(self, epoch):
        changed = {}
        for name, opt in self._targets.items():
            old = get_lr(opt)
            floor = _lookup(self.min_lr, name) or 0.0
            if old > floor:
                new = max(old * _lookup(self.factor, name), floor)
                set_lr(opt, new)
                changed[protocol.lr_log_key(name)] = new
        if changed:
            self.reductions.append((epoch, changed))
            if self.verbose:
                rates = ", ".join(f"{k}={v:.3g}" for k, v in changed.items())
                print(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate: {rates}.")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        for name, opt in protocol.optimizers(self.model).items():  # the rates of this epoch
            logs[protocol.lr_log_key(name)] = get_lr(opt)
        current = self._monitored_value(logs)
        if current is None:
            self._warn_missing_once(logs)
        elif np.isfinite(current):
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
                self.wait = 0
            if not self._is_carried() and self._is_improvement(current, self.best):
                self.best = current
                self.wait = 0
            elif self.cooldown_counter == 0:
                self.wait += 1
                if self.wait >= self.patience:
                    self._reduce(epoch)
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def get_config(self):
        return {"monitor": self.monitor, "factor": self.factor, "patience": self.patience,
                "mode": self.mode, "min_delta": self.min_delta, "cooldown": self.cooldown,
                "min_lr": self.min_lr, "verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


from tfgenopt.callbacks.lr_finder import LRFinder, lr_find  # noqa: E402  (re-export)

"""KLWarmup: anneal a VAE's KL weight ``beta`` from ``start`` to ``end`` (KL warm-up)."""

from __future__ import annotations

import math

import keras

from tfgenopt._validation import check_choice, check_float, check_int

__all__ = ["KLWarmup", "warmup_value"]


def warmup_value(t, start, end, shape="linear"):
    """The warm-up value at progress ``t`` (clipped to [0, 1]) between ``start`` and ``end``.

    ``linear``: ``start + (end - start) * t``; ``cosine``: ``start + (end - start) *
    (1 - cos(pi * t)) / 2``.

    Args:
        t: progress, a float (clipped to [0, 1]).
        start, end: the values at ``t = 0`` and ``t = 1``.
        shape: ``"linear"`` or ``"cosine"``.

    Returns:
        A float.

    Example:
        >>> warmup_value(0.5, 0.0, 1.0)
        0.5
    """
    t = min(max(float(t), 0.0), 1.0)
    if shape == "cosine":
        t = 0.5 * (1.0 - math.cos(math.pi * t))
    return start + (end - start) * t


@keras.saving.register_keras_serializable(package="tfgenopt")
class KLWarmup(keras.callbacks.Callback):
    """Anneal ``model.beta`` (a ``keras.Variable``, e.g. the VAE's KL weight) during training.

    Per epoch (default) ``beta = start + (end - start) * min(1, max(0, epoch - delay) / epochs)``
    at the start of each epoch, so epoch ``delay`` trains with ``start`` and epoch
    ``delay + epochs`` onwards with ``end``. With ``per_step=True`` the progress is counted in
    batches (``epochs * steps_per_epoch`` of them), updated before every batch; steps per epoch
    come from ``fit`` (or ``steps_per_epoch``). The value is written into ``logs["beta"]``.

    Args:
        start: beta at the start of the warm-up (>= 0).
        end: beta at the end (>= 0).
        epochs: length of the warm-up in epochs (>= 1).
        per_step: update every batch instead of every epoch.
        delay: epochs at ``start`` before the warm-up begins.
        shape: ``"linear"`` or ``"cosine"``.
        steps_per_epoch: batches per epoch when ``fit`` cannot know it (``per_step`` only).

    Returns:
        A ``keras.callbacks.Callback``.

    Example:
        >>> history = vae.fit(x, epochs=3, verbose=0, callbacks=[KLWarmup(0.0, 1.0, epochs=2)])
        >>> history.history["beta"]
        [0.0, 0.5, 1.0]
    """

    @property
    def needs_every_batch(self):
        """Only ``per_step=True`` needs every batch (``steps_per_execution="auto"`` reads it)."""
        return self.per_step

    def __init__(self, start=0.0, end=1.0, epochs=10, per_step=False, delay=0, shape="linear",
                 steps_per_epoch=None):
        super().__init__()
        self.start = check_float("start", start, minimum=0.0)
        self.end = check_float("end", end, minimum=0.0)
        self.epochs = check_int("epochs", epochs, minimum=1)
        if not isinstance(per_step, bool):
            raise TypeError(f"`per_step` must be a bool; received {per_step!r}.")
        self.per_step = per_step
        self.delay = check_int("delay", delay, minimum=0)
        self.shape = check_choice("shape", shape, ("linear", "cosine"))
        self.steps_per_epoch = (None if steps_per_epoch is None else
                                check_int("steps_per_epoch", steps_per_epoch, minimum=1))
        self.value = self.start
        self._epoch = 0

    def on_train_begin(self, logs=None):
        beta = getattr(self.model, "beta", None)
        if not isinstance(beta, keras.Variable):
            raise TypeError(
                f"KLWarmup needs `model.beta` to be a keras.Variable (like tfgenopt.models.VAE's); "
                f"{type(self.model).__name__}.beta is {type(beta).__name__}.")
        self._steps = self.steps_per_epoch
        if self.per_step and self._steps is None:
            self._steps = (self.params or {}).get("steps")
            if not self._steps:
                raise ValueError("KLWarmup(per_step=True) cannot tell the number of batches per "
                                 "epoch; pass `steps_per_epoch`.")
        self._epoch = 0
        self._set(self.start)

    def _set(self, value):
        self.value = float(value)
        self.model.beta.assign(self.value)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if not self.per_step:
            t = (epoch - self.delay) / self.epochs
            self._set(warmup_value(t, self.start, self.end, self.shape))

    def on_train_batch_begin(self, batch, logs=None):
        if self.per_step:
            step = (self._epoch - self.delay) * self._steps + batch
            self._set(warmup_value(step / (self.epochs * self._steps), self.start, self.end,
                                   self.shape))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = self.value

    def get_config(self):
        return {"start": self.start, "end": self.end, "epochs": self.epochs,
                "per_step": self.per_step, "delay": self.delay, "shape": self.shape,
                "steps_per_epoch": self.steps_per_epoch}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

"""Learning-rate schedules: warm-up + cosine, one-cycle, cyclical and step decay.

Each is a ``keras.optimizers.schedules.LearningRateSchedule``: pass it as any optimizer's
``learning_rate`` (one per GAN optimizer: ``gan.compile(d_optimizer=keras.optimizers.Adam(
WarmupCosine(...)), g_optimizer=keras.optimizers.Adam(OneCycle(...)))``). The step is the
optimizer's own ``iterations`` counter, so a GAN with ``d_steps=2`` advances the discriminator's
schedule twice as fast as the generator's. Schedules are written with ``keras.ops`` and accept a
scalar step or a vector of steps (used by :func:`tfgenopt.plotting.plot_schedule`).

An optimizer driven by a schedule has no settable learning rate: ``ReduceLROnPlateau`` skips it
with a warning and ``LRFinder`` refuses it (see :mod:`tfgenopt.callbacks.lr`).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from tfgenopt._registry import Registry
from tfgenopt._validation import check_choice, check_float, check_int

__all__ = ["WarmupCosine", "OneCycle", "Cyclical", "StepDecay", "SCHEDULES", "get"]

SCHEDULES = Registry("schedule")


def _step(step):
    return ops.cast(ops.convert_to_tensor(step), "float32")


def _cosine(start, end, fraction):
    """Cosine interpolation from ``start`` (fraction 0) to ``end`` (fraction 1)."""
    return end + 0.5 * (start - end) * (1.0 + ops.cos(math.pi * fraction))


@SCHEDULES.register("warmup_cosine")
@keras.saving.register_keras_serializable(package="tfgenopt")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak_lr``, then cosine decay to ``final_lr`` at ``total_steps``.

    ``lr(t) = initial_lr + (peak_lr - initial_lr) * t / warmup_steps`` for ``t < warmup_steps``;
    then ``final_lr + (peak_lr - final_lr) * (1 + cos(pi * p)) / 2`` with
    ``p = min(1, (t - warmup_steps) / (total_steps - warmup_steps))``.

    Args:
        peak_lr: the learning rate at the end of the warm-up (> 0).
        total_steps: steps of warm-up plus decay (> ``warmup_steps``); constant afterwards.
        warmup_steps: steps of linear warm-up (>= 0).
        initial_lr: the learning rate at step 0 (>= 0).
        final_lr: the learning rate at ``total_steps`` and after (>= 0).

    Returns:
        A schedule: ``schedule(step)`` is the learning rate (float32 tensor).

    Example:
        >>> s = WarmupCosine(1e-3, total_steps=1000, warmup_steps=100)
        >>> opt = keras.optimizers.Adam(s)
        >>> round(float(s(100)), 6)
        0.001
    """

    def __init__(self, peak_lr, total_steps, warmup_steps=0, initial_lr=0.0, final_lr=0.0):
        self.peak_lr = check_float("peak_lr", peak_lr, minimum=0.0, min_inclusive=False)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.total_steps = check_int("total_steps", total_steps, minimum=self.warmup_steps + 1)
        self.initial_lr = check_float("initial_lr", initial_lr, minimum=0.0)
        self.final_lr = check_float("final_lr", final_lr, minimum=0.0)

    def __call__(self, step):
        t = _step(step)
        w = float(self.warmup_steps)
        warm = self.initial_lr + (self.peak_lr - self.initial_lr) * t / max(w, 1.0)
        frac = ops.clip((t - w) / float(self.total_steps - self.warmup_steps), 0.0, 1.0)
        decay = _cosine(self.peak_lr, self.final_lr, frac)
        return ops.where(t < w, warm, decay)

    def get_config(self):
        return {"peak_lr": self.peak_lr, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "initial_lr": self.initial_lr,
                "final_lr": self.final_lr}


@SCHEDULES.register("one_cycle")
@keras.saving.register_keras_serializable(package="tfgenopt")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Smith's one-cycle policy: up from ``max_lr / div_factor`` to ``max_lr``, then far down.

    With ``up = pct_start * total_steps``, ``lo = max_lr / div_factor`` and
    ``end = lo / final_div_factor``: for ``t <= up`` the rate anneals from ``lo`` to ``max_lr``
    and afterwards from ``max_lr`` to ``end`` at ``total_steps`` (constant after), with cosine
    (``anneal="cos"``: ``b + (a - b) * (1 + cos(pi * f)) / 2``) or linear interpolation
    (``anneal="linear"``), ``f`` being the fraction of the phase done.

    Args:
        max_lr: the peak learning rate (> 0).
        total_steps: length of the cycle (>= 2).
        pct_start: fraction of the cycle spent increasing, in (0, 1).
        div_factor: ``max_lr / div_factor`` is the starting rate (>= 1).
        final_div_factor: the final rate is the starting rate divided by this (>= 1).
        anneal: ``"cos"`` or ``"linear"``.

    Returns:
        A schedule: ``schedule(step)`` is the learning rate (float32 tensor).

    Example:
        >>> s = OneCycle(0.1, total_steps=100, pct_start=0.25)
        >>> round(float(s(25)), 6)
        0.1
    """

    def __init__(self, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4, anneal="cos"):
        self.max_lr = check_float("max_lr", max_lr, minimum=0.0, min_inclusive=False)
        self.total_steps = check_int("total_steps", total_steps, minimum=2)
        self.pct_start = check_float("pct_start", pct_start, minimum=0.0, maximum=1.0,
                                     min_inclusive=False, max_inclusive=False)
        self.div_factor = check_float("div_factor", div_factor, minimum=1.0)
        self.final_div_factor = check_float("final_div_factor", final_div_factor, minimum=1.0)
        self.anneal = check_choice("anneal", anneal, ("cos", "linear"))

    def _interp(self, start, end, fraction):
        if self.anneal == "cos":
            return _cosine(start, end, fraction)
        return start + (end - start) * fraction

    def __call__(self, step):
        t = _step(step)
        up = self.pct_start * self.total_steps
        lo = self.max_lr / self.div_factor
        end = lo / self.final_div_factor
        f_up = ops.clip(t / up, 0.0, 1.0)
        f_down = ops.clip((t - up) / (self.total_steps - up), 0.0, 1.0)
        return ops.where(t <= up, self._interp(lo, self.max_lr, f_up),
                         self._interp(self.max_lr, end, f_down))

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps,
                "pct_start": self.pct_start, "div_factor": self.div_factor,
                "final_div_factor": self.final_div_factor, "anneal": self.anneal}


@SCHEDULES.register("cyclical")
@keras.saving.register_keras_serializable(package="tfgenopt")
class Cyclical(keras.optimizers.schedules.LearningRateSchedule):
    """Cyclical learning rate (Smith, 2017): triangles between ``base_lr`` and ``max_lr``.

    With ``cycle = floor(1 + t / (2 * step_size))`` and ``x = |t / step_size - 2 * cycle + 1|``,
    ``lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale`` where ``scale`` is 1
    (``"triangular"``), ``1 / 2 ** (cycle - 1)`` (``"triangular2"``) or ``gamma ** t``
    (``"exp_range"``).

    Args:
        base_lr: the lowest learning rate (>= 0).
        max_lr: the highest learning rate (> ``base_lr``).
        step_size: steps of a half cycle (>= 1).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: decay per step for ``"exp_range"``, in (0, 1].

    Returns:
        A schedule: ``schedule(step)`` is the learning rate (float32 tensor).

    Example:
        >>> s = Cyclical(1e-4, 1e-2, step_size=50)
        >>> round(float(s(50)), 6)
        0.01
    """

    def __init__(self, base_lr, max_lr, step_size, mode="triangular", gamma=1.0):
        self.base_lr = check_float("base_lr", base_lr, minimum=0.0)
        self.max_lr = check_float("max_lr", max_lr, minimum=self.base_lr, min_inclusive=False)
        self.step_size = check_int("step_size", step_size, minimum=1)
        self.mode = check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0, min_inclusive=False)

    def __call__(self, step):
        t = _step(step)
        s = float(self.step_size)
        cycle = ops.floor(1.0 + t / (2.0 * s))
        x = ops.abs(t / s - 2.0 * cycle + 1.0)
        if self.mode == "triangular":
            scale = ops.ones_like(t)
        elif self.mode == "triangular2":
            scale = ops.power(0.5, cycle - 1.0)
        else:
            scale = ops.power(self.gamma, t)
        return self.base_lr + (self.max_lr - self.base_lr) * ops.maximum(0.0, 1.0 - x) * scale

    def get_config(self):
        return {"base_lr": self.base_lr, "max_lr": self.max_lr, "step_size": self.step_size,
                "mode": self.mode, "gamma": self.gamma}


@SCHEDULES.register("step_decay")
@keras.saving.register_keras_serializable(package="tfgenopt")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Multiply the learning rate by ``drop`` every ``every`` steps, never below ``min_lr``.

    ``lr(t) = max(min_lr, initial_lr * drop ** floor(t / every))``.

    Args:
        initial_lr: the learning rate at step 0 (> 0).
        every: steps between drops (>= 1).
        drop: the factor applied at each drop, in (0, 1].
        min_lr: the floor (>= 0).

    Returns:
        A schedule: ``schedule(step)`` is the learning rate (float32 tensor).

    Example:
        >>> s = StepDecay(0.1, every=10, drop=0.5)
        >>> round(float(s(25)), 6)
        0.025
    """

    def __init__(self, initial_lr, every, drop=0.5, min_lr=0.0):
        self.initial_lr = check_float("initial_lr", initial_lr, minimum=0.0, min_inclusive=False)
        self.every = check_int("every", every, minimum=1)
        self.drop = check_float("drop", drop, minimum=0.0, maximum=1.0, min_inclusive=False)
        self.min_lr = check_float("min_lr", min_lr, minimum=0.0)

    def __call__(self, step):
        t = _step(step)
        k = ops.floor(t / float(self.every))
        return ops.maximum(self.min_lr, self.initial_lr * ops.power(self.drop, k))

    def get_config(self):
        return {"initial_lr": self.initial_lr, "every": self.every, "drop": self.drop,
                "min_lr": self.min_lr}


def get(identifier, **kwargs):
    """Resolve a schedule from an instance, a registered name (plus arguments) or a config.

    Args:
        identifier: a ``LearningRateSchedule`` (returned as is), a name from
            ``SCHEDULES.names()`` (built with ``kwargs``), or a dict
            ``{"name": ..., **arguments}``.
        **kwargs: constructor arguments when ``identifier`` is a name.

    Returns:
        A ``keras.optimizers.schedules.LearningRateSchedule``.

    Example:
        >>> s = get("step_decay", initial_lr=0.1, every=100)
        >>> type(s).__name__
        'StepDecay'
    """
    if isinstance(identifier, keras.optimizers.schedules.LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        return SCHEDULES.get(name, "identifier")(**config, **kwargs)
    if isinstance(identifier, str):
        return SCHEDULES.get(identifier, "identifier")(**kwargs)
    raise TypeError(
        "`identifier` must be a LearningRateSchedule, a schedule name "
        f"({SCHEDULES.names()}) or a dict with a 'name'; received {identifier!r}."
    )

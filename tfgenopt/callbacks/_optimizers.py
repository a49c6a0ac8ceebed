"""Reading and setting an optimizer's learning rate, whether a float or a schedule."""

from __future__ import annotations

import keras

from tfgenopt import _keras_adapter

__all__ = ["has_schedule", "get_lr", "set_lr"]


def has_schedule(optimizer):
    """True when ``optimizer``'s learning rate is a schedule (or callable), hence not settable.

    Example:
        >>> has_schedule(keras.optimizers.SGD(0.1))
        False
    """
    lr = _keras_adapter.learning_rate_object(optimizer)  # a schedule object or a variable
    return isinstance(lr, keras.optimizers.schedules.LearningRateSchedule) or (
        callable(lr) and not isinstance(lr, keras.Variable))


def get_lr(optimizer):
    """The optimizer's current learning rate as a Python float (a schedule is evaluated).

    Example:
        >>> get_lr(keras.optimizers.SGD(0.25))
        0.25
    """
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def set_lr(optimizer, value):
    """Assign a new learning rate; raises ``TypeError`` for an optimizer driven by a schedule.

    Example:
        >>> opt = keras.optimizers.SGD(0.1)
        >>> set_lr(opt, 0.5); get_lr(opt)
        0.5
    """
    if has_schedule(optimizer):
        raise TypeError(
            f"The learning rate of optimizer {optimizer.name!r} is a schedule "
            f"({type(_keras_adapter.learning_rate_object(optimizer)).__name__}) and cannot be set; "
            "compile with a float "
            "learning rate to let callbacks change it."
        )
    optimizer.learning_rate = float(value)

"""Exponential moving average (EMA) of a network's weights, kept in a cloned network.

The GAN keeps its EMA generator as a real ``keras.Model`` (a clone of the generator), not as
optimizer slots: it is saved with the model like any sub-network, ``generate()`` and quality
callbacks use it directly (no weight swapping), and it works with any optimizer (Keras'
``use_ema`` only covers ``model.optimizer``).
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["clone_for_ema", "update_ema", "ema_decay"]


def clone_for_ema(network):
    """A non-trainable clone of ``network`` holding a copy of its current weights.

    Args:
        network: a built ``keras.Model``.

    Returns:
        A ``keras.Model`` with the same architecture and weights, ``trainable=False``.

    Example:
        >>> import keras
        >>> g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> e = clone_for_ema(g)
        >>> e.trainable
        False
    """
    clone = keras.models.clone_model(network)
    clone.set_weights(network.get_weights())
    clone.trainable = False
    return clone


def _is_float(v):
    return "float" in str(v.dtype)


def update_ema(ema_network, network, decay):
    """Move every float weight of ``ema_network`` towards ``network``'s: ``e += (1-decay)(w-e)``.

    Args:
        ema_network: the EMA clone (see :func:`clone_for_ema`).
        network: the trained network.
        decay: the EMA decay in ``[0, 1)`` (0.999 is typical).

    Returns:
        None.

    Example:
        >>> import keras, numpy as np
        >>> g = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> e = clone_for_ema(g)
        >>> g.set_weights([np.array([[1.0]])]); e.set_weights([np.array([[0.0]])])
        >>> update_ema(e, g, 0.9)
        >>> round(float(e.get_weights()[0][0, 0]), 6)
        0.1
    """
    rate = 1.0 - decay
    for e, w in zip(ema_network.weights, network.weights):
        if _is_float(e):
            e.assign(e + ops.cast(rate, e.dtype) * (ops.cast(w, e.dtype) - e))
        else:
            e.assign(w)


def ema_decay(ema, step):
    """The EMA decay at generator step ``step``: ``min(ema, (1 + step) / (10 + step))``.

    The ramp keeps early samples from being dominated by the initial weights.

    Example:
        >>> round(float(ema_decay(0.999, 0)), 4), round(float(ema_decay(0.999, 10**6)), 4)
        (0.1, 0.999)
    """
    step = ops.cast(step, "float32")
    return ops.minimum(ema, (1.0 + step) / (10.0 + step))

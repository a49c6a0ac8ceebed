"""SinusoidalEmbedding: a noise level (or time) as sines and cosines of geometric frequencies."""

from __future__ import annotations

import math

import keras
from keras import ops

from tfgenopt._validation import check_float, check_int

__all__ = ["SinusoidalEmbedding"]


@keras.saving.register_keras_serializable(package="tfgenopt")
class SinusoidalEmbedding(keras.layers.Layer):
    """Embed a scalar per sample as ``[sin(2 pi f x), cos(2 pi f x)]`` for ``dim / 2`` frequencies.

    The frequencies are spaced geometrically from ``min_frequency`` to ``max_frequency`` (the
    keras.io DDIM example's embedding of the noise variance: 32 dimensions, 1 to 1000). The
    layer has no weights; its input is ``(batch, 1)`` (or ``(batch,)``), its output
    ``(batch, dim)``, computed in float32.

    Args:
        dim: the embedding size (even).
        min_frequency, max_frequency: the lowest and highest frequency.

    Example:
        >>> import numpy as np
        >>> tuple(SinusoidalEmbedding(8)(np.zeros((2, 1), "float32")).shape)
        (2, 8)
    """

    def __init__(self, dim=32, min_frequency=1.0, max_frequency=1000.0, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int("dim", dim, minimum=2)
        if self.dim % 2:
            raise ValueError(f"`dim` must be even; received {dim!r}.")
        self.min_frequency = check_float("min_frequency", min_frequency, 0.0, min_inclusive=False)
        self.max_frequency = check_float("max_frequency", max_frequency, self.min_frequency)

    def call(self, x):
        x = ops.reshape(ops.cast(x, "float32"), (-1, 1))
        half = self.dim // 2
        lo, hi = math.log(self.min_frequency), math.log(self.max_frequency)
        steps = ops.arange(half, dtype="float32") / max(half - 1, 1)
        speeds = 2.0 * math.pi * ops.exp(lo + steps * (hi - lo))
        angles = x * speeds[None, :]
        return ops.cast(ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1),
                        self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "min_frequency": self.min_frequency,
                "max_frequency": self.max_frequency}

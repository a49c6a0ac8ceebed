"""MinibatchStdDev: the minibatch standard-deviation layer of ProGAN / StyleGAN.

A discriminator that sees one sample at a time cannot tell a collapsed generator (every sample
the same) from a healthy one. This layer appends a statistic of the whole minibatch to every
sample: the standard deviation of each feature over a small group of samples, averaged over
the features. A batch of identical samples gets a statistic of (almost) zero, which the
discriminator learns to recognise as fake (Karras et al., 2018).
"""

from __future__ import annotations

import keras
from keras import ops

from tfgenopt._validation import check_int

__all__ = ["MinibatchStdDev"]


@keras.saving.register_keras_serializable(package="tfgenopt")
class MinibatchStdDev(keras.layers.Layer):
    """Append the minibatch standard deviation as extra feature(s) / channel(s).

    For inputs ``(N, ..., C)`` (flat ``(N, F)`` vectors or ``(N, H, W, C)`` images):

    1. **Groups.** The batch is split into consecutive groups of ``G`` samples (samples
       ``0..G-1``, ``G..2G-1``, ...) with ``G = min(group_size, N)``. When ``G`` does not
       divide ``N`` (for example the last, smaller batch of an epoch), the whole batch forms
       one group (``G = N``). Consecutive groups keep a ``[real; fake]`` batch pure when
       ``group_size`` divides the size of each half.
    2. **Statistic.** Within a group, the biased standard deviation of every element,
       ``sqrt(mean((x - mean_group(x))**2) + 1e-8)``, is averaged over the spatial positions and
       over the channels of each of ``num_features`` equal, contiguous chunks of the last axis.
    3. **Output.** Each sample receives its group's ``num_features`` values, appended on the
       last axis (broadcast over ``H`` and ``W`` for images): ``(N, ..., C + num_features)``.

    The layer has no weights; it is differentiable and computes in float32.

    Args:
        group_size: samples per group (>= 1; 4 in StyleGAN). 1 gives a constant ``1e-4``.
        num_features: how many statistics to append; ``C`` must be a multiple of it.

    Returns:
        A Keras layer mapping ``(N, ..., C)`` to ``(N, ..., C + num_features)``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0, 2.0], [2.0, 4.0]], "float32")
        >>> y = MinibatchStdDev(group_size=2)(x)   # per-feature std 1 and 1, mean 1
        >>> np.round(keras.ops.convert_to_numpy(y), 4).tolist()
        [[0.0, 2.0, 1.0], [2.0, 4.0, 1.0]]
    """

    def __init__(self, group_size=4, num_features=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size = check_int("group_size", group_size, minimum=1)
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.supports_masking = False

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError("MinibatchStdDev needs inputs of shape (batch, ..., features); "
                             f"received shape {tuple(input_shape)}.")
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("MinibatchStdDev needs a known last dimension; received shape "
                             f"{tuple(input_shape)}.")
        if channels % self.num_features:
            raise ValueError(f"`num_features` ({self.num_features}) must divide the number of "
                             f"features/channels ({channels}) of the input.")
        self.built = True

    def _group(self, n):
        """The group size for a batch of ``n`` (a scalar int32 tensor): see the class docstring."""
        g = ops.minimum(ops.convert_to_tensor(self.group_size, "int32"), n)
        return ops.where(ops.equal(ops.mod(n, g), 0), g, n)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        shape = ops.shape(x)
        inner = tuple(x.shape[1:-1])  # static spatial dims (empty for flat inputs)
        channels = x.shape[-1]
        n = ops.cast(shape[0], "int32")
        g = self._group(n)
        f = self.num_features
        # (N, *S, C) -> (N/G, G, *S, F, C/F); statistics keep the group axis for broadcasting
        y = ops.reshape(x, (-1, g) + inner + (f, channels // f))
        y = y - ops.mean(y, axis=1, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(y), axis=1, keepdims=True) + 1e-8)
        reduce_axes = tuple(range(2, len(inner) + 2)) + (len(inner) + 3,)
        stat = ops.mean(std, axis=reduce_axes, keepdims=True)  # (N/G, 1, 1.., F, 1)
        stat = ops.zeros_like(y[..., :1]) + stat  # every sample of a group, every position
        stat = ops.reshape(stat, (-1,) + inner + (f,))
        out = ops.concatenate([x, stat], axis=-1)
        return ops.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else input_shape[-1] + self.num_features
        return tuple(input_shape[:-1]) + (last,)

    def get_config(self):
        config = super().get_config()
        config.update(group_size=self.group_size, num_features=self.num_features)
        return config

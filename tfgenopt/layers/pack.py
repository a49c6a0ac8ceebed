"""Pack: PacGAN's packing, as a layer at the discriminator's input.

A discriminator that judges one sample at a time cannot see that a generator draws too few
kinds of sample: each sample alone may look real. PacGAN (Lin et al., 2018) lets it judge
``m`` samples of one source together, stacked along the channels; a pack from a generator that
drops modes holds repeats more often than a pack of real data, and the discriminator learns
to tell (in the paper's stacked-MNIST test, packing two samples took a DCGAN from 99 of
1,000 modes to all of them).

This layer keeps one row per sample, so every loss, penalty and callback still sees a batch of
``N`` logits: row ``i`` is the pack that starts at sample ``i`` and continues with the next
``m - 1`` samples of its group, cyclically. Each pack is judged ``m`` times, each time in
another order, which is PacGAN with a discriminator made symmetric in the order of its pack.
"""

from __future__ import annotations

import keras
from keras import ops

from tfgenopt._validation import check_int

__all__ = ["Pack"]


@keras.saving.register_keras_serializable(package="tfgenopt")
class Pack(keras.layers.Layer):
    """Stack each sample with the next ``size - 1`` samples of its group along the last axis.

    For inputs ``(N, ..., C)``:

    1. **Groups.** The batch is split into consecutive groups of ``size`` samples. When
       ``size`` does not divide ``N`` the whole batch forms one group. Consecutive groups keep
       a ``[real; fake]`` batch pure when ``size`` divides the size of each half.
    2. **Output.** Row ``i`` holds sample ``i`` followed by the next ``size - 1`` samples of
       its group, wrapping around inside the group: ``(N, ..., C * size)``.

    The layer has no weights and is differentiable (a gather and a concatenation).

    Args:
        size: samples per pack (>= 2; PacGAN's ``m``, 2 in most of its experiments).

    Returns:
        A Keras layer mapping ``(N, ..., C)`` to ``(N, ..., C * size)``.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0], [2.0], [3.0], [4.0]], "float32")
        >>> keras.ops.convert_to_numpy(Pack(2)(x)).tolist()
        [[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0]]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int("size", size, minimum=2)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError("Pack needs inputs of shape (batch, ..., channels) with known "
                             f"channels; received shape {tuple(input_shape)}.")
        self.built = True

    def call(self, inputs):
        n = ops.cast(ops.shape(inputs)[0], "int32")
        m = ops.convert_to_tensor(self.size, "int32")
        group = ops.where(ops.equal(ops.mod(n, m), 0), m, n)
        index = ops.arange(n, dtype="int32")
        start = index - ops.mod(index, group)
        parts = [inputs] + [
            ops.take(inputs, start + ops.mod(index - start + k, group), axis=0)
            for k in range(1, self.size)]
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] * self.size,)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size)
        return config

"""``LeCamEMA``: the moving averages of the discriminator's logits behind the LeCam regularizer."""

from __future__ import annotations

import keras
from keras import ops

from tfgenopt import losses
from tfgenopt._validation import check_float

__all__ = ["LeCamEMA"]


@keras.saving.register_keras_serializable(package="tfgenopt")
class LeCamEMA(keras.layers.Layer):
    """Moving averages of the mean real and fake logits, for :func:`lecam_penalty`.

    Holds two non-trainable float32 scalar variables, ``ema_real`` and ``ema_fake`` (starting
    at ``initial``), updated by ``ema = decay * ema + (1 - decay) * mean(logits)``. A layer, so
    that a model holding it as an attribute saves and restores the averages with its weights;
    its ``call`` is the identity.

    Args:
        decay: in ``[0, 1)``; 0.99 in the paper.
        initial: the starting value of both averages.

    Returns:
        A Keras layer with :meth:`update` and :meth:`penalty`.

    Example:
        >>> import numpy as np
        >>> ema = LeCamEMA(decay=0.5)
        >>> ema.update(np.array([2.0, 4.0]), np.array([-2.0]))
        >>> float(ema.ema_real.numpy()), float(ema.ema_fake.numpy())
        (1.5, -1.0)
    """

    def __init__(self, decay=0.99, initial=0.0, **kwargs):
        super().__init__(**kwargs)
        self.decay = check_float("decay", decay, 0.0, 1.0, max_inclusive=False)
        self.initial = check_float("initial", initial)
        init = keras.initializers.Constant(self.initial)
        self.ema_real = self.add_weight(name="ema_real", shape=(), initializer=init,
                                        trainable=False)
        self.ema_fake = self.add_weight(name="ema_fake", shape=(), initializer=init,
                                        trainable=False)
        self.built = True

    def update(self, real_logits, fake_logits):
        """Move both averages toward this batch's mean logits (works inside ``tf.function``).

        Args:
            real_logits: discriminator logits on real samples.
            fake_logits: discriminator logits on generated samples.

        Returns:
            None.

        Example:
            >>> ema = LeCamEMA(decay=0.9)
            >>> ema.update([1.0, 3.0], [0.0])
            >>> round(float(ema.ema_real.numpy()), 4)
            0.2
        """
        d = self.decay
        self.ema_real.assign(d * self.ema_real + (1.0 - d) * ops.mean(ops.cast(real_logits, "float32")))
        self.ema_fake.assign(d * self.ema_fake + (1.0 - d) * ops.mean(ops.cast(fake_logits, "float32")))

    def penalty(self, real_logits, fake_logits):
        """:func:`lecam_penalty` of the logits against the current averages.

        Args:
            real_logits: discriminator logits on real samples.
            fake_logits: discriminator logits on generated samples.

        Returns:
            A float32 scalar tensor.

        Example:
            >>> float(LeCamEMA().penalty([2.0], [-1.0]))  # both averages 0: 2^2 + 1^2
            5.0
        """
        return losses.lecam_penalty(real_logits, fake_logits, self.ema_real, self.ema_fake)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(decay=self.decay, initial=self.initial)
        return config

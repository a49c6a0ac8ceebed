"""New adversarial losses and regularizers, to be merged into ``tfgenopt.losses`` by the lead.

* :func:`ra_d_loss` / :func:`ra_g_loss`: the relativistic average GAN loss (RaGAN,
  Jolicoeur-Martineau, 2018), non-saturating (binary cross-entropy) form.
* :func:`lecam_penalty` and :class:`LeCamEMA`: the LeCam regularizer (Tseng et al., 2021).

Note for the merge: ``AdversarialLoss.g_loss(fake_logits)`` takes only the fake logits, but the
relativistic generator loss needs the real logits too (``ra_g_loss(fake, real)``), so the
generator step must also run the discriminator on the real batch (no gradient flows into D
there, but the real logits' mean enters the loss). One way: give ``AdversarialLoss`` a field
``g_needs_real: bool = False`` and call ``g_loss(fake_logits, real_logits)`` when it is true.
The LeCam term is added to the discriminator's loss as ``lecam * lecam_penalty(...)``
(``lecam`` ~ 0.01-0.3 in the paper) after ``LeCamEMA.update(real_logits, fake_logits)``.
"""

from __future__ import annotations

import keras
from keras import ops

from tfgenopt._validation import check_float

__all__ = ["ra_d_loss", "ra_g_loss", "lecam_penalty", "LeCamEMA"]


def _f32(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


def _bce_logits(logits, target):
    """Mean binary cross-entropy of ``logits`` against a constant ``target`` (stable form)."""
    return ops.mean(ops.softplus(logits) - target * logits)


def ra_d_loss(real_logits, fake_logits, label_smoothing=0.0):
    """The relativistic average discriminator loss (RaGAN, non-saturating form).

    ``-E[log sigmoid(C(x_r) - E C(x_f))] - E[log(1 - sigmoid(C(x_f) - E C(x_r)))]``: the
    discriminator says how much more realistic a real sample is than the average fake one.
    With ``label_smoothing`` the first target is ``1 - label_smoothing`` (one-sided).

    Args:
        real_logits: ``C(x_r)``, logits on real samples, shape ``(n, 1)`` or ``(n,)``.
        fake_logits: ``C(x_f)``, logits on generated samples.
        label_smoothing: in ``[0, 1)``.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import numpy as np
        >>> round(float(ra_d_loss(np.zeros((2, 1)), np.zeros((2, 1)))), 4)  # 2 log 2
        1.3863
    """
    real, fake = _f32(real_logits), _f32(fake_logits)
    real_rel = real - ops.mean(fake)
    fake_rel = fake - ops.mean(real)
    return _bce_logits(real_rel, 1.0 - label_smoothing) + _bce_logits(fake_rel, 0.0)


def ra_g_loss(fake_logits, real_logits):
    """The relativistic average generator loss (RaGAN): the discriminator's, roles swapped.

    ``-E[log sigmoid(C(x_f) - E C(x_r))] - E[log(1 - sigmoid(C(x_r) - E C(x_f)))]``. It needs
    the real logits too: the generator gains from real samples looking *less* real relative to
    its fakes, so both terms carry its gradient.

    Args:
        fake_logits: ``C(x_f)``, logits on generated samples.
        real_logits: ``C(x_r)``, logits on real samples.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import numpy as np
        >>> round(float(ra_g_loss(np.zeros((2, 1)), np.zeros((2, 1)))), 4)
        1.3863
    """
    real, fake = _f32(real_logits), _f32(fake_logits)
    return _bce_logits(fake - ops.mean(real), 1.0) + _bce_logits(real - ops.mean(fake), 0.0)


def lecam_penalty(real_logits, fake_logits, ema_real, ema_fake):
    """The LeCam regularizer ``mean(relu(D(x_r) - ema_fake)^2) + mean(relu(ema_real - D(x_f))^2)``.

    It keeps the discriminator's predictions near the moving averages of its predictions on
    the other class, which bounds how far it can overfit a small data set (Tseng et al., 2021).

    Args:
        real_logits: discriminator logits on real samples.
        fake_logits: discriminator logits on generated samples.
        ema_real: the moving average of the mean real logit (a scalar; see :class:`LeCamEMA`).
        ema_fake: the moving average of the mean fake logit.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(lecam_penalty(np.array([2.0, -1.0]), np.array([0.0, 3.0]), 1.0, 0.5))
        1.625
    """
    real, fake = _f32(real_logits), _f32(fake_logits)
    ema_real, ema_fake = _f32(ema_real), _f32(ema_fake)
    return (ops.mean(ops.square(ops.relu(real - ema_fake)))
            + ops.mean(ops.square(ops.relu(ema_real - fake))))


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
        self.ema_real.assign(d * self.ema_real + (1.0 - d) * ops.mean(_f32(real_logits)))
        self.ema_fake.assign(d * self.ema_fake + (1.0 - d) * ops.mean(_f32(fake_logits)))

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
        return lecam_penalty(real_logits, fake_logits, self.ema_real, self.ema_fake)

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(decay=self.decay, initial=self.initial)
        return config

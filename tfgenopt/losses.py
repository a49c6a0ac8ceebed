"""Adversarial losses and penalties: pure functions of discriminator logits and tensors.

Every adversarial loss is an :class:`AdversarialLoss`, a named pair of functions

* ``d_loss(real_logits, fake_logits, label_smoothing=0.0)``: the discriminator's loss,
* ``g_loss(fake_logits)``: the generator's loss,

both returning a float32 scalar (the mean over the batch). Losses resolve by name through a
small registry (:func:`get`); an unknown name raises a ``ValueError`` listing the known ones.
``label_smoothing`` is one-sided (real targets become ``1 - label_smoothing``) and only applies
to the losses whose ``supports_label_smoothing`` is true.

Penalties (:func:`gradient_penalty`, :func:`r1_penalty`) are functions of a discriminator and
tensors; they need the TensorFlow backend (they differentiate through the discriminator).
"""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from tfgenopt._registry import Registry

__all__ = [
    "AdversarialLoss",
    "get",
    "names",
    "minimax",
    "non_saturating",
    "hinge",
    "wasserstein",
    "least_squares",
    "relativistic_average",
    "ra_d_loss",
    "ra_g_loss",
    "gradient_penalty",
    "r1_penalty",
    "lecam_penalty",
]

_LOSSES = Registry("adversarial loss")


@dataclasses.dataclass(frozen=True)
class AdversarialLoss:
    """A named pair of discriminator / generator losses computed from logits.

    Args:
        name: the registry name.
        d_loss: ``d_loss(real_logits, fake_logits, label_smoothing=0.0) -> scalar``.
        g_loss: ``g_loss(fake_logits) -> scalar``.
        supports_label_smoothing: whether ``label_smoothing`` means anything for this loss.
        g_needs_real: the generator loss is ``g_loss(fake_logits, real_logits)`` (relativistic
            losses compare fakes with reals); otherwise ``g_loss(fake_logits)``.

    Example:
        >>> import numpy as np
        >>> loss = get("wasserstein")
        >>> float(loss.d_loss(np.ones((2, 1)), np.zeros((2, 1))))
        -1.0
    """

    name: str
    d_loss: object
    g_loss: object
    supports_label_smoothing: bool = True
    g_needs_real: bool = False


def get(loss, argument="loss"):
    """Return the :class:`AdversarialLoss` named ``loss`` (instances pass through).

    Args:
        loss: a registered name (see :func:`names`) or an :class:`AdversarialLoss`.
        argument: the argument name quoted in the error message.

    Returns:
        An :class:`AdversarialLoss`.

    Example:
        >>> get("hinge").name
        'hinge'
    """
    if isinstance(loss, AdversarialLoss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(
            f"`{argument}` must be a loss name {names()} or an AdversarialLoss; "
            f"received {loss!r} ({type(loss).__name__})."
        )
    return _LOSSES.get(loss, argument)


def names():
    """The registered adversarial loss names, sorted.

    Returns:
        A list of strings.

    Example:
        >>> "non_saturating" in names()
        True
    """
    return _LOSSES.names()


def _f32(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


def _bce_logits(logits, target):
    """Mean binary cross-entropy of ``logits`` against a constant ``target`` (stable form)."""
    return ops.mean(ops.softplus(logits) - target * logits)


def _minimax_d(real_logits, fake_logits, label_smoothing=0.0):
    real, fake = _f32(real_logits), _f32(fake_logits)
    return _bce_logits(real, 1.0 - label_smoothing) + _bce_logits(fake, 0.0)


def _minimax_g(fake_logits):
    return -_bce_logits(_f32(fake_logits), 0.0)


def _non_saturating_g(fake_logits):
    return _bce_logits(_f32(fake_logits), 1.0)


def _hinge_d(real_logits, fake_logits, label_smoothing=0.0):
    real, fake = _f32(real_logits), _f32(fake_logits)
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


def _critic_g(fake_logits):
    return -ops.mean(_f32(fake_logits))


def _wasserstein_d(real_logits, fake_logits, label_smoothing=0.0):
    return ops.mean(_f32(fake_logits)) - ops.mean(_f32(real_logits))


def _least_squares_d(real_logits, fake_logits, label_smoothing=0.0):
    real, fake = _f32(real_logits), _f32(fake_logits)
    return 0.5 * ops.mean(ops.square(real - (1.0 - label_smoothing))) + 0.5 * ops.mean(
        ops.square(fake)
    )


def _least_squares_g(fake_logits):
    return 0.5 * ops.mean(ops.square(_f32(fake_logits) - 1.0))


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


minimax = AdversarialLoss("minimax", _minimax_d, _minimax_g)
"""Goodfellow et al. (2014): D minimizes BCE(real, 1) + BCE(fake, 0); G minimizes
``mean(log(1 - sigmoid(fake)))`` (saturates early in training)."""

non_saturating = AdversarialLoss("non_saturating", _minimax_d, _non_saturating_g)
"""The classic setup: D as in ``minimax``; G minimizes BCE(fake, 1) = ``mean(softplus(-fake))``."""

hinge = AdversarialLoss("hinge", _hinge_d, _critic_g, supports_label_smoothing=False)
"""Lim & Ye (2017): D minimizes ``mean(relu(1 - real)) + mean(relu(1 + fake))``; G ``-mean(fake)``."""

wasserstein = AdversarialLoss("wasserstein", _wasserstein_d, _critic_g,
                              supports_label_smoothing=False)
"""Arjovsky et al. (2017): the critic minimizes ``mean(fake) - mean(real)``; G ``-mean(fake)``.
Pair it with ``gradient_penalty`` (WGAN-GP) and ``d_steps=5``."""

least_squares = AdversarialLoss("least_squares", _least_squares_d, _least_squares_g)
"""Mao et al. (2017), targets 0/1: D ``0.5 mean((real-1)^2) + 0.5 mean(fake^2)``;
G ``0.5 mean((fake-1)^2)``."""

relativistic_average = AdversarialLoss("relativistic_average", ra_d_loss, ra_g_loss,
                                       g_needs_real=True)
"""Jolicoeur-Martineau (2018), RaGAN in BCE form: D judges whether a real sample is more
realistic than the average fake (and a fake less than the average real); G the reverse, so it
needs the real logits too (``g_needs_real``)."""

for _loss in (minimax, non_saturating, hinge, wasserstein, least_squares,
              relativistic_average):
    _LOSSES.register(_loss.name)(_loss)


def _disc_inputs(x, labels):
    return x if labels is None else [x, labels]


def _input_gradients(discriminator, x, labels, training):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = discriminator(_disc_inputs(x, labels), training=training)
        total = ops.sum(ops.cast(logits, "float32"))
    grads = tape.gradient(total, x)
    return ops.reshape(ops.cast(grads, "float32"), (ops.shape(x)[0], -1))


def gradient_penalty(discriminator, real, fake, labels=None, alpha=None, seed=None, target=1.0,
                     training=True):
    """The WGAN-GP gradient penalty ``mean((||grad_x D(x_hat)||_2 - target)^2)`` on interpolates.

    ``x_hat = real + alpha * (fake - real)`` with one ``alpha ~ U(0, 1)`` per sample
    (Gulrajani et al., 2017).

    Args:
        discriminator: a network mapping images (and ``labels`` when given) to logits.
        real: a batch of real images.
        fake: a batch of generated images of the same shape.
        labels: class labels passed to a conditional discriminator, or None.
        alpha: interpolation weights of shape ``(batch,)``; None samples them with ``seed``.
        seed: an int or a ``keras.random.SeedGenerator`` for ``alpha``.
        target: the gradient norm the penalty pulls towards (1 for WGAN-GP).
        training: the discriminator's ``training`` flag.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import keras, numpy as np
        >>> d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, use_bias=False)])
        >>> d.set_weights([np.array([[3.0], [0.0], [4.0]])])
        >>> float(gradient_penalty(d, np.zeros((2, 3)), np.ones((2, 3))))  # (5 - 1)^2
        16.0
    """
    real = _f32(real)
    fake = _f32(fake)
    batch = ops.shape(real)[0]
    bshape = (batch,) + (1,) * (len(real.shape) - 1)
    if alpha is None:
        alpha = keras.random.uniform(bshape, seed=seed)
    else:
        alpha = ops.reshape(_f32(alpha), bshape)
    x_hat = real + alpha * (fake - real)
    grads = _input_gradients(discriminator, x_hat, labels, training)
    norm = ops.sqrt(ops.sum(ops.square(grads), axis=1) + 1e-12)
    return ops.mean(ops.square(norm - target))


def r1_penalty(discriminator, real, labels=None, training=True):
    """The R1 penalty ``mean(||grad_x D(x)||_2^2)`` on real data (Mescheder et al., 2018).

    The GAN adds ``r1 / 2 * r1_penalty(...)`` to the discriminator's loss (``r1`` = gamma).

    Args:
        discriminator: a network mapping images (and ``labels``) to logits.
        real: a batch of real images.
        labels: class labels for a conditional discriminator, or None.
        training: the discriminator's ``training`` flag.

    Returns:
        A float32 scalar tensor.

    Example:
        >>> import keras, numpy as np
        >>> d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        >>> d.set_weights([np.array([[3.0], [4.0]])])
        >>> float(r1_penalty(d, np.zeros((4, 2))))
        25.0
    """
    grads = _input_gradients(discriminator, _f32(real), labels, training)
    return ops.mean(ops.sum(ops.square(grads), axis=1))

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

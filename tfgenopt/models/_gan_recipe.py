"""The GAN's default recipe and its anti-collapse options, chosen by measurement.

``benchmarks/bench_recipes.py`` trains each candidate on the bundled digits at equal CPU time
and measures class coverage and FID; the README's recipe table lists the numbers behind these
defaults. What ``GAN.compile()`` does with no arguments:

* optimizers given by *name* (``"adam"``, the default) get the GAN learning rates below and
  ``beta_1=0.5`` (where the optimizer has one), instead of Keras' ``1e-3`` / ``0.9`` tuned for
  supervised learning; an optimizer instance or config dict is used exactly as given;
* ``r1="auto"``: an R1 penalty with gamma 1 on real data (lazy, every 4 discriminator steps),
  unless the WGAN-GP ``gradient_penalty`` is on;
* the generator EMA (``GAN(ema=0.999)`` by default) ramps its decay up as
  ``min(ema, (1 + t) / (10 + t))`` so early samples are not dominated by the initial weights.

Options that stay off by default (they did not improve the measured recipe on digits, see
the README): DiffAugment / ADA (``augment``, ``augment_p``, ``ada_target``), LeCam
(``lecam``), the relativistic average loss and the minibatch-stddev discriminator feature.
"""

from __future__ import annotations

import math

from tfgenopt._validation import check_float
from tfgenopt.models import _training as T

D_LEARNING_RATE = 1e-3
G_LEARNING_RATE = 5e-4
BETA_1 = 0.5
R1_GAMMA = 1.0
R1_EVERY = 4
EMA_DECAY = 0.999


def resolve_optimizer(name, value, learning_rate):
    """A fresh optimizer; a *name* gets the GAN ``learning_rate`` and ``beta_1=0.5``.

    Args:
        name: the argument name, for error messages (``"d_optimizer"``).
        value: an optimizer instance, a config dict, or a name such as ``"adam"``.
        learning_rate: the learning rate a name resolves with.

    Returns:
        A ``keras.optimizers.Optimizer``.

    Example:
        >>> opt = resolve_optimizer("d_optimizer", "adam", 1e-3)
        >>> float(opt.learning_rate), opt.beta_1
        (0.001, 0.5)
    """
    opt = T.resolve_optimizer(name, value)
    if not isinstance(value, str):
        return opt
    config = opt.get_config()
    config["learning_rate"] = learning_rate
    if "beta_1" in config:
        config["beta_1"] = BETA_1
    return opt.__class__.from_config(config)


def resolve_r1(r1, gradient_penalty):
    """``r1="auto"``: gamma 1 unless the WGAN-GP penalty is on (then 0); numbers pass through."""
    if isinstance(r1, str):
        if r1 != "auto":
            raise ValueError(f"`r1` must be a number >= 0 or 'auto'; received {r1!r}.")
        return 0.0 if gradient_penalty else R1_GAMMA
    return r1


def ema_decay(ema, step):
    """The EMA decay at generator step ``step``: ``min(ema, (1 + step) / (10 + step))``.

    Example:
        >>> round(float(ema_decay(0.999, 0)), 4), round(float(ema_decay(0.999, 10**6)), 4)
        (0.1, 0.999)
    """
    from keras import ops

    step = ops.cast(step, "float32")
    return ops.minimum(ema, (1.0 + step) / (10.0 + step))


def image_shape_of(discriminator):
    """The ``(H, W, C)`` images the discriminator reads (a flat ``n`` input: ``sqrt(n)``-square).

    Raises:
        ValueError: a flat input whose length is not a square.
    """
    shape = T.static_shape(discriminator.inputs[0])
    if len(shape) == 3:
        return shape
    side = math.isqrt(shape[0]) if len(shape) == 1 and shape[0] else 0
    if side * side != (shape[0] if len(shape) == 1 else -1):
        raise ValueError(f"`augment` needs image-shaped data, or flat vectors of a square image; "
                         f"the discriminator's input has shape {shape}.")
    return (side, side, 1)


def value_range_of(generator):
    """``(-1, 1)`` for a tanh generator output, else ``(0, 1)`` (for colour augmentation)."""
    act = getattr(generator.layers[-1], "activation", None)
    return (-1.0, 1.0) if getattr(act, "__name__", "") == "tanh" else (0.0, 1.0)


def make_augmenter(augment, augment_p, ada_target, generator, discriminator, seed):
    """The ``AdaptiveAugment`` layer for ``compile(augment=...)``, or None when off.

    With ``ada_target`` the probability adapts (ADA, starting at 0); otherwise it stays at
    ``augment_p`` (DiffAugment: 1.0).
    """
    from tfgenopt.augment import POLICIES, AdaptiveAugment, parse_policy

    augment_p = check_float("augment_p", augment_p, 0.0, 1.0)
    if ada_target is not None:
        ada_target = check_float("ada_target", ada_target, 0.0, 1.0, min_inclusive=False,
                                 max_inclusive=False)
    if augment is None:
        if ada_target is not None:
            raise ValueError("`ada_target` needs `augment` (a DiffAugment policy such as "
                             "'color,translation,cutout').")
        return None
    try:
        policy = ",".join(parse_policy(augment))
    except (TypeError, ValueError) as e:
        raise type(e)(str(e).replace("`policy`", "`augment`", 1)) from None
    if not policy:
        raise ValueError(f"`augment` must name at least one augmentation from {list(POLICIES)} "
                         f"(or be None); received {augment!r}.")
    return AdaptiveAugment(policy=policy, image_shape=image_shape_of(discriminator),
                           value_range=value_range_of(generator),
                           target=0.6 if ada_target is None else ada_target,
                           initial_p=0.0 if ada_target is not None else augment_p,
                           seed=seed, name="augmenter")


def lecam_weight(lecam):
    """Validate the LeCam weight (``>= 0``)."""
    return check_float("lecam", lecam, 0.0)


def make_lecam(lecam):
    """The ``LeCamEMA`` state for ``compile(lecam=w)`` with ``w > 0``, else None."""
    from tfgenopt.layers import LeCamEMA

    return LeCamEMA(name="lecam_ema") if lecam else None

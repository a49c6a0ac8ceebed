"""``GANRecipe``: every argument of ``GAN.compile``, checked and resolved in one place.

``GAN.compile(**kwargs)`` is ``GANRecipe(**kwargs)`` handed to the GAN; ``get_compile_config``
is the recipe's :meth:`~GANRecipe.to_config` and loading a ``.keras`` file rebuilds the recipe
with :meth:`~GANRecipe.from_config`, the way Keras' ``CompileLoss`` owns a model's compile state.

The defaults (the signature of :class:`GANRecipe`, and the constants below) are the measured
recipe of the README's table: ``benchmarks/bench_recipes.py`` trains each candidate on the
bundled digits at equal CPU time and measures class coverage and FID. What ``GAN.compile()``
does with no arguments:

* optimizers given by *name* (``"adam"``, the default) get the GAN learning rates
  :data:`D_LEARNING_RATE` / :data:`G_LEARNING_RATE` and ``beta_1=0.5`` (where the optimizer has
  one), instead of Keras' ``1e-3`` / ``0.9`` tuned for supervised learning; an optimizer
  instance or config dict is used exactly as given;
* ``r1="auto"``: an R1 penalty with gamma 1 on real data (lazy, every 4 discriminator steps),
  unless the WGAN-GP ``gradient_penalty`` is on;
* ``steps_per_execution="auto"``: 32 batches per compiled call unless a callback needs every
  batch (``tfgenopt.models._execution``); ``jit_compile="auto"``: Keras' rule.

Options that stay off by default (they did not improve the measured recipe on digits, see the
README): DiffAugment / ADA (``augment``, ``augment_p``, ``ada_target``), LeCam (``lecam``), the
relativistic average loss and the minibatch-stddev discriminator feature.
"""

from __future__ import annotations

import math

import keras

from tfgenopt import losses
from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.augment import POLICIES, AdaptiveAugment, parse_policy
from tfgenopt.layers import LeCamEMA
from tfgenopt.models._execution import check_steps_per_execution
from tfgenopt.models._optimizer import resolve_optimizer
from tfgenopt.models._range import output_range
from tfgenopt.models._training import static_shape, wrap_loss_scale

__all__ = ["GANRecipe", "resolve_optimizer"]

D_LEARNING_RATE = 1e-3
G_LEARNING_RATE = 5e-4
BETA_1 = 0.5
R1_GAMMA = 1.0
R1_EVERY = 4


def _augment_policy(augment, ada_target):
    """The normalized DiffAugment policy string of ``augment`` (None when off)."""
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
    return policy


def image_shape_of(discriminator):
    """The ``(H, W, C)`` images the discriminator reads (a flat ``n`` input: ``sqrt(n)``-square).

    Raises:
        ValueError: a flat input whose length is not a square.
    """
    shape = static_shape(discriminator.inputs[0])
    if len(shape) == 3:
        return shape
    side = math.isqrt(shape[0]) if len(shape) == 1 and shape[0] else 0
    if side * side != (shape[0] if len(shape) == 1 else -1):
        raise ValueError(f"`augment` needs image-shaped data, or flat vectors of a square image; "
                         f"the discriminator's input has shape {shape}.")
    return (side, side, 1)


def value_range_of(generator):
    """``(-1, 1)`` for a tanh generator output, else ``(0, 1)`` (for colour augmentation)."""
    return output_range(generator, default=(0.0, 1.0))


class GANRecipe:
    """The GAN's training recipe: two optimizers (TTUR), the adversarial loss, its regularizers.

    Every argument is checked here, before anything changes (a bad one raises a ``ValueError``
    or ``TypeError`` naming it, the value received and what is allowed), and ``"auto"`` values
    resolve here. :meth:`build` then makes the state the recipe needs for one GAN's networks
    (the augmenter, the LeCam averages, loss-scaled optimizers built on their variables).
    ``GAN.compile(**kwargs)`` is ``GANRecipe(**kwargs)`` built for the GAN; ``gan.recipe``
    returns it. A recipe holds its optimizers, so it serves one GAN.

    Args:
        d_optimizer: discriminator optimizer: a Keras optimizer, its config, or its name
            (a name resolves with learning rate :data:`D_LEARNING_RATE` and ``beta_1=0.5``).
        g_optimizer: generator optimizer (a different instance; a name resolves with
            learning rate :data:`G_LEARNING_RATE` and ``beta_1=0.5``).
        loss: an adversarial loss name from ``tfgenopt.losses.names()`` or an
            ``AdversarialLoss``.
        gradient_penalty: weight of the WGAN-GP penalty (0 = off).
        r1: gamma of the R1 penalty; the loss adds ``r1 / 2 * E||grad D(real)||^2``.
            ``"auto"``: 1.0, or 0 when ``gradient_penalty`` is on.
        r1_every: lazy R1: compute it every k discriminator steps, weighted by k.
        d_steps: discriminator updates per generator update (the same real batch,
            fresh noise each time, as in the keras.io WGAN-GP example).
        label_smoothing: one-sided: real targets become ``1 - label_smoothing``.
        instance_noise: std of Gaussian noise added to the discriminator's inputs.
        augment: a DiffAugment policy applied to every image the discriminator sees, real
            and fake alike (``"color,translation,cutout"`` or a subset), or None.
        augment_p: probability of each transform per sample, in [0, 1] (DiffAugment: 1).
        ada_target: turns on ADA: the probability starts at 0 and adapts so that the
            share of real images D scores positive stays near this target, in (0, 1)
            (0.6 in StyleGAN2-ADA); logged as ``ada_p``.
        lecam: weight of the LeCam regularizer (0 = off; 0.01-0.3 in the paper).
        jit_compile: XLA: True, False or "auto" (Keras' rule).
        steps_per_execution: batches run inside one compiled call; "auto" runs 32 unless
            a callback needs every batch (see ``tfgenopt.models._execution``).
        run_eagerly: debug mode.

    Example:
        >>> recipe = GANRecipe()
        >>> recipe.r1, recipe.r1_every, float(recipe.g_optimizer.learning_rate)
        (1.0, 4, 0.0005)
        >>> GANRecipe(loss="wasserstein", gradient_penalty=10.0).r1
        0.0
        >>> GANRecipe.from_config(recipe.to_config()).to_config() == recipe.to_config()
        True
    """

    def __init__(self, d_optimizer="adam", g_optimizer="adam", loss="non_saturating",
                 gradient_penalty=0.0, r1="auto", r1_every=R1_EVERY, d_steps=1,
                 label_smoothing=0.0, instance_noise=0.0, augment=None, augment_p=1.0,
                 ada_target=None, lecam=0.0, jit_compile="auto", steps_per_execution="auto",
                 run_eagerly=False):
        self.loss = losses.get(loss)
        self.gradient_penalty = check_float("gradient_penalty", gradient_penalty, 0.0)
        if isinstance(r1, str):
            if r1 != "auto":
                raise ValueError(f"`r1` must be a number >= 0 or 'auto'; received {r1!r}.")
            r1 = 0.0 if self.gradient_penalty else R1_GAMMA
        self.r1 = check_float("r1", r1, 0.0)
        self.r1_every = check_int("r1_every", r1_every, minimum=1)
        self.d_steps = check_int("d_steps", d_steps, minimum=1)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, 0.0, 1.0,
                                           max_inclusive=False)
        self.instance_noise = check_float("instance_noise", instance_noise, 0.0)
        self.lecam = check_float("lecam", lecam, 0.0)
        if self.label_smoothing and not self.loss.supports_label_smoothing:
            raise ValueError(f"`label_smoothing` does not apply to loss {self.loss.name!r}; use "
                             f"it with 'non_saturating', 'minimax' or 'least_squares'.")
        self.augment_p = check_float("augment_p", augment_p, 0.0, 1.0)
        if ada_target is not None:
            ada_target = check_float("ada_target", ada_target, 0.0, 1.0, min_inclusive=False,
                                     max_inclusive=False)
        self.ada_target = ada_target
        self.augment = _augment_policy(augment, ada_target)
        self.jit_compile = check_choice("jit_compile", jit_compile, (True, False, "auto"))
        self.steps_per_execution = check_steps_per_execution(steps_per_execution)
        self.run_eagerly = check_choice("run_eagerly", run_eagerly, (True, False))
        self.d_optimizer = resolve_optimizer("d_optimizer", d_optimizer,
                                             learning_rate=D_LEARNING_RATE, beta_1=BETA_1)
        self.g_optimizer = resolve_optimizer("g_optimizer", g_optimizer,
                                             learning_rate=G_LEARNING_RATE, beta_1=BETA_1)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("`d_optimizer` and `g_optimizer` must be different optimizer "
                             "instances (each keeps slots for its own network).")
        self.augmenter = self.lecam_ema = None

    # ------------------------------------------------------------------------------- state
    def build(self, generator, discriminator, seed=None):
        """Make the state for these networks: augmenter, LeCam averages, built optimizers.

        Raises (an ``augment`` that does not fit the discriminator's input) before it changes
        anything. The optimizers are wrapped in a ``LossScaleOptimizer`` when a network
        computes in float16, then built on their network's trainable variables.

        Args:
            generator: the GAN's generator (its output activation sets the colour range).
            discriminator: the GAN's discriminator (its input sets the augmented image shape).
            seed: seed of the augmentation draws.

        Returns:
            The recipe itself.
        """
        augmenter = None
        if self.augment is not None:
            augmenter = AdaptiveAugment(
                policy=self.augment, image_shape=image_shape_of(discriminator),
                value_range=value_range_of(generator),
                target=0.6 if self.ada_target is None else self.ada_target,
                initial_p=0.0 if self.ada_target is not None else self.augment_p,
                seed=seed, name="augmenter")
        if self.lecam:
            self.lecam_ema = LeCamEMA(name="lecam_ema")
        self.augmenter = augmenter
        self.d_optimizer = wrap_loss_scale(self.d_optimizer, [discriminator], "d")
        self.g_optimizer = wrap_loss_scale(self.g_optimizer, [generator], "g")
        for opt, net in ((self.d_optimizer, discriminator), (self.g_optimizer, generator)):
            if not opt.built:
                opt.build(net.trainable_variables)
        return self

    @property
    def adaptive(self):
        """True when the augmentation probability adapts (ADA: ``ada_target`` is set)."""
        return self.ada_target is not None

    def penalty_keys(self):
        """The log keys of the penalties that are on, in log order (``"gp"``, ``"r1"``, ...)."""
        weights = (("gp", self.gradient_penalty), ("r1", self.r1), ("lecam", self.lecam))
        return [key for key, weight in weights if weight] + (["ada_p"] if self.adaptive else [])

    def keras_compile_args(self):
        """The arguments ``keras.Model.compile`` takes from the recipe (execution settings)."""
        return {"jit_compile": self.jit_compile, "steps_per_execution": self.steps_per_execution,
                "run_eagerly": self.run_eagerly}

    # --------------------------------------------------------------------------- serialize
    def to_config(self):
        """The recipe as ``GAN.get_compile_config`` saves it (optimizers serialized)."""
        return {"d_optimizer": keras.optimizers.serialize(self.d_optimizer),
                "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
                "loss": self.loss.name, "gradient_penalty": self.gradient_penalty,
                "r1": self.r1, "r1_every": self.r1_every, "d_steps": self.d_steps,
                "label_smoothing": self.label_smoothing, "instance_noise": self.instance_noise,
                "lecam": self.lecam, "augment": self.augment, "augment_p": self.augment_p,
                "ada_target": self.ada_target, "jit_compile": self.jit_compile,
                "steps_per_execution": self.steps_per_execution}

    @classmethod
    def from_config(cls, config):
        """The recipe of :meth:`to_config` (or of a ``.keras`` file's compile config)."""
        config = dict(config)
        for key in ("d_optimizer", "g_optimizer"):
            if isinstance(config.get(key), dict):
                config[key] = keras.optimizers.deserialize(config[key])
        return cls(**config)

    def __repr__(self):
        config = self.to_config()
        args = [f"{k}={type(getattr(self, k)).__name__}" for k in ("d_optimizer", "g_optimizer")]
        args += [f"{k}={v!r}" for k, v in config.items() if k not in ("d_optimizer", "g_optimizer")]
        return f"GANRecipe({', '.join(args)})"

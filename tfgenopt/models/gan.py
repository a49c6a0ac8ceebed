"""GAN: a ``keras.Model`` whose ``train_step`` updates a discriminator, then a generator.

The step reads like the keras.io DCGAN / WGAN-GP examples; every option is a small named step:
``_discriminator_step`` (``d_steps`` times, with label smoothing, instance noise and the
gradient penalty / R1), ``_generator_step``, then the generator EMA update.
"""

from __future__ import annotations

import keras
from keras import ops

from tfgenopt import distribute, losses
from tfgenopt._validation import check_int
from tfgenopt.models import _gan_checks, _sampling, _training
from tfgenopt.models import ema as ema_lib
from tfgenopt.models._gan_losses import PureLossesMixin
from tfgenopt.models._input import ArrayFitMixin
from tfgenopt.models.recipe import GANRecipe

__all__ = ["GAN"]

_BASE_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")
_DEFAULT_LOSS = losses.get("non_saturating")  # the pure losses' loss before compile


def _recipe_value(attr, before, doc):
    """A read-only property: ``attr`` of the model's recipe, ``before`` until ``compile``."""
    return property(lambda self: before if self._recipe is None else getattr(self._recipe, attr),
                    doc=doc)


@keras.saving.register_keras_serializable(package="tfgenopt")
class GAN(ArrayFitMixin, PureLossesMixin, keras.Model):
    """A generative adversarial network trained with ``fit`` (DCGAN, WGAN-GP, R1, EMA, cGAN).

    Args:
        generator: a functional ``keras.Model`` from noise ``z`` (and a label when
            ``conditional``) to images.
        discriminator: a functional ``keras.Model`` from images (and a label) to one logit.
        latent_dim: size of ``z``; must match the generator's input.
        ema: decay of the generator EMA (default 0.999, ramped up over the first steps), or
            None for no EMA. ``generate()`` and ``call`` use the EMA generator.
        conditional: train on ``(x, y)`` with integer class labels fed to both networks.
        num_classes: number of classes (required when ``conditional``).
        seed: seed of the noise, interpolation and instance-noise draws.

    Returns:
        A ``keras.Model``; ``compile`` it, then ``fit(x)`` (``fit((x, y))`` when conditional).

    Example:
        >>> import tfgenopt as tg
        >>> g = tg.builders.dense_generator(latent_dim=8, hidden=(16,), output_dim=64)
        >>> d = tg.builders.dense_discriminator(input_dim=64, hidden=(16,))
        >>> gan = GAN(g, d, latent_dim=8, seed=0)
        >>> gan.compile(d_optimizer="adam", g_optimizer="adam")
        >>> gan.generate(4, seed=1).shape
        (4, 64)
    """

    def __init__(self, generator, discriminator, latent_dim, ema=0.999, conditional=False,
                 num_classes=None, seed=None, **kwargs):
        latent_dim, ema, conditional, num_classes, seed = _gan_checks.check_gan_args(
            generator, discriminator, latent_dim, ema, conditional, num_classes, seed)
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.ema = ema
        self.conditional = conditional
        self.num_classes = num_classes
        self.seed = seed
        self.ema_generator = ema_lib.clone_for_ema(generator) if ema is not None else None
        # Real and fake go through D as one batch unless D normalizes by batch statistics.
        self._joint_d_call = not _gan_checks.has_batch_statistics(discriminator)
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)  # own noise per replica
        self.trackers = {k: keras.metrics.Mean(name=k)
                         for k in _BASE_KEYS + ("gp", "r1", "lecam", "ada_p")}
        self._recipe = None  # the only owner of the optimizers, the loss and their state
        # Keras tracks the recipe's layers through this list (gan.layers / weights, saving).
        self._recipe_layers = []
        self.built = True

    # ----------------------------------------------------------------------------- compile
    def compile(self, d_optimizer="adam", g_optimizer="adam", loss="non_saturating",
                gradient_penalty=0.0, r1="auto", r1_every=4, d_steps=1, label_smoothing=0.0,
                instance_noise=0.0, augment=None, augment_p=1.0, ada_target=None, lecam=0.0,
                jit_compile="auto", steps_per_execution="auto", run_eagerly=False):
        """Set the recipe: ``GANRecipe`` of these arguments, built for this GAN's networks.

        The arguments, their defaults (the measured recipe of the README's table) and their
        checks are those of :class:`~tfgenopt.models.recipe.GANRecipe`: two optimizers
        (TTUR; names get GAN learning rates, instances are used as given), the adversarial
        loss and its regularizers (a lazy R1 penalty by default), augmentation, LeCam, and
        the execution settings. A bad argument raises before anything changes, so a failed
        ``compile`` keeps the previous recipe.

        Returns:
            None.

        Example:
            >>> gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
            ...             g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5),
            ...             loss="wasserstein", gradient_penalty=10.0, d_steps=5)
            >>> gan.recipe.r1, gan.get_compile_config()["d_steps"]
            (0.0, 5)
        """
        self._use_recipe(GANRecipe(
            d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=loss,
            gradient_penalty=gradient_penalty, r1=r1, r1_every=r1_every, d_steps=d_steps,
            label_smoothing=label_smoothing, instance_noise=instance_noise, augment=augment,
            augment_p=augment_p, ada_target=ada_target, lecam=lecam, jit_compile=jit_compile,
            steps_per_execution=steps_per_execution, run_eagerly=run_eagerly))

    def _use_recipe(self, recipe):
        """Build ``recipe``'s state for the networks (it may still raise), then train with it."""
        recipe.build(self.generator, self.discriminator, self.seed)
        super().compile(optimizer=None, **recipe.keras_compile_args())
        self._recipe = recipe
        # Untracked first: a replaced recipe's layers would save beside (before) the new ones.
        self._recipe_layers.clear()
        self._recipe_layers.extend(layer for layer in (recipe.augmenter, recipe.lecam_ema)
                                   if layer is not None)

    @property
    def recipe(self):
        """The :class:`~tfgenopt.models.recipe.GANRecipe` of the last ``compile`` (None before)."""
        return self._recipe

    # The recipe owns these; the model only reads them. ``.keras`` saving walks the model's
    # attributes, so the optimizers and the augmenter / LeCam layers still save (and load)
    # under these names.
    d_optimizer = _recipe_value("d_optimizer", None, "The recipe's discriminator optimizer "
                                "(None before ``compile``).")
    g_optimizer = _recipe_value("g_optimizer", None, "The recipe's generator optimizer "
                                "(None before ``compile``).")
    adversarial_loss = _recipe_value("loss", _DEFAULT_LOSS, "The recipe's ``AdversarialLoss`` "
                                     "(``\"non_saturating\"`` before ``compile``).")
    augmenter = _recipe_value("augmenter", None, "The recipe's DiffAugment / ADA layer (None "
                              "when off or before ``compile``).")
    lecam_ema = _recipe_value("lecam_ema", None, "The recipe's LeCam averages (None when off "
                              "or before ``compile``).")

    def get_compile_config(self):
        """The recipe's config (``GANRecipe.to_config``), for ``.keras`` saving; None before."""
        return None if self._recipe is None else self._recipe.to_config()

    def compile_from_config(self, config):
        """Re-``compile`` from :meth:`get_compile_config` (for loading a ``.keras`` file)."""
        self._use_recipe(GANRecipe.from_config(config))

    # ---------------------------------------------------------------------------- protocol
    def networks(self):
        """``{"generator", "discriminator"}`` (plus ``"ema_generator"`` with EMA)."""
        nets = {"generator": self.generator, "discriminator": self.discriminator}
        if self.ema_generator is not None:
            nets["ema_generator"] = self.ema_generator
        return nets

    def optimizers_by_name(self):
        """``{"d": d_optimizer, "g": g_optimizer}`` (learning rates log as ``d_lr``, ``g_lr``)."""
        return {"d": self.d_optimizer, "g": self.g_optimizer}

    @property
    def metrics(self):
        keys = list(_BASE_KEYS) + ([] if self._recipe is None else self._recipe.penalty_keys())
        return [self.trackers[k] for k in keys]

    # ------------------------------------------------------------------------------ inputs
    def sample_noise(self, n, seed=None):
        """Standard normal noise of shape ``(n, latent_dim)`` (float32).

        Args:
            n: number of rows.
            seed: an int for a reproducible draw; None uses the model's seed generator.

        Returns:
            A float32 tensor.

        Example:
            >>> gan.sample_noise(3, seed=0).shape
            TensorShape([3, 8])
        """
        return keras.random.normal((n, self.latent_dim),
                                   seed=self.seed_generator if seed is None else seed)

    def _g_inputs(self, z, labels):
        return z if not self.conditional else [z, labels]

    def _d_inputs(self, x, labels):
        return x if not self.conditional else [x, labels]

    def _batch_noise(self, x_real, labels):
        """The noise of one training step (a hook: tests fix it to compare with one device)."""
        return self.sample_noise(ops.shape(x_real)[0])

    def _interpolation_weights(self, x_real):
        """The gradient penalty's per-sample ``alpha ~ U(0, 1)`` (a hook, like the noise)."""
        return keras.random.uniform((ops.shape(x_real)[0],), seed=self.seed_generator)

    def _unpack(self, data):
        x, y = _gan_checks.check_batch(data, self.discriminator, self.conditional)
        return ops.cast(x, "float32"), y

    # -------------------------------------------------------------------------------- step
    def _discriminate(self, x, labels, training):
        sigma = self._recipe.instance_noise
        if training and self.augmenter is not None:
            x = self.augmenter(ops.cast(x, "float32"), training=True)
        if training and sigma:
            x = ops.cast(x, "float32")
            x = x + sigma * keras.random.normal(ops.shape(x), seed=self.seed_generator)
        return self.discriminator(self._d_inputs(x, labels), training=training)

    def _discriminate_pair(self, x_real, x_fake, labels):
        """D on real and fake: one call on the joined batch when D has no batch statistics."""
        if not self._joint_d_call:
            return (self._discriminate(x_real, labels, training=True),
                    self._discriminate(x_fake, labels, training=True))
        n = ops.shape(x_real)[0]
        both = ops.concatenate([x_real, ops.cast(x_fake, x_real.dtype)], axis=0)
        both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
        logits = self._discriminate(both, both_labels, training=True)
        return logits[:n], logits[n:]

    def _penalties(self, x_real, x_fake, labels, logits, training=True):
        """``{"gp", "r1", "lecam"}`` for the penalties that are on, and their weighted sum."""
        out, total = {}, 0.0
        if self.lecam_ema is not None:
            out["lecam"] = self.lecam_ema.penalty(*logits)
            total += self._recipe.lecam * out["lecam"]
        if self._recipe.gradient_penalty:
            out["gp"] = losses.gradient_penalty(self.discriminator, x_real, x_fake, labels,
                                                alpha=self._interpolation_weights(x_real),
                                                training=training)
            total += self._recipe.gradient_penalty * out["gp"]
        if self._recipe.r1:
            out["r1"] = self._lazy_r1(x_real, labels, training)
            total += 0.5 * self._recipe.r1 * out["r1"]
        return out, total

    def _lazy_r1(self, x_real, labels, training):
        every = self._recipe.r1_every

        def r1():
            return losses.r1_penalty(self.discriminator, x_real, labels, training)

        if every == 1 or not training:
            return r1()
        due = ops.equal(ops.mod(self.d_optimizer.iterations, every), 0)
        return ops.cond(due, lambda: r1() * every, lambda: ops.zeros((), "float32"))

    def _discriminator_step(self, x_real, labels):
        import tensorflow as tf

        z = self._batch_noise(x_real, labels)
        x_fake = self.generator(self._g_inputs(z, labels), training=True)
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self._discriminate_pair(x_real, x_fake, labels)
            d_loss = self.adversarial_loss.d_loss(real_logits, fake_logits,
                                                  self._recipe.label_smoothing)
            penalties, penalty = self._penalties(x_real, x_fake, labels,
                                                 (real_logits, fake_logits))
            scaled = _training.objective(self.d_optimizer, d_loss + penalty)
        norm = _training.minimize(self.d_optimizer, tape, scaled, self.discriminator.trainable_variables)
        if self.lecam_ema is not None:
            self.lecam_ema.update(real_logits, fake_logits)
        if self._recipe.adaptive:
            penalties["ada_p"] = self.augmenter.update(real_logits)
        return {"d_loss": d_loss, "d_grad_norm": norm, **penalties,
                "d_real": ops.mean(ops.sigmoid(ops.cast(real_logits, "float32"))),
                "d_fake": ops.mean(ops.sigmoid(ops.cast(fake_logits, "float32")))}

    def _generator_step(self, x_real, labels):
        import tensorflow as tf

        z = self._batch_noise(x_real, labels)
        with tf.GradientTape() as tape:
            x_fake = self.generator(self._g_inputs(z, labels), training=True)
            if self.adversarial_loss.g_needs_real:
                real_logits, fake_logits = self._discriminate_pair(x_real, x_fake, labels)
                g_loss = self.adversarial_loss.g_loss(fake_logits, real_logits)
            else:
                g_loss = self.adversarial_loss.g_loss(self._discriminate(x_fake, labels, True))
            scaled = _training.objective(self.g_optimizer, g_loss)
        norm = _training.minimize(self.g_optimizer, tape, scaled, self.generator.trainable_variables)
        return {"g_loss": g_loss, "g_grad_norm": norm}

    def _record(self, values):
        scaled = {f"{k}_grad_norm" for k, opt in self.optimizers_by_name().items()
                  if isinstance(opt, keras.optimizers.LossScaleOptimizer)}
        _training.update_trackers(self.trackers, values, skip_nonfinite=scaled)
        return distribute.reducible_logs({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        x_real, labels = self._unpack(data)
        steps = [self._discriminator_step(x_real, labels) for _ in range(self._recipe.d_steps)]
        d_logs = {k: ops.mean(ops.stack([s[k] for s in steps])) for k in steps[0]}
        g_logs = self._generator_step(x_real, labels)
        if self.ema_generator is not None:
            ema_lib.update_ema(self.ema_generator, self.generator,
                               ema_lib.ema_decay(self.ema, self.g_optimizer.iterations))
        return self._record({**d_logs, **g_logs})

    def test_step(self, data):
        import tensorflow as tf

        x_real, labels = self._unpack(data)
        z = self._batch_noise(x_real, labels)
        x_fake = self.generator(self._g_inputs(z, labels), training=False)
        with tf.GradientTape() as d_tape:
            real_logits = self._discriminate(x_real, labels, training=False)
            fake_logits = self._discriminate(x_fake, labels, training=False)
            d_loss = self.adversarial_loss.d_loss(real_logits, fake_logits, 0.0)
            penalties, penalty = self._penalties(x_real, x_fake, labels,
                                                 (real_logits, fake_logits), training=False)
            total = d_loss + penalty
        d_grads = d_tape.gradient(total, self.discriminator.trainable_variables)
        if self._recipe.adaptive:
            penalties["ada_p"] = ops.convert_to_tensor(self.augmenter.p)
        with tf.GradientTape() as g_tape:
            g_loss = self.generator_loss(z, labels, x_real=x_real)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_variables)
        return self._record({
            "d_loss": d_loss, "g_loss": g_loss, **penalties,
            "d_real": ops.mean(ops.sigmoid(ops.cast(real_logits, "float32"))),
            "d_fake": ops.mean(ops.sigmoid(ops.cast(fake_logits, "float32"))),
            "d_grad_norm": _training.global_norm(d_grads), "g_grad_norm": _training.global_norm(g_grads)})

    def call(self, inputs, training=False):
        """Generate from given noise (``[z, labels]`` when conditional); EMA when not training."""
        net = self.generator
        if self.ema_generator is not None and not training:
            net = self.ema_generator
        return net(inputs, training=training)

    def generate(self, n, labels=None, seed=None, use_ema=True, batch_size=256):
        """Generate ``n`` samples as a NumPy float32 array in the generator's output range.

        Args:
            n: number of samples.
            labels: ``n`` integer labels (conditional GAN); None cycles through the classes.
            seed: an int for reproducible noise; None uses the model's seed generator.
            use_ema: use the EMA generator when the GAN has one.
            batch_size: samples per generator call.

        Returns:
            A ``np.ndarray`` of shape ``(n,) + image_shape``.

        Example:
            >>> gan.generate(16, seed=0).shape
            (16, 64)
        """
        n = check_int("n", n, minimum=1)
        batch_size = check_int("batch_size", batch_size, minimum=1)
        labels = _gan_checks.check_labels(labels, n, self.num_classes if self.conditional else None)
        net = self.ema_generator if use_ema and self.ema_generator is not None else self.generator
        z = ops.convert_to_numpy(self.sample_noise(n, seed))
        return _sampling.in_batches(
            lambda zi, yi: net(self._g_inputs(zi, yi), training=False), z, labels, batch_size)

    # ------------------------------------------------------------------------- serialize
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **_training.networks_config(self, ("generator", "discriminator")),
            "latent_dim": self.latent_dim,
            "ema": self.ema,
            "conditional": self.conditional,
            "num_classes": self.num_classes,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        return _training.from_networks_config(cls, config, ("generator", "discriminator"))

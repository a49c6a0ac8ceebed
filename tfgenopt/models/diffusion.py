"""Diffusion: a ``keras.Model`` that trains a denoiser with ``fit`` and samples with ``generate``.

The step reads like the keras.io DDIM example: draw noise levels and noise, noise the images,
predict, regress on the formulation's target, update the EMA network. The formulation (VP, EDM,
flow matching), the loss and the optimizer come from :class:`DiffusionRecipe` (``compile``);
the samplers and the schedule arithmetic from ``tfgenopt.diffusion`` (float32 throughout, also
under mixed precision: only the network computes in float16).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tfgenopt import distribute
from tfgenopt._validation import check_float, check_int
from tfgenopt.diffusion import samplers
from tfgenopt.models import _gan_checks, _sampling, _training
from tfgenopt.models import diffusion_recipe as R
from tfgenopt.models import ema as ema_lib
from tfgenopt.models._input import ArrayFitMixin
from tfgenopt.models._range import first_batch
from tfgenopt.models.diffusion_recipe import DiffusionRecipe

__all__ = ["Diffusion"]

VALIDATION_LEVELS = 8  # the fixed noise-level grid of test_step
_VALIDATION_SEED = 1234


def _check_network(network, conditional):
    _training.check_network("network", network)
    want = 3 if conditional else 2
    if len(network.inputs) != want:
        raise ValueError(
            f"`network` must take [noisy_samples, noise_level{', labels' if conditional else ''}]"
            f" ({want} inputs{' with conditional=True' if conditional else ''}); it has "
            f"{len(network.inputs)}.")
    sample, level = (_training.static_shape(t) for t in network.inputs[:2])
    if None in level or int(np.prod(level)) != 1:
        raise ValueError(f"`network`'s second input (the noise level) must hold one value per "
                         f"sample (shape (1,), or (1, 1, 1) as keras.io's); it has {level}.")
    out = _training.static_shape(network.outputs[0])
    if len(network.outputs) != 1 or not _training.shapes_compatible(out, sample):
        raise ValueError(f"`network` must output one tensor shaped like its noisy input "
                         f"{sample}; it outputs {out}.")
    return sample


@keras.saving.register_keras_serializable(package="tfgenopt")
class Diffusion(ArrayFitMixin, keras.Model):
    """A diffusion or flow-matching model trained with ``fit`` around any denoiser network.

    Args:
        network: a functional ``keras.Model`` ``[noisy, noise_level]`` (plus integer
            ``labels`` when ``conditional``) -> a tensor shaped like ``noisy``: a
            ``tfgenopt.builders.unet`` for images, an MLP for vectors.
        ema: decay of the EMA network (0.999; ramped up unless the recipe says
            ``ema_warmup=False``), or None. ``generate()`` uses the EMA network.
        conditional: train on ``(x, labels)``; labels in ``[0, num_classes)``.
        num_classes: number of classes (required when ``conditional``).
        value_range: ``(low, high)`` of the data; mapped to [-1, 1] inside, and back (clipped)
            by ``generate``. Data outside it is refused before training.
        seed: seed of the noise and noise-level draws.

    Example:
        >>> import keras, numpy as np, tfgenopt as tg
        >>> x_in, level = keras.Input((2,)), keras.Input((1,))
        >>> h = keras.layers.Dense(32, activation="swish")(
        ...     keras.layers.Concatenate()([x_in, level]))
        >>> net = keras.Model([x_in, level], keras.layers.Dense(2)(h))
        >>> model = Diffusion(net, seed=0)
        >>> model.compile()
        >>> model.fit(np.random.default_rng(0).uniform(-1, 1, (256, 2)), epochs=1, verbose=0).history["loss"][0] > 0
        True
        >>> model.generate(5, seed=1).shape
        (5, 2)
    """

    def __init__(self, network, ema=0.999, conditional=False, num_classes=None,
                 value_range=(-1.0, 1.0), seed=None, **kwargs):
        conditional = bool(conditional)
        self.sample_shape = _check_network(network, conditional)
        if ema is not None:
            ema = check_float("ema", ema, 0.0, 1.0, max_inclusive=False)
        if conditional:
            if num_classes is None:
                raise ValueError("`num_classes` is required when `conditional=True`.")
            num_classes = check_int("num_classes", num_classes, minimum=2)
        elif num_classes is not None:
            raise ValueError("`num_classes` applies to a conditional model (`conditional=True`).")
        try:
            low, high = (float(v) for v in value_range)
        except (TypeError, ValueError):
            raise TypeError(f"`value_range` must be a (low, high) pair of numbers; received "
                            f"{value_range!r}.") from None
        if not high > low:
            raise ValueError(f"`value_range` must have low < high; received {value_range!r}.")
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        super().__init__(**kwargs)
        self.network = network
        self.ema = ema
        self.conditional = conditional
        self.num_classes = num_classes
        self.value_range = (low, high)
        self.seed = seed
        self.ema_network = ema_lib.clone_for_ema(network) if ema is not None else None
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)  # own noise per replica
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._recipe = None
        self._denoisers = {}
        self.built = True

    # ----------------------------------------------------------------------------- compile
    def compile(self, formulation=R.FORMULATION, schedule=None, target=None, weighting=None,
                min_snr_gamma=None, loss=R.LOSS, optimizer=R.OPTIMIZER,
                learning_rate=R.LEARNING_RATE, weight_decay=R.WEIGHT_DECAY,
                ema_warmup=R.EMA_WARMUP, offset_noise=0.0, label_dropout=R.LABEL_DROPOUT,
                sampler="auto", steps="auto", steps_per_execution="auto", jit_compile="auto"):
        """Set the recipe: the arguments of :class:`DiffusionRecipe` (checked before any change).

        Example:
            >>> diffusion.compile(formulation="vp", target="v", weighting="min_snr")
            >>> diffusion.recipe.formulation.name, diffusion.recipe.sampling()
            ('vp', ('ddim', 20))
        """
        self._use_recipe(DiffusionRecipe(
            formulation=formulation, schedule=schedule, target=target, weighting=weighting,
            min_snr_gamma=min_snr_gamma, loss=loss, optimizer=optimizer,
            learning_rate=learning_rate, weight_decay=weight_decay, ema_warmup=ema_warmup,
            offset_noise=offset_noise, label_dropout=label_dropout, sampler=sampler,
            steps=steps, steps_per_execution=steps_per_execution, jit_compile=jit_compile))

    def _use_recipe(self, recipe):
        # Loss scaling when the network computes in float16 (the schedule stays float32).
        recipe.optimizer = _training.wrap_loss_scale(recipe.optimizer, [self.network], "diffusion")
        super().compile(**recipe.keras_compile_args())
        if not self.optimizer.built:
            self.optimizer.build(self.network.trainable_variables)
        self._recipe = recipe
        self._denoisers = {}

    @property
    def recipe(self):
        """The :class:`DiffusionRecipe` of the last ``compile`` (None before)."""
        return self._recipe

    @property
    def formulation(self):
        """The recipe's formulation (``tfgenopt.diffusion.formulations``)."""
        return None if self._recipe is None else self._recipe.formulation

    def get_compile_config(self):
        """The recipe's config, for ``.keras`` saving; None before ``compile``."""
        return None if self._recipe is None else self._recipe.to_config()

    def compile_from_config(self, config):
        """Re-``compile`` from :meth:`get_compile_config` (for loading a ``.keras`` file)."""
        self._use_recipe(DiffusionRecipe.from_config(config))

    # ---------------------------------------------------------------------------- protocol
    def networks(self):
        """``{"network"}`` plus ``"ema_network"`` with EMA."""
        nets = {"network": self.network}
        if self.ema_network is not None:
            nets["ema_network"] = self.ema_network
        return nets

    def optimizers_by_name(self):
        """``{"": optimizer}`` (its learning rate logs as ``lr``)."""
        return {"": self.optimizer}

    @property
    def metrics(self):
        return [self.loss_tracker]

    # ---------------------------------------------------------------------------- training
    def _to_model_range(self, x):
        low, high = self.value_range
        return (ops.cast(x, "float32") - (low + high) / 2.0) * (2.0 / (high - low))

    def _unpack(self, data):
        x, labels = _training.unpack(data)
        _training.check_sample_shape(x, self.network, "network")
        if self.conditional:
            if labels is None:
                raise ValueError("A conditional Diffusion model trains on (x, labels) batches.")
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        return self._to_model_range(x), labels

    def check_fit_data(self, x, y):
        """Refuse, before any step, data a step could not train on (called by ``fit``).

        The model must be compiled; NumPy samples must fit the network's input; a conditional
        model needs labels in ``[0, num_classes)`` (``fit(x, labels)``, ``(x, labels)`` batches).
        """
        self._require_recipe()
        data = first_batch(x)
        if data is not None and data.ndim >= 1:
            _training.check_sample_shape(data, self.network, "network")
        if not self.conditional:
            return
        labels = y
        if labels is None and isinstance(x, tuple) and len(x) > 1:
            labels = x[1]
        if labels is None and hasattr(x, "element_spec") and hasattr(x, "take"):
            for batch in x.take(1):
                labels = batch[1] if isinstance(batch, (tuple, list)) and len(batch) > 1 else None
        if labels is None:
            raise ValueError("A conditional Diffusion model needs labels: `fit(x, labels)` or a "
                             "dataset of (images, labels) batches.")
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"`labels` must be integers in [0, {self.num_classes}); received "
                             f"values in [{labels.min()}, {labels.max()}].")

    def _levels(self, s, x):
        return ops.reshape(s, (-1,) + (1,) * (len(x.shape) - 1))

    def _predict(self, net, x_in, noise_in, labels, training):
        level_shape = _training.static_shape(net.inputs[1])
        noise_in = ops.reshape(ops.cast(noise_in, "float32"), (-1,) + level_shape)
        inputs = [x_in, noise_in] + ([labels] if self.conditional else [])
        return ops.cast(net(inputs, training=training), "float32")

    def _loss(self, x0, eps, s, labels, training):
        """The weighted regression loss at levels ``s`` (float32 whatever the network's dtype)."""
        f = self._recipe.formulation
        s = self._levels(s, x0)
        a, b = f.scales(s)
        x_t = a * x0 + b * eps
        x_in, noise_in = f.network_inputs(x_t, s)
        out = self._predict(self.network, x_in, noise_in, labels, training)
        target, weight = f.target_and_weight(x0, eps, x_t, s)
        err = out - target
        err = ops.abs(err) if self._recipe.loss == "mae" else ops.square(err)
        per_sample = ops.mean(ops.reshape(err, (ops.shape(err)[0], -1)), axis=-1)
        return ops.mean(ops.reshape(weight, (-1,)) * per_sample)

    def _noise(self, x):
        eps = keras.random.normal(ops.shape(x), seed=self.seed_generator)
        if self._recipe.offset_noise:
            shape = (ops.shape(x)[0],) + (1,) * (len(x.shape) - 2) + (ops.shape(x)[-1],)
            eps = eps + self._recipe.offset_noise * keras.random.normal(
                shape, seed=self.seed_generator)
        return eps

    def _drop_labels(self, labels):
        if not self.conditional or not self._recipe.label_dropout:
            return labels
        drop = keras.random.uniform(ops.shape(labels), seed=self.seed_generator)
        return ops.where(drop < self._recipe.label_dropout, self.num_classes, labels)

    def train_step(self, data):
        import tensorflow as tf

        x0, labels = self._unpack(data)
        eps = self._noise(x0)
        q = keras.random.uniform((ops.shape(x0)[0],), seed=self.seed_generator)
        s = self._recipe.formulation.sigma_from_quantile(q)
        labels = self._drop_labels(labels)
        with tf.GradientTape() as tape:
            loss = self._loss(x0, eps, s, labels, training=True)
            scaled = _training.objective(self.optimizer, loss)
        # A non-finite loss stops fit before this step's update (ArrayFitMixin.fit names the
        # step); not under XLA, which has no CheckNumerics.
        check = [] if self.jit_compile else [
            tf.debugging.check_numerics(loss, _training.NONFINITE_LOSS)]
        with tf.control_dependencies(check):
            _training.minimize(self.optimizer, tape, scaled, self.network.trainable_variables)
        if self.ema_network is not None:
            decay = (ema_lib.ema_decay(self.ema, self.optimizer.iterations)
                     if self._recipe.ema_warmup else self.ema)
            ema_lib.update_ema(self.ema_network, self.network, decay)
        self.loss_tracker.update_state(loss)
        return distribute.reducible_logs({"loss": self.loss_tracker.result()})

    def validation_noise(self, x0):
        """The fixed ``(eps, s)`` of ``test_step``: the same for the same batch every epoch.

        Sample ``i`` of a batch gets level quantile ``(i mod K + 0.5) / K`` (``K`` =
        :data:`VALIDATION_LEVELS`) and noise from a fixed seed, so ``val_loss`` compares epochs.
        """
        n = ops.shape(x0)[0]
        q = (ops.cast(ops.mod(ops.arange(n), VALIDATION_LEVELS), "float32") + 0.5) / VALIDATION_LEVELS
        eps = keras.random.normal(ops.shape(x0), seed=_VALIDATION_SEED)
        return eps, self._recipe.formulation.sigma_from_quantile(q)

    def loss_at(self, x, eps, s, labels=None):
        """The loss of data ``x`` (in ``value_range``) at given noise ``eps`` and levels ``s``.

        Deterministic (inference mode, no label dropout): what the landscape probes and
        ``test_step`` evaluate. ``s`` holds one level per sample.

        Example:
            >>> x0 = np.zeros((4, 2), "float32")
            >>> eps, s = diffusion.validation_noise(x0)
            >>> float(diffusion.loss_at(x0, eps, s)) > 0
            True
        """
        return self._loss(self._to_model_range(x), ops.cast(eps, "float32"),
                          ops.cast(s, "float32"), labels, training=False)

    def test_step(self, data):
        x0, labels = self._unpack(data)
        eps, s = self.validation_noise(x0)
        self.loss_tracker.update_state(self._loss(x0, eps, s, labels, training=False))
        return distribute.reducible_logs({"loss": self.loss_tracker.result()})

    def call(self, inputs, training=False):
        """The network's prediction for ``[noisy, noise_level(, labels)]`` (EMA when not training)."""
        net = self.ema_network if self.ema_network is not None and not training else self.network
        return net(inputs, training=training)

    # ---------------------------------------------------------------------------- sampling
    def _denoiser(self, net):
        """A compiled ``(x_t, noise_in, labels) -> output`` of ``net`` (one trace per shape)."""
        key = id(net)
        if key not in self._denoisers:
            import tensorflow as tf

            @tf.function(reduce_retracing=True)
            def predict(x_in, noise_in, labels):
                return self._predict(net, x_in, noise_in, labels, training=False)

            self._denoisers[key] = predict
        return self._denoisers[key]

    def denoise_fn(self, labels=None, guidance=None, use_ema=True):
        """``denoise(x, s) -> x0_hat`` in the samplers' coordinates (``x = x_t / a``).

        Args:
            labels: a batch of labels (conditional models).
            guidance: classifier-free guidance weight ``w``: ``x0_u + w (x0_c - x0_u)`` (1 =
                conditional only, None = off).
            use_ema: use the EMA network when there is one.

        Example:
            >>> x0_hat = diffusion.denoise_fn()(np.zeros((3, 2), "float32"), 1.0)
            >>> tuple(x0_hat.shape)
            (3, 2)
        """
        f = self._require_recipe()
        net = self.ema_network if use_ema and self.ema_network is not None else self.network
        predict = self._denoiser(net)
        null = None if labels is None else np.full_like(labels, self.num_classes)

        def denoise(x, s):
            x = ops.cast(x, "float32")
            a, _ = f.scales(ops.convert_to_tensor(s, "float32"))
            x_t = a * x
            x_in, noise_in = f.network_inputs(x_t, ops.convert_to_tensor(s, "float32"))
            noise_in = ops.broadcast_to(ops.reshape(noise_in, (1,)), (ops.shape(x)[0],))
            if guidance is None or labels is None:
                return f.to_x0(predict(x_in, noise_in, labels), x_t, s)
            both = predict(ops.concatenate([x_in, x_in]), ops.concatenate([noise_in, noise_in]),
                           ops.concatenate([labels, null]))
            cond, uncond = (f.to_x0(o, x_t, s) for o in ops.split(both, 2))
            return uncond + guidance * (cond - uncond)

        return denoise

    def _require_recipe(self):
        if self._recipe is None:
            raise RuntimeError("Compile the Diffusion model first (`model.compile()`): the "
                               "recipe says how the network's output is read.")
        return self._recipe.formulation

    def generate(self, n, labels=None, seed=None, steps=None, sampler=None, guidance=None,
                 eta=None, use_ema=True, batch_size=256):
        """Draw ``n`` samples as a float32 NumPy array in ``value_range``.

        Args:
            n: number of samples.
            labels: ``n`` integer labels (conditional models); None cycles through the classes.
            seed: an int for reproducible samples; None uses the model's seed generator.
            steps: sampling steps (None: the recipe's; see ``recipe.sampling()``).
            sampler: one of ``tfgenopt.diffusion.samplers.SAMPLERS`` (None: the recipe's).
            guidance: classifier-free guidance weight (conditional models; None = off).
            eta: DDIM's fresh-noise fraction (``sampler="ddim"`` only).
            use_ema: sample with the EMA network when there is one.
            batch_size: samples per sampling run.

        Returns:
            A ``np.ndarray`` of shape ``(n,) + sample_shape``.

        Example:
            >>> diffusion.generate(4, seed=0, sampler="heun", steps=5).shape
            (4, 2)
        """
        f = self._require_recipe()
        n = check_int("n", n, minimum=1)
        default_sampler, default_steps = self._recipe.sampling()
        sampler = samplers.check_sampler(default_sampler if sampler is None else sampler)
        steps = check_int("steps", default_steps if steps is None else steps, minimum=1)
        if guidance is not None:
            if not self.conditional:
                raise ValueError("`guidance` applies to a conditional model (`conditional=True`);"
                                 " this one is unconditional.")
            guidance = check_float("guidance", guidance, 0.0)
        labels = _gan_checks.check_labels(labels, n, self.num_classes if self.conditional else None)
        sigmas = f.sigma_grid(steps, samplers.default_spacing(sampler, f.name))
        noise = _sampling.draw_noise(n, self.sample_shape,
                                     self.seed_generator if seed is None else seed)
        noise = noise * float(ops.convert_to_numpy(f.prior_scale(np.float32(sigmas[0]))))
        batch_seeds = iter(np.random.default_rng(seed).integers(0, 2 ** 31 - 1, size=n))

        def run(z, y):
            denoise = self.denoise_fn(y, guidance, use_ema)
            return samplers.sample(denoise, z, sigmas, sampler, eta=eta,
                                   seed=int(next(batch_seeds)), flow=f.name == "flow")

        out = _sampling.in_batches(run, noise, labels, batch_size)
        low, high = self.value_range
        return np.clip(out * ((high - low) / 2.0) + (low + high) / 2.0, low, high)

    # --------------------------------------------------------------------------- serialize
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                **_training.networks_config(self, ("network",)), "ema": self.ema,
                "conditional": self.conditional, "num_classes": self.num_classes,
                "value_range": list(self.value_range), "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return _training.from_networks_config(cls, config, ("network",))

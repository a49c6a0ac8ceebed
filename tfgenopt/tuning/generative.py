"""HyperModels of the training models: :class:`VAEHyperModel` and :class:`GANHyperModel`.

They build their networks with ``tfgenopt.builders`` and wrap them in
``tfgenopt.models.VAE`` / ``tfgenopt.models.GAN``; everything else (overrides, the tuned batch
size in ``fit``, the cosine schedule) comes from :class:`TunableHyperModel`.
"""

from __future__ import annotations

import numpy as np

from tfgenopt import builders, catalog, losses
from tfgenopt._validation import check_choice, check_int
from tfgenopt.builders._blocks import known_initializers
from tfgenopt.callbacks import QualityMonitor
from tfgenopt.models import GAN, VAE
from tfgenopt.models.recipe import BETA_1, D_LEARNING_RATE, G_LEARNING_RATE
from tfgenopt.tuning.hypermodels import (
    OPTIMIZERS,
    TunableHyperModel,
    _input_shape,
    common_space,
    dense_widths,
    make_optimizer,
)
from tfgenopt.tuning.space import choice, float_range, int_range

__all__ = ["VAEHyperModel", "GANHyperModel", "QualityHyperModel", "gan_loss_names"]


def gan_loss_names():
    """The adversarial loss names the GAN accepts (``tfgenopt.losses.names()``)."""
    return tuple(losses.names())


def _smoothable(loss):
    """Whether one-sided label smoothing applies to ``loss`` (not to hinge / Wasserstein)."""
    try:
        return bool(getattr(losses.get(loss), "supports_label_smoothing", True))
    except ValueError:
        return True


class VAEHyperModel(TunableHyperModel):
    """Tunes a ``tfgenopt.models.VAE``: beta, latent size, widths, depth, optimizer...

    Tuned by default (besides the shared optimizer, learning rate, batch size, normalization
    and initializer): ``latent_dim`` in {2, 8, 16}, ``beta`` in [0.5, 4] (log), first-layer
    width ``units`` and ``depth``. The objective is ``val_loss`` (the negative ELBO).

    Args:
        input_shape: vector length (784) or image shape ``(28, 28, 1)``.
        overrides: search-space overrides, e.g. ``{"beta": 1.0, "latent_dim": [2, 16]}``.
        reconstruction: ``"bce"`` (data in [0, 1]) or ``"mse"``.
        seed: seed of the initializers, the VAE's sampling and the data order.
        name: the HyperModel's name.

    Example:
        >>> hm = VAEHyperModel(784, overrides={"latent_dim": 2, "epochs": 5})
        >>> vae = hm.build(keras_tuner.HyperParameters())
        >>> type(vae).__name__
        'VAE'
    """

    def __init__(self, input_shape=784, overrides=None, reconstruction="bce", seed=None,
                 name="vae", output_activation="sigmoid"):
        self.input_shape = _input_shape("input_shape", input_shape)
        self.reconstruction = check_choice("reconstruction", reconstruction, ("bce", "mse"))
        self.output_activation = check_choice("output_activation", output_activation,
                                              ("sigmoid", "tanh"))
        if self.reconstruction == "bce" and output_activation != "sigmoid":
            raise ValueError("`reconstruction='bce'` needs `output_activation='sigmoid'`; "
                             f"received {output_activation!r}.")
        super().__init__(overrides=overrides, seed=seed, name=name)

    def default_space(self):
        space = common_space()
        space["units"] = choice(64, 128, legal=(1, None))
        space["depth"] = int_range(1, 2)
        space["latent_dim"] = choice(2, 8, 16, legal=(1, None))
        space["beta"] = float_range(0.5, 4.0, "log")
        return space

    def build_model(self, values):
        shape = self.input_shape[0] if len(self.input_shape) == 1 else self.input_shape
        hidden = dense_widths(values["units"], values["depth"])
        common = dict(normalization=values["normalization"],
                      kernel_initializer=values["kernel_initializer"], seed=self.seed)
        latent = int(values["latent_dim"])
        encoder = builders.vae_encoder(shape, latent_dim=latent, hidden=hidden, **common)
        decoder = builders.vae_decoder(latent, shape, hidden=tuple(reversed(hidden)),
                                       output_activation=self.output_activation, **common)
        vae = VAE(encoder, decoder, beta=float(values["beta"]),
                  reconstruction=self.reconstruction, seed=self.seed)
        vae.compile(optimizer=self.optimizer(values))
        return vae


class QualityHyperModel(TunableHyperModel):
    """Base of the HyperModels of generators tuned on sample quality (``val_kid`` by default).

    ``fit`` adds the ``tfgenopt.callbacks.QualityMonitor`` that measures a tuner's quality
    objective (on ``validation_data``, else on ``x``) unless one is among the callbacks, so Keras
    Tuner's own tuners work as is; ``quality`` holds that monitor's keyword arguments.

    Args:
        quality: keyword arguments of the ``QualityMonitor`` that ``fit`` adds (e.g.
            ``{"extractor": "mnist", "n_samples": 500}``), or None.
        overrides, seed, name: as for :class:`TunableHyperModel`.

    Example:
        >>> GANHyperModel(784, quality={"n_samples": 200}).quality
        {'n_samples': 200}
    """

    default_objective = ("val_kid", "min")

    def __init__(self, overrides=None, seed=None, name=None, quality=None):
        if quality is not None and not isinstance(quality, dict):
            raise TypeError(f"`quality` must be a dict of QualityMonitor arguments or None; "
                            f"received {quality!r}.")
        self.quality = dict(quality or {})
        super().__init__(overrides=overrides, seed=seed, name=name)

    def measurement_callbacks(self, callbacks, x, validation_data, objective):
        """Add a ``QualityMonitor`` for the tuner's quality objective (``val_kid`` by default).

        Only inside a tuner (``objective`` read from Keras Tuner's callbacks); a direct
        ``fit`` call trains with the callbacks as given.
        """
        if objective is None:  # not in a tuner: nothing to measure for
            return callbacks
        name = self.default_objective[0] if objective.name == "default_objective" \
            else objective.name
        metric = catalog.quality_metric_of(name)
        if metric is None or any(isinstance(cb, QualityMonitor) for cb in callbacks):
            return callbacks
        real = validation_data if validation_data is not None else x
        if isinstance(real, (tuple, list)):
            real = real[0]
        if not isinstance(real, np.ndarray):
            raise ValueError(f"`objective={name!r}` is measured by a QualityMonitor on real "
                             "images: pass `validation_data` as arrays (`(x_val,)`).")
        monitor = QualityMonitor(real, metrics=(metric.name,), **self.quality)
        return [monitor] + list(callbacks)


class GANHyperModel(QualityHyperModel):
    """Tunes a ``tfgenopt.models.GAN``: per-network learning rates, loss, penalties, EMA...

    Tuned by default: ``optimizer`` (Adam, RMSprop; SGD and Adagrad allowed),
    ``g_learning_rate`` and ``d_learning_rate`` in [1e-5, 3e-3] (log), ``loss``,
    ``gradient_penalty`` in {0, 10}, ``r1`` in {1, 0}, ``d_steps`` in 1..2, ``ema`` in
    {0.999, 0 (off)}, ``label_smoothing`` in {0, 0.1} (applied only to losses that support
    it, so it is ignored with hinge or Wasserstein), ``latent_dim``, ``units``, ``depth``,
    generator ``normalization``, ``d_normalization`` (incl. spectral) and the initializer
    (incl. ``"dcgan"``). Adam and RMSprop get ``beta_1=0.5`` as in ``GAN.compile``.

    The defaults (:meth:`defaults`, the first trial of every search) are the measured recipe
    of ``GAN.compile()``: Adam with D 1e-3 / G 5e-4, non-saturating loss, lazy R1 (gamma 1,
    every 4 steps), EMA 0.999, on the builders' default networks (latent 100, widths 64-32),
    batch size 64. The default objective is ``val_kid``: ``fit`` adds the
    ``tfgenopt.callbacks.QualityMonitor`` that measures a tuner's quality objective (on
    ``validation_data``, else on ``x``) unless one is among the callbacks, so Keras Tuner's own
    tuners work as is.

    Args:
        image_shape: vector length (784, dense networks) or ``(h, w, c)`` (DCGAN networks).
        overrides: search-space overrides.
        num_classes: a conditional GAN over this many classes (fit with ``y=labels``).
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"tanh"`` ([-1, 1]).
        seed: seed of the initializers, the noise and the data order.
        name: the HyperModel's name.
        quality: keyword arguments of the ``QualityMonitor`` that ``fit`` adds (e.g.
            ``{"extractor": "mnist", "n_samples": 500}``).

    Example:
        >>> hm = GANHyperModel(784, overrides={"loss": "hinge", "epochs": 5})
        >>> gan = hm.build(keras_tuner.HyperParameters())
        >>> type(gan).__name__
        'GAN'
    """

    def __init__(self, image_shape=784, overrides=None, num_classes=None,
                 output_activation="sigmoid", seed=None, name="gan", quality=None):
        self.input_shape = _input_shape("image_shape", image_shape)
        self.num_classes = None if num_classes is None else check_int(
            "num_classes", num_classes, minimum=2)
        self.output_activation = check_choice("output_activation", output_activation,
                                              ("sigmoid", "tanh"))
        super().__init__(overrides=overrides, seed=seed, name=name, quality=quality)

    def default_space(self):
        space = common_space(batch_sizes=(64, 32))
        del space["learning_rate"]
        losses = gan_loss_names()
        default_losses = tuple(n for n in ("non_saturating", "hinge") if n in losses) or losses[:1]
        space.update({
            "optimizer": choice("adam", "rmsprop", allowed=OPTIMIZERS),
            "g_learning_rate": float_range(1e-5, 3e-3, "log", default=G_LEARNING_RATE),
            "d_learning_rate": float_range(1e-5, 3e-3, "log", default=D_LEARNING_RATE),
            "loss": choice(*default_losses, allowed=losses),
            "gradient_penalty": choice(0.0, 10.0, legal=(0.0, None)),
            "r1": choice(1.0, 0.0, legal=(0.0, None)),
            "d_steps": int_range(1, 2),
            "ema": choice(_EMA_DECAY, 0.0, legal=(0.0, 0.99999)),
            "label_smoothing": choice(0.0, 0.1, legal=(0.0, 0.5)),
            "latent_dim": choice(100, 32, 64, legal=(1, None)),
            "units": choice(64, 32, 128, legal=(1, None)),
            "depth": int_range(1, 2, default=2),
            "normalization": choice("none", "batch", allowed=("none", "batch", "layer")),
            "d_normalization": choice("none", "spectral", "layer",
                                        allowed=("none", "spectral", "layer", "batch")),
            "kernel_initializer": choice("glorot_uniform", "dcgan", "he_normal",
                                           allowed=tuple(known_initializers())),
        })
        return space

    def networks(self, values):
        """``(generator, discriminator)`` for the hyperparameter ``values``."""
        latent = int(values["latent_dim"])
        init = values["kernel_initializer"]
        cond = dict(num_classes=self.num_classes, seed=self.seed)
        if len(self.input_shape) == 3:
            base = int(values["units"])
            g = builders.dcgan_generator(latent, self.input_shape, base_filters=base,
                                         normalization=values["normalization"],
                                         kernel_initializer=init,
                                         output_activation=self.output_activation, **cond)
            d = builders.dcgan_discriminator(self.input_shape, base_filters=base,
                                             normalization=values["d_normalization"],
                                             kernel_initializer=init, **cond)
            return g, d
        hidden = dense_widths(values["units"], values["depth"])
        dim = self.input_shape[0]
        g = builders.dense_generator(latent, hidden=hidden, output_dim=dim,
                                     normalization=values["normalization"],
                                     kernel_initializer=init,
                                     output_activation=self.output_activation, **cond)
        d = builders.dense_discriminator(dim, hidden=tuple(reversed(hidden)),
                                         normalization=values["d_normalization"],
                                         kernel_initializer=init, **cond)
        return g, d

    def build_model(self, values):
        g, d = self.networks(values)
        ema = float(values["ema"]) or None
        gan = GAN(g, d, latent_dim=int(values["latent_dim"]), ema=ema,
                  conditional=self.num_classes is not None, num_classes=self.num_classes,
                  seed=self.seed)
        smoothing = float(values["label_smoothing"]) if _smoothable(values["loss"]) else 0.0
        gan.compile(
            d_optimizer=_gan_optimizer(values, "d_learning_rate"),
            g_optimizer=_gan_optimizer(values, "g_learning_rate"),
            loss=values["loss"], gradient_penalty=float(values["gradient_penalty"]),
            r1=float(values["r1"]), d_steps=int(values["d_steps"]),
            label_smoothing=smoothing)
        return gan


def _gan_default(name):
    import inspect

    return inspect.signature(GAN.__init__).parameters[name].default


_EMA_DECAY = _gan_default("ema")  # the GAN's default generator EMA (0.999)


def _gan_optimizer(values, rate):
    """The tuned optimizer with ``beta_1=0.5`` where it has one (as ``GAN.compile`` does)."""
    opt = make_optimizer(values["optimizer"], values[rate], values["momentum"])
    config = opt.get_config()
    if "beta_1" in config:
        config["beta_1"] = BETA_1
        opt = type(opt).from_config(config)
    return opt

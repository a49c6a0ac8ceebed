"""HyperModels of the training models: :class:`VAEHyperModel` and :class:`GANHyperModel`.

They build their networks with ``tfgenopt.builders`` and wrap them in
``tfgenopt.models.VAE`` / ``tfgenopt.models.GAN``; everything else (overrides, the tuned batch
size in ``fit``, the cosine schedule) comes from :class:`TunableHyperModel`.
"""

from __future__ import annotations

from tfgenopt import builders
from tfgenopt._validation import check_choice, check_int
from tfgenopt.builders._blocks import known_initializers
from tfgenopt.tuning.hypermodels import (
    OPTIMIZERS,
    TunableHyperModel,
    _input_shape,
    common_space,
    dense_widths,
    make_optimizer,
)
from tfgenopt.tuning.space import choice, fixed, float_range, int_range

__all__ = ["VAEHyperModel", "GANHyperModel", "gan_loss_names"]

_FALLBACK_LOSSES = ("non_saturating", "hinge", "wasserstein", "least_squares")


def gan_loss_names():
    """The adversarial loss names the GAN accepts (from ``tfgenopt.losses`` when present)."""
    try:
        from tfgenopt import losses
    except ImportError:
        return _FALLBACK_LOSSES
    names = getattr(losses, "names", None)
    return tuple(names()) if callable(names) else _FALLBACK_LOSSES


def _smoothable(loss):
    """Whether one-sided label smoothing applies to ``loss`` (not to hinge / Wasserstein)."""
    try:
        from tfgenopt import losses

        return bool(getattr(losses.get(loss), "supports_label_smoothing", True))
    except (ImportError, ValueError):
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
        from tfgenopt.models import VAE

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


class GANHyperModel(TunableHyperModel):
    """Tunes a ``tfgenopt.models.GAN``: per-network learning rates, loss, penalties, EMA...

    Tuned by default: ``optimizer`` (Adam, RMSprop; SGD and Adagrad allowed),
    ``g_learning_rate`` and ``d_learning_rate`` in [1e-5, 1e-3] (log), ``loss``,
    ``gradient_penalty`` in {0, 10}, ``d_steps`` in 1..2, ``ema`` in {0 (off), 0.999},
    ``label_smoothing`` in {0, 0.1} (applied only to losses that support it, so it is
    ignored with hinge or Wasserstein), ``latent_dim``, ``units``, ``depth``, generator
    ``normalization``, ``d_normalization`` (incl. spectral) and the initializer (incl.
    ``"dcgan"``). ``r1`` is fixed at 0 by default. The default objective is ``val_kid``,
    measured by ``tfgenopt.callbacks.QualityMonitor`` (``search`` adds it).

    Args:
        image_shape: vector length (784, dense networks) or ``(h, w, c)`` (DCGAN networks).
        overrides: search-space overrides.
        num_classes: a conditional GAN over this many classes (fit with ``y=labels``).
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"tanh"`` ([-1, 1]).
        seed: seed of the initializers, the noise and the data order.
        name: the HyperModel's name.

    Example:
        >>> hm = GANHyperModel(784, overrides={"loss": "hinge", "epochs": 5})
        >>> gan = hm.build(keras_tuner.HyperParameters())
        >>> type(gan).__name__
        'GAN'
    """

    default_objective = ("val_kid", "min")

    def __init__(self, image_shape=784, overrides=None, num_classes=None,
                 output_activation="sigmoid", seed=None, name="gan"):
        self.input_shape = _input_shape("image_shape", image_shape)
        self.num_classes = None if num_classes is None else check_int(
            "num_classes", num_classes, minimum=2)
        self.output_activation = check_choice("output_activation", output_activation,
                                              ("sigmoid", "tanh"))
        super().__init__(overrides=overrides, seed=seed, name=name)

    def default_space(self):
        space = common_space(batch_sizes=(32, 64))
        del space["learning_rate"]
        losses = gan_loss_names()
        default_losses = tuple(n for n in ("non_saturating", "hinge") if n in losses) or losses[:1]
        space.update({
            "optimizer": choice("adam", "rmsprop", allowed=OPTIMIZERS),
            "g_learning_rate": float_range(1e-5, 1e-3, "log"),
            "d_learning_rate": float_range(1e-5, 1e-3, "log"),
            "loss": choice(*default_losses, allowed=losses),
            "gradient_penalty": choice(0.0, 10.0, legal=(0.0, None)),
            "r1": fixed(0.0, legal=(0.0, None)),
            "d_steps": int_range(1, 2),
            "ema": choice(0.0, 0.999, legal=(0.0, 0.99999)),
            "label_smoothing": choice(0.0, 0.1, legal=(0.0, 0.5)),
            "latent_dim": choice(32, 64, 100, legal=(1, None)),
            "units": choice(32, 64, 128, legal=(1, None)),
            "depth": int_range(1, 2),
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
        from tfgenopt.models import GAN

        g, d = self.networks(values)
        ema = float(values["ema"]) or None
        gan = GAN(g, d, latent_dim=int(values["latent_dim"]), ema=ema,
                  conditional=self.num_classes is not None, num_classes=self.num_classes,
                  seed=self.seed)
        momentum = values["momentum"]
        smoothing = float(values["label_smoothing"]) if _smoothable(values["loss"]) else 0.0
        gan.compile(
            d_optimizer=make_optimizer(values["optimizer"], values["d_learning_rate"], momentum),
            g_optimizer=make_optimizer(values["optimizer"], values["g_learning_rate"], momentum),
            loss=values["loss"], gradient_penalty=float(values["gradient_penalty"]),
            r1=float(values["r1"]), d_steps=int(values["d_steps"]),
            label_smoothing=smoothing)
        return gan

"""The toolkit's recommended model of each kind, compiled with its default recipe.

One home for what ``tfgenopt train``, ``tfgenopt compare`` and the demo build: the GAN with
``GAN.compile()``'s measured recipe (dense networks for vectors, DCGAN ones for images), the
diffusion model with ``Diffusion.compile()``'s default recipe on a U-Net, the VAE and the
autoencoder. Only the overrides given (not None) change a recipe; nothing here repeats a
recipe's default values.
"""

from __future__ import annotations

import inspect
import numbers

from tfgenopt import builders, models
from tfgenopt.models._optimizer import resolve_optimizer

__all__ = ["make_model", "recipe_gan", "recipe_diffusion", "unet_widths"]


def _check_optimizer_name(optimizer):
    resolve_optimizer("optimizer", optimizer)


def _is_image_shape(shape):
    return not isinstance(shape, numbers.Integral) and len(tuple(shape)) == 3


def make_model(kind, input_dim, optimizer=None, lr=None, loss=None, ema=None, latent_dim=None,
               seed=0, widths=None):
    """Build and compile the toolkit's recommended model of ``kind`` for ``input_dim`` data.

    ``input_dim`` is a vector length (dense networks) or an image shape ``(h, w, c)``
    (convolutional networks: DCGAN for ``gan``, the conv VAE for ``vae``, a U-Net for
    ``diffusion``, which needs images).

    ``gan``: ``GAN(generator, discriminator, latent_dim=100)`` compiled with ``GAN.compile()``'s
    defaults (the measured recipe: Adam TTUR, lazy R1, generator EMA); only the arguments given
    (not None) override it: ``optimizer`` (a name for both players, at the recipe's rates),
    ``lr`` (both players' rate), ``loss``, ``ema``, ``latent_dim``. ``diffusion``: see
    :func:`recipe_diffusion`. ``vae``: VAE with an 8-d latent; ``autoencoder``: the classic
    dense autoencoder (Adam 1e-3 unless ``optimizer`` / ``lr`` say otherwise).

    Example:
        >>> ae = make_model("autoencoder", 784)
        >>> make_model("vae", (8, 8, 1)).decoder.output_shape
        (None, 8, 8, 1)
    """
    image = _is_image_shape(input_dim)
    if kind == "gan":
        latent = latent_dim or 100
        if image:
            g = builders.dcgan_generator(latent, tuple(input_dim), seed=seed)
            d = builders.dcgan_discriminator(tuple(input_dim), seed=seed + 1)
        else:
            g = builders.dense_generator(latent, output_dim=input_dim, seed=seed)
            d = builders.dense_discriminator(input_dim, seed=seed + 1)
        return recipe_gan(g, d, latent, optimizer=optimizer, lr=lr, loss=loss, ema=ema,
                          seed=seed)
    if kind == "diffusion":
        if latent_dim is not None:
            raise ValueError("`latent_dim` (--latent-dim) does not apply to a diffusion model "
                             f"(it has no latent code); received {latent_dim!r}.")
        return recipe_diffusion(input_dim, optimizer=optimizer, lr=lr, loss=loss, ema=ema,
                                widths=widths, seed=seed)
    optimizer = optimizer or "adam"

    def opt(default_lr):
        return resolve_optimizer("optimizer", optimizer, learning_rate=lr or default_lr)

    if kind == "autoencoder":
        if image:
            raise ValueError(f"`input_dim` of the dense autoencoder must be a vector length; "
                             f"received {input_dim!r}.")
        model = builders.dense_autoencoder(input_dim, seed=seed)
        model.compile(opt(1e-3), "binary_crossentropy")
        return model
    if kind == "vae":
        latent = latent_dim or 8
        shape = tuple(input_dim) if image else input_dim
        model = models.VAE(builders.vae_encoder(shape, latent, seed=seed),
                           builders.vae_decoder(latent, shape, seed=seed), seed=seed)
        model.compile(opt(1e-3))
        return model
    raise ValueError("`kind` must be one of ['autoencoder', 'diffusion', 'gan', 'vae']; "
                     f"received {kind!r}.")


def recipe_gan(generator, discriminator, latent_dim, optimizer=None, lr=None, loss=None,
               ema=None, seed=0):
    """``GAN(generator, discriminator)`` compiled with the default recipe and the overrides given.

    What ``train gan`` builds (dense networks on ``--dataset``, DCGAN ones on ``--images``):
    ``GAN.compile()``'s measured recipe, where only the arguments that are not None change it:
    ``optimizer`` (a ``keras.optimizers`` name for both players, at the recipe's rates), ``lr``
    (both players' rate), ``loss``, ``ema`` (the generator EMA decay; 0 turns it off).

    Example:
        >>> from tfgenopt import builders
        >>> gan = recipe_gan(builders.dense_generator(8, output_dim=64),
        ...                  builders.dense_discriminator(64), 8, lr=2e-4)
        >>> [round(float(o.learning_rate), 6) for o in (gan.d_optimizer, gan.g_optimizer)]
        [0.0002, 0.0002]
    """
    model = models.GAN(generator, discriminator, latent_dim=latent_dim, seed=seed,
                       **({} if ema is None else {"ema": ema or None}))
    given = {} if loss is None else {"loss": loss}
    if optimizer is not None:
        _check_optimizer_name(optimizer)
        given.update(d_optimizer=optimizer, g_optimizer=optimizer)
    model.compile(**given)
    if lr is not None:
        model.d_optimizer.learning_rate = model.g_optimizer.learning_rate = float(lr)
    return model


def unet_widths(image_shape, widths=None):
    """The U-Net widths for ``image_shape``: ``widths``, or the builder's default cut to fit.

    ``tfgenopt.builders.unet`` halves the resolution ``len(widths) - 1`` times, so each side
    must be divisible by ``2 ** (len(widths) - 1)``; with ``widths=None`` the builder's default
    widths are cut (from the deepest) until the sides are (28 px: the first three). Widths
    given are returned as they are (the builder checks them).

    Example:
        >>> unet_widths((28, 28, 1))
        (32, 64, 96)
        >>> unet_widths((8, 8, 1), (8, 16))
        (8, 16)
    """
    if widths is not None:
        return tuple(widths)
    default = tuple(inspect.signature(builders.unet).parameters["widths"].default)
    h, w = (int(v) for v in tuple(image_shape)[:2])
    n = len(default)
    while n > 1 and (h % 2 ** (n - 1) or w % 2 ** (n - 1)):
        n -= 1
    return default[:n]


def recipe_diffusion(image_shape, optimizer=None, lr=None, loss=None, ema=None, widths=None,
                     num_classes=None, value_range=(-1.0, 1.0), seed=0):
    """``Diffusion(unet(image_shape))`` compiled with the default recipe and the overrides given.

    What ``train diffusion`` builds: ``tfgenopt.builders.unet`` (its default widths, cut to fit
    the image size by :func:`unet_widths`, unless ``widths``) in ``tfgenopt.models.Diffusion``,
    compiled with ``Diffusion.compile()``'s defaults; only the arguments that are not None
    change it: ``optimizer`` (a ``keras.optimizers`` name), ``lr`` (its learning rate),
    ``loss`` (``"mse"`` or ``"mae"``), ``ema`` (the EMA network's decay; 0 turns it off).

    Example:
        >>> model = recipe_diffusion((8, 8, 1), widths=(8, 16), lr=2e-4)
        >>> round(float(model.optimizer.learning_rate), 6), model.recipe.loss
        (0.0002, 'mse')
    """
    shape = tuple(int(v) for v in image_shape)
    net = builders.unet(shape, widths=unet_widths(shape, widths), num_classes=num_classes,
                        seed=seed)
    model = models.Diffusion(net, conditional=num_classes is not None, num_classes=num_classes,
                             value_range=value_range, seed=seed,
                             **({} if ema is None else {"ema": ema or None}))
    given = {}
    if optimizer is not None:
        _check_optimizer_name(optimizer)
        given["optimizer"] = optimizer
    if lr is not None:
        given["learning_rate"] = float(lr)
    if loss is not None:
        given["loss"] = loss
    model.compile(**given)
    return model

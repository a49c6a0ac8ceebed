"""What a probe measures: a scalar loss of a fixed probe set as a function of some variables.

Every probe in :mod:`tfgenopt.landscape` works on an :class:`Objective`. It evaluates the loss
at any point ``w`` of its variables *without writing to them*: the point is substituted for the
variables inside a ``keras.StatelessScope`` in a compiled ``tf.function``, so weights, optimizer
slots, BatchNorm moving statistics (the loss runs with ``training=False``) and seed-generator
states are never touched, also when a probe is interrupted.

:func:`objective` builds the right one for a model:

* a plain compiled ``keras.Model``: ``model.compute_loss`` over ``model.trainable_variables``
  (targets default to the inputs when ``data`` is only ``x``, as for an autoencoder);
* a GAN (``discriminator_loss`` / ``generator_loss``): one player's own loss over that
  player's own variables, with a fixed latent batch;
* a VAE (``elbo_terms``): the deterministic ELBO loss (``z = z_mean``) over every weight;
* a keras.io-style subclass whose networks are attributes (``generator`` + ``discriminator``,
  or ``encoder`` + ``decoder``; its ``train_step`` cannot be probed without side effects):
  a GAN's ``d_loss_fn(real, fake)`` / ``g_loss_fn(fake)`` when it has them (keras.io's
  WGAN-GP), else the standard non-saturating losses (real labelled 1; from probabilities
  when the discriminator ends in a sigmoid); a VAE's deterministic ELBO (binary
  cross-entropy summed over features for a sigmoid decoder, squared error otherwise, plus
  the KL of an encoder returning ``[z_mean, z_log_var, ...]``);
* a diffusion model (``loss_at``, ``validation_noise``): its loss at the validation grid's fixed
  noise levels and noise, over the denoiser's weights.

Any callable ``fn(data) -> scalar`` over any ``keras.Variable``s works through
``Objective(fn, variables, data)``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfgenopt._validation import check_choice
from tfgenopt.landscape._linear_head import linear_head
from tfgenopt.landscape._objective import Objective
from tfgenopt.models import protocol
from tfgenopt.models._range import output_activation

__all__ = ["Objective", "objective", "probe_variables", "PLAYERS"]

PLAYERS = {"discriminator": "discriminator", "d": "discriminator",
           "generator": "generator", "g": "generator"}


def _has_networks(model, *names):
    return all(isinstance(getattr(model, n, None), keras.Model) for n in names)


def _is_gan(model):
    return (callable(getattr(model, "discriminator_loss", None)) and callable(
        getattr(model, "generator_loss", None))) or _has_networks(
        model, "generator", "discriminator")


def _is_vae(model):
    return callable(getattr(model, "elbo_terms", None)) or _has_networks(
        model, "encoder", "decoder")


# ---------------------------------------------------------------------- factory
def _unpack_xy(data):
    if isinstance(data, tuple) and len(data) in (2, 3):
        x, y = data[0], data[1]
        sw = data[2] if len(data) == 3 else None
        return x, y, sw
    return data, data, None


def _metric_fn(metric):
    """A stateless ``(y, y_pred) -> scalar`` from a Keras metric name/instance or a callable."""
    if isinstance(metric, str):
        metric = keras.metrics.get(metric)
    if isinstance(metric, keras.metrics.Metric):
        metric.reset_state()
        initial = [keras.ops.convert_to_numpy(v.value) for v in metric.variables]

        def fn(y, y_pred):
            state = metric.stateless_update_state([tf.constant(v) for v in initial], y, y_pred)
            return metric.stateless_result(state)

        return metric.name, fn
    if callable(metric):
        return getattr(metric, "__name__", "metric"), (
            lambda y, y_pred: keras.ops.mean(metric(y, y_pred)))
    raise TypeError(f"`metrics` entries must be names, keras.metrics.Metric or callables; "
                    f"received {metric!r}.")


def _model_objective(model, data, metrics, batch_size):
    if not model.built or not model.trainable_variables:
        raise ValueError(
            f"`model` ({type(model).__name__}) must be built (call it or fit it once) and have "
            "trainable variables before probing its loss landscape. A subclassed GAN or VAE "
            "whose train_step calls its networks, not the model, is probed through its "
            "network attributes: name them `generator` and `discriminator` (or `encoder` and "
            "`decoder`).")
    if not getattr(model, "compiled", False):
        raise ValueError("`model` must be compiled with a loss (`model.compile(loss=...)`) so "
                         "`model.compute_loss` defines the probed loss.")
    if (getattr(model, "loss", None) is None and not model.losses
            and type(model).compute_loss is keras.Model.compute_loss):
        raise ValueError(f"`model` ({model.name!r}) was compiled without a loss, so there is no "
                         "loss to probe; compile it with one (`model.compile(loss=...)`).")
    named = [_metric_fn(m) for m in (metrics or ())]

    def loss(y_pred, batch):
        x, y, sw = _unpack_xy(batch)
        out = {"loss": model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sw,
                                          training=False)}
        for name, metric in named:
            out[name] = metric(y, y_pred)
        return out

    def fn(batch):
        return loss(model(_unpack_xy(batch)[0], training=False), batch)

    obj = Objective(fn, model.trainable_variables, data, batch_size, name="loss")
    obj.linear_head = linear_head(model, obj.variables, obj.data,
                                  lambda batch: _unpack_xy(batch)[0], loss)
    # Build the compiled loss (it creates tracker variables on first use) outside any trace,
    # in a stateless scope so its trackers are not updated.
    probe = tf.nest.map_structure(lambda t: t[:1], obj.data)
    with keras.StatelessScope():
        fn(probe)
    return obj


def _check_player(player):
    if player is None:
        raise ValueError("`player` is required for a GAN: one of ['discriminator', "
                         "'generator'] (each player's own loss over its own variables).")
    return PLAYERS[check_choice("player", player, sorted(PLAYERS))]


def probe_variables(model, player=None):
    """The variables a probe of ``model`` moves (what :func:`objective` would probe).

    Args:
        model: an :class:`Objective`, a plain ``keras.Model``, a GAN (with ``player``) or a VAE.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.

    Returns:
        A list of ``keras.Variable``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> [tuple(v.shape) for v in probe_variables(m)]
        [(3, 2), (2,)]
    """
    if isinstance(model, Objective):
        return list(model.variables)
    if _is_gan(model):
        player = _check_player(player)
        return list(getattr(model, player).trainable_variables)
    if player is not None:
        raise ValueError(f"`player` is only for GANs; received player={player!r} for a "
                         f"{type(model).__name__}.")
    if isinstance(model, keras.Model):
        return list(model.trainable_variables)
    raise TypeError("`model` must be a keras.Model, a GAN, a VAE or an Objective; "
                    f"received {type(model).__name__}.")


def _user_gan_losses(gan):
    """``(d_loss(real, fake), g_loss(fake))`` on discriminator outputs of a keras.io GAN."""
    d_fn, g_fn = getattr(gan, "d_loss_fn", None), getattr(gan, "g_loss_fn", None)
    if callable(d_fn) and callable(g_fn):
        return d_fn, g_fn

    bce = keras.losses.BinaryCrossentropy(
        from_logits=output_activation(gan.discriminator) != "sigmoid")

    def d_loss(real, fake):
        return bce(keras.ops.ones_like(real), real) + bce(keras.ops.zeros_like(fake), fake)

    def g_loss(fake):
        return bce(keras.ops.ones_like(fake), fake)

    return d_loss, g_loss


def _user_gan_objective(gan, x, player, batch_size, seed):
    n = int(x.shape[0]) if hasattr(x, "shape") else len(x)
    shape = protocol.latent_shape(gan, "generator")
    z = np.random.default_rng(seed).standard_normal((n,) + shape).astype("float32")
    d_loss, g_loss = _user_gan_losses(gan)
    gen, disc = gan.generator, gan.discriminator
    if player == "discriminator":
        def fn(b):
            fake = gen(b[1], training=False)
            return d_loss(disc(b[0], training=False), disc(fake, training=False))
        variables = disc.trainable_variables
    else:
        def fn(b):
            return g_loss(disc(gen(b[1], training=False), training=False))
        variables = gen.trainable_variables
    return Objective(fn, variables, (x, z), batch_size, name=f"{player[0]}_loss")


def _gan_objective(gan, data, player, batch_size, seed):
    player = _check_player(player)
    x, labels = (data[0], data[1]) if isinstance(data, tuple) and len(data) == 2 else (data, None)
    if not callable(getattr(gan, "sample_noise", None)):
        return _user_gan_objective(gan, x, player, batch_size, seed)
    n = int(np.shape(x)[0]) if not hasattr(x, "shape") else int(x.shape[0])
    with keras.StatelessScope():  # whatever sample_noise does to a seed state is discarded
        z = keras.ops.convert_to_numpy(gan.sample_noise(n, seed=seed))
    batch = (x, z) if labels is None else (x, z, labels)

    if player == "discriminator":
        def fn(b):
            return gan.discriminator_loss(b[0], b[1], b[2] if len(b) == 3 else None)
        variables = gan.discriminator.trainable_variables
    else:
        def fn(b):
            return gan.generator_loss(b[1], b[2] if len(b) == 3 else None)
        variables = gan.generator.trainable_variables
    return Objective(fn, variables, batch, batch_size, name=f"{player[0]}_loss")


def _user_vae_terms(vae):
    bce = output_activation(vae.decoder) == "sigmoid"

    def fn(x):
        x = keras.ops.cast(x, "float32")
        codes = vae.encoder(x, training=False)
        if isinstance(codes, (list, tuple)) and len(codes) >= 2:
            mean, log_var = codes[0], codes[1]
            kl = -0.5 * keras.ops.sum(1.0 + log_var - keras.ops.square(mean)
                                      - keras.ops.exp(log_var), axis=-1)
        else:
            mean = codes[0] if isinstance(codes, (list, tuple)) else codes
            kl = keras.ops.zeros((keras.ops.shape(x)[0],))
        x_hat = keras.ops.reshape(vae.decoder(mean, training=False), keras.ops.shape(x))
        if bce:
            p = keras.ops.clip(x_hat, 1e-7, 1.0 - 1e-7)
            err = -(x * keras.ops.log(p) + (1.0 - x) * keras.ops.log(1.0 - p))
        else:
            err = keras.ops.square(x - x_hat)
        rec = keras.ops.sum(keras.ops.reshape(err, (keras.ops.shape(x)[0], -1)), axis=-1)
        return {"reconstruction_loss": keras.ops.mean(rec), "kl_loss": keras.ops.mean(kl),
                "loss": keras.ops.mean(rec + kl)}

    return fn


def _is_diffusion(model):
    return callable(getattr(model, "validation_noise", None)) and callable(
        getattr(model, "loss_at", None))


def _diffusion_objective(model, data, batch_size):
    """The diffusion loss at the validation grid's fixed levels and noise (over the network)."""
    x, labels = (data[0], data[1]) if isinstance(data, tuple) and len(data) == 2 else (data, None)
    x = np.asarray(x, "float32")
    eps, s = (keras.ops.convert_to_numpy(t) for t in model.validation_noise(x))
    batch = (x, eps, s) if labels is None else (x, eps, s, np.asarray(labels, "int32"))

    def fn(b):
        return {"loss": model.loss_at(b[0], b[1], b[2], b[3] if len(b) == 4 else None)}

    return Objective(fn, model.network.trainable_variables, batch, batch_size, name="loss")


def _vae_objective(vae, data, batch_size):
    terms = vae.elbo_terms if callable(getattr(vae, "elbo_terms", None)) else \
        _user_vae_terms(vae)

    def fn(batch):
        return dict(terms(batch))

    return Objective(fn, vae.trainable_variables, data, batch_size, name="loss")


def objective(model, data=None, player=None, metrics=None, batch_size=None, seed=0):
    """Build the :class:`Objective` a probe measures for ``model`` on the probe set ``data``.

    Args:
        model: an :class:`Objective` (returned unchanged), a compiled ``keras.Model``, a
            ``tfgenopt.models.GAN`` or a ``tfgenopt.models.VAE``.
        data: the probe set: ``x`` or ``(x, y)`` / ``(x, y, sample_weight)`` for a plain model
            (``y`` defaults to ``x``); images ``x`` (or ``(x, labels)``) for a GAN; ``x`` for
            a VAE.
        player: for a GAN, ``"discriminator"`` (``"d"``) or ``"generator"`` (``"g"``).
        metrics: extra metrics for a plain model (Keras metric names, ``Metric`` instances or
            ``fn(y_true, y_pred)`` callables), reported next to the loss by the slices.
        batch_size: evaluate in chunks of this many samples (see :class:`Objective`).
        seed: seed of the GAN's fixed latent batch.

    Returns:
        An :class:`Objective`.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> m.compile("sgd", "mse")
        >>> obj = objective(m, (np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")))
        >>> obj.num_params
        4
    """
    if isinstance(model, Objective):
        return model
    if _is_gan(model):
        return _gan_objective(model, data, player, batch_size, seed)
    if player is not None:
        raise ValueError(f"`player` is only for GANs; received player={player!r} for a "
                         f"{type(model).__name__}.")
    if _is_vae(model):
        return _vae_objective(model, data, batch_size)
    if _is_diffusion(model):
        return _diffusion_objective(model, data, batch_size)
    if isinstance(model, keras.Model):
        return _model_objective(model, data, metrics, batch_size)
    raise TypeError("`model` must be a compiled keras.Model, a GAN, a VAE or an Objective; "
                    f"received {type(model).__name__}.")

"""Argument and data checks of the GAN, run before any state changes."""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt import losses
from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.models import _gan_recipe as R
from tfgenopt.models import _training as T


def _check_wiring(generator, discriminator, latent_dim, conditional):
    """Raise a ``ValueError`` naming the mismatch when the networks cannot be chained."""
    want = 2 if conditional else 1
    kind = "a conditional GAN needs [z, label]" if conditional else "an unconditional GAN needs z"
    for name, net in (("generator", generator), ("discriminator", discriminator)):
        if len(net.inputs) != want:
            raise ValueError(f"`{name}` has {len(net.inputs)} inputs; {kind} "
                             f"({'[x, label]' if name == 'discriminator' else ''}).")
    z_shape = T.static_shape(generator.inputs[0])
    if z_shape != (latent_dim,):
        raise ValueError(f"`latent_dim` is {latent_dim} but the generator's noise input has "
                         f"shape {z_shape}.")
    if len(generator.outputs) != 1:
        raise ValueError(f"`generator` must have one output; it has {len(generator.outputs)}.")
    g_out = T.static_shape(generator.outputs[0])
    d_in = T.static_shape(discriminator.inputs[0])
    if not T.shapes_compatible(g_out, d_in):
        raise ValueError(f"The generator's output shape {g_out} does not fit the "
                         f"discriminator's input shape {d_in}.")
    d_out = T.static_shape(discriminator.outputs[0])
    if len(discriminator.outputs) != 1 or d_out not in ((1,), ()):
        raise ValueError(f"`discriminator` must output one logit per sample (shape (batch, 1)); "
                         f"its output shape is {d_out}.")


def check_gan_args(generator, discriminator, latent_dim, ema, conditional, num_classes, seed):
    """Validate ``GAN.__init__``'s arguments; return the normalized scalars."""
    T.check_network("generator", generator)
    T.check_network("discriminator", discriminator)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    if ema is not None:
        ema = check_float("ema", ema, 0.0, 1.0, max_inclusive=False)
    conditional = check_choice("conditional", conditional, (True, False))
    if conditional:
        if num_classes is None:
            raise ValueError("`num_classes` is required when `conditional=True`.")
        num_classes = check_int("num_classes", num_classes, minimum=2)
    elif num_classes is not None:
        raise ValueError(f"`num_classes` only applies with `conditional=True`; "
                         f"received {num_classes!r}.")
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    _check_wiring(generator, discriminator, latent_dim, conditional)
    return latent_dim, ema, conditional, num_classes, seed


def check_recipe(loss, gradient_penalty, r1, r1_every, d_steps, label_smoothing, instance_noise,
                 lecam=0.0):
    """Validate ``GAN.compile``'s recipe; return ``(AdversarialLoss, recipe dict)``.

    ``r1="auto"`` resolves here (see ``_gan_recipe.resolve_r1``).
    """
    adv = losses.get(loss)
    gradient_penalty = check_float("gradient_penalty", gradient_penalty, 0.0)
    recipe = {
        "gradient_penalty": gradient_penalty,
        "r1": check_float("r1", R.resolve_r1(r1, gradient_penalty), 0.0),
        "r1_every": check_int("r1_every", r1_every, minimum=1),
        "d_steps": check_int("d_steps", d_steps, minimum=1),
        "label_smoothing": check_float("label_smoothing", label_smoothing, 0.0, 1.0,
                                       max_inclusive=False),
        "instance_noise": check_float("instance_noise", instance_noise, 0.0),
        "lecam": R.lecam_weight(lecam),
    }
    if recipe["label_smoothing"] and not adv.supports_label_smoothing:
        raise ValueError(f"`label_smoothing` does not apply to loss {adv.name!r}; use it "
                         f"with 'non_saturating', 'minimax' or 'least_squares'.")
    return adv, recipe


def check_optimizers(d_optimizer, g_optimizer):
    """Resolve both optimizers (names get the GAN learning rates); distinct instances only."""
    d_opt = R.resolve_optimizer("d_optimizer", d_optimizer, R.D_LEARNING_RATE)
    g_opt = R.resolve_optimizer("g_optimizer", g_optimizer, R.G_LEARNING_RATE)
    if d_opt is g_opt:
        raise ValueError("`d_optimizer` and `g_optimizer` must be different optimizer "
                         "instances (each keeps slots for its own network).")
    return d_opt, g_opt


def check_batch(data, discriminator, conditional):
    """``(x, labels)`` of a ``fit`` batch after checking its shape against the discriminator."""
    x, y = T.unpack(data)
    T.check_sample_shape(x, discriminator, "discriminator")
    if conditional and y is None:
        raise ValueError("A conditional GAN trains on `(x, labels)`; received no labels.")
    return x, (y if conditional else None)


def has_batch_statistics(network):
    """True when any layer of ``network`` (nested models included) is a BatchNormalization."""
    for layer in getattr(network, "layers", ()):
        if isinstance(layer, keras.layers.BatchNormalization) or has_batch_statistics(layer):
            return True
    return False


def check_labels(labels, n, num_classes):
    """``n`` int32 labels for ``generate`` (None cycles through the classes); None if unconditional."""
    if num_classes is None:
        if labels is not None:
            raise ValueError("`labels` only apply to a conditional GAN (`conditional=True`).")
        return None
    labels = np.arange(n) % num_classes if labels is None else np.asarray(labels)
    if labels.shape != (n,) or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"`labels` must be {n} integers in [0, {num_classes}); received "
                         f"{labels.tolist() if labels.size <= 10 else labels.shape}.")
    return labels.astype("int32")

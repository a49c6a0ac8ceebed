"""The GAN's checks of its networks, batches and labels (its compile arguments: ``recipe.py``)."""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.models._training import (
    check_network,
    check_sample_shape,
    shapes_compatible,
    static_shape,
    unpack,
)


def _check_wiring(generator, discriminator, latent_dim, conditional):
    """Raise a ``ValueError`` naming the mismatch when the networks cannot be chained."""
    want = 2 if conditional else 1
    kind = "a conditional GAN needs [z, label]" if conditional else "an unconditional GAN needs z"
    for name, net in (("generator", generator), ("discriminator", discriminator)):
        if len(net.inputs) != want:
            raise ValueError(f"`{name}` has {len(net.inputs)} inputs; {kind} "
                             f"({'[x, label]' if name == 'discriminator' else ''}).")
    z_shape = static_shape(generator.inputs[0])
    if z_shape != (latent_dim,):
        raise ValueError(f"`latent_dim` is {latent_dim} but the generator's noise input has "
                         f"shape {z_shape}.")
    if len(generator.outputs) != 1:
        raise ValueError(f"`generator` must have one output; it has {len(generator.outputs)}.")
    g_out = static_shape(generator.outputs[0])
    d_in = static_shape(discriminator.inputs[0])
    if not shapes_compatible(g_out, d_in):
        raise ValueError(f"The generator's output shape {g_out} does not fit the "
                         f"discriminator's input shape {d_in}.")
    d_out = static_shape(discriminator.outputs[0])
    if len(discriminator.outputs) != 1 or d_out not in ((1,), ()):
        raise ValueError(f"`discriminator` must output one logit per sample (shape (batch, 1)); "
                         f"its output shape is {d_out}.")


def check_gan_args(generator, discriminator, latent_dim, ema, conditional, num_classes, seed):
    """Validate ``GAN.__init__``'s arguments; return the normalized scalars."""
    check_network("generator", generator)
    check_network("discriminator", discriminator)
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


def check_batch(data, discriminator, conditional):
    """``(x, labels)`` of a ``fit`` batch after checking its shape against the discriminator."""
    x, y = unpack(data)
    check_sample_shape(x, discriminator, "discriminator")
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

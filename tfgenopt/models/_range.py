"""Data range checks: training data must lie in the range the generator (or decoder) outputs.

A sigmoid generator can only produce values in [0, 1] and a tanh one in [-1, 1]; data outside
that range (uint8 pixel counts 0..255, or digits scaled to [-1, 1] for a sigmoid generator)
trains silently towards a target it can never reach (``d_real`` goes to 1 and stays). The
range is read from the network's output activation; a linear (or any other) output skips
the check.
"""

from __future__ import annotations

import numpy as np

from tfgenopt.models import protocol

__all__ = ["output_activation", "output_range", "check_data_range", "first_batch"]

RANGES = {"sigmoid": (0.0, 1.0), "hard_sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
_TOLERANCE = 0.01  # of the range's width: round-off of resizing and scaling


def output_activation(network):
    """The name of ``network``'s output activation (``"sigmoid"``, ``"tanh"``, ``"linear"``...).

    Walks back from the last layer over layers without weights and activation (``Reshape``,
    ``Flatten``...) to the first one that has an ``activation``; None when none is found.

    Example:
        >>> import keras
        >>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"),
        ...                         keras.layers.Reshape((2, 2))])
        >>> output_activation(net)
        'tanh'
    """
    for layer in reversed(getattr(network, "layers", None) or ()):
        act = getattr(layer, "activation", None)
        if act is not None:
            return getattr(act, "__name__", None) or type(act).__name__.lower()
        if layer.weights:  # a layer that transforms values but names no activation
            return None
    return None


def output_range(network, default=None):
    """``(low, high)`` of ``network``'s outputs from its activation, else ``default``.

    The one home of "what range does this network output": the data-range check, the
    colour augmentation's brightness scale and the sample grids all read it.

    Args:
        network: a ``keras.Model``; its output activation is found by
            :func:`output_activation` (weightless layers such as ``Reshape`` are skipped).
        default: returned when the activation is unbounded or unknown (``linear``, none):
            None, or a pair such as ``(0.0, 1.0)``.

    Returns:
        ``(0.0, 1.0)`` for sigmoid, ``(-1.0, 1.0)`` for tanh, else ``default``.

    Example:
        >>> import keras
        >>> output_range(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, "sigmoid")]))
        (0.0, 1.0)
        >>> output_range(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), (0.0, 1.0))
        (0.0, 1.0)
    """
    return RANGES.get(output_activation(network), default)


def _data_network(model):
    nets = protocol.networks(model)
    for name in ("generator", "decoder"):
        if name in nets:
            return name, nets[name]
    return None, None


def first_batch(x):
    """A NumPy view of the data to check: the array, or the first batch of a dataset.

    A ``tf.data.Dataset`` is read through ``take(1)`` (a new iterator; the dataset is not
    consumed), a ``keras.utils.PyDataset`` through ``x[0]``; other iterators (one-shot Python
    generators) return None: they cannot be looked at without consuming them.
    """
    if isinstance(x, tuple) and x:
        x = x[0]
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "element_spec") and hasattr(x, "take"):
        for batch in x.take(1):
            return _images(batch)
        return None
    import keras

    if isinstance(x, keras.utils.PyDataset):
        return _images(x[0])
    if hasattr(x, "shape") and hasattr(x, "dtype") and not hasattr(x, "__next__"):
        return np.asarray(x)
    return None


def _images(batch):
    if isinstance(batch, (tuple, list)):
        batch = batch[0]
    if isinstance(batch, dict):
        return None
    return np.asarray(batch)


def check_data_range(model, x, argument="x", owner=None):
    """Raise ``ValueError`` when ``x`` lies outside the output range of ``model``'s generator.

    Args:
        model: a GAN / VAE (ours or keras.io style): its ``generator`` or ``decoder`` is read.
        x: an array, a ``tf.data.Dataset`` (its first batch) or a ``PyDataset``.
        argument: the argument's name for the message.
        owner: who checks, for the message (e.g. ``"QualityMonitor"``).

    Returns:
        None.

    Example:
        >>> import numpy as np, tfgenopt as tg
        >>> g = tg.builders.dense_generator(latent_dim=2, hidden=(4,), output_dim=3)
        >>> d = tg.builders.dense_discriminator(input_dim=3, hidden=(4,))
        >>> check_data_range(tg.models.GAN(g, d, 2), np.full((2, 3), 255, "uint8"))
        Traceback (most recent call last):
        ...
        ValueError: `x` holds values in [255, 255] but the generator ends in sigmoid, whose outputs lie in [0, 1]...
    """
    declared = getattr(model, "value_range", None)  # a model that states its data's range
    name, net = _data_network(model)
    expected = declared if isinstance(declared, tuple) else (
        None if net is None else output_range(net))
    if expected is None:
        return
    data = first_batch(x)
    if data is None or data.size == 0 or not (
            np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        return
    lo, hi = float(np.min(data)), float(np.max(data))
    a, b = expected
    tol = _TOLERANCE * (b - a)
    if lo >= a - tol and hi <= b + tol:
        return
    where = "" if owner is None else f"{owner}: "
    batch = "" if isinstance(x, np.ndarray) or (
        isinstance(x, tuple) and x and isinstance(x[0], np.ndarray)) else " (first batch)"
    if lo >= 0 and hi > 1.5:
        fix = f"`x = tg.data.scale(x, value_range=({a:g}, {b:g}))` (for 0..255 pixel counts)"
    else:
        fix = (f"`tg.data.scale(raw_pixels, value_range=({a:g}, {b:g}))` on the 0..255 pixels "
               f"(or map [{lo:.3g}, {hi:.3g}] linearly onto [{a:g}, {b:g}])")
    if isinstance(declared, tuple):
        raise ValueError(
            f"{where}`{argument}`{batch} holds values in [{lo:.4g}, {hi:.4g}] outside the model's "
            f"`value_range` [{a:g}, {b:g}]. Rescale the data with {fix}, or build the model with "
            f"value_range=({lo:.3g}, {hi:.3g}).")
    raise ValueError(
        f"{where}`{argument}`{batch} holds values in [{lo:.4g}, {hi:.4g}] but the {name} ends in "
        f"{output_activation(net)}, whose outputs lie in [{a:g}, {b:g}]: the model can never "
        f"match this data. Rescale it to [{a:g}, {b:g}] with {fix}, or give the {name} an "
        "output activation that covers the data's range.")

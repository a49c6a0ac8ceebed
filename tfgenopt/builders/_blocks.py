"""The choices every builder shares: normalization, weight initializer, activation, by name."""

from __future__ import annotations

import functools
import inspect
import numbers
import zlib

import keras

from tfgenopt._validation import check_choice, check_int
from tfgenopt.layers import MinibatchStdDev

NORMALIZATIONS = ("none", "batch", "layer", "spectral")
INITIALIZER_ALIASES = {
    "dcgan": lambda seed: keras.initializers.RandomNormal(0.0, 0.02, seed=seed),
    "he": lambda seed: keras.initializers.HeNormal(seed=seed),
    "glorot": lambda seed: keras.initializers.GlorotUniform(seed=seed),
    "orthogonal": lambda seed: keras.initializers.Orthogonal(seed=seed),
}
KERAS_INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "random_normal", "random_uniform", "truncated_normal", "orthogonal",
    "variance_scaling", "zeros", "ones",
)


def known_initializers():
    """Names accepted by ``kernel_initializer`` (Keras' own plus ``dcgan``, ``he``, ``glorot``)."""
    return sorted(set(INITIALIZER_ALIASES) | set(KERAS_INITIALIZERS))


def check_normalization(normalization, allow_spectral=False):
    """Return the canonical normalization name; ``None`` means ``"none"``."""
    name = "none" if normalization is None else normalization
    allowed = NORMALIZATIONS if allow_spectral else NORMALIZATIONS[:-1]
    if name == "spectral" and not allow_spectral:
        raise ValueError(
            "`normalization='spectral'` is for discriminators; use one of "
            f"{list(allowed)} here."
        )
    return check_choice("normalization", name, allowed)


def check_minibatch_std(value):
    """Return the minibatch-stddev group size for ``minibatch_std``, or None when it is off.

    ``False``/``None`` -> off, ``True`` -> 4 (StyleGAN's group size), an int >= 2 -> that size.

    Example:
        >>> check_minibatch_std(True), check_minibatch_std(8), check_minibatch_std(False)
        (4, 8, None)
    """
    if value is None or value is False:
        return None
    if value is True:
        return 4
    if not isinstance(value, numbers.Integral):
        raise TypeError("`minibatch_std` must be a bool or an int group size >= 2; received "
                        f"{value!r} ({type(value).__name__}).")
    if value < 2:
        raise ValueError("`minibatch_std` must be a bool or an int group size >= 2; received "
                         f"{value!r}.")
    return int(value)


def minibatch_std(x, group_size):
    """Apply a ``MinibatchStdDev`` layer with ``group_size`` to ``x`` (no-op when None)."""
    if group_size is None:
        return x
    return MinibatchStdDev(group_size=group_size, name="minibatch_std")(x)


def initializer(name, seed=None):
    """Return a Keras initializer for ``name`` (a Keras name, an alias, or an instance).

    Example:
        >>> initializer("dcgan").stddev
        0.02
    """
    if seed is not None:  # a bad seed names itself here, not inside a Keras initializer
        check_int("seed", seed, minimum=0)
    if isinstance(name, keras.initializers.Initializer):
        return name
    if isinstance(name, dict):
        return keras.initializers.get(name)
    if not isinstance(name, str):
        raise TypeError(
            f"`kernel_initializer` must be a name or a keras.initializers.Initializer; "
            f"received {name!r}."
        )
    if name in INITIALIZER_ALIASES:
        return INITIALIZER_ALIASES[name](seed)
    if name in KERAS_INITIALIZERS:
        init = keras.initializers.get(name)
        if seed is not None and hasattr(init, "seed"):
            config = init.get_config()
            config["seed"] = seed
            init = init.__class__.from_config(config)
        return init
    raise ValueError(
        f"Unknown `kernel_initializer` {name!r}; known: {known_initializers()}."
    )


def _derived_seed(seed, scope, index):
    """A seed of its own for layer ``index`` of builder ``scope`` (stable across runs)."""
    return (seed * 1_000_003 + zlib.crc32(f"{scope}/{index}".encode())) % (2 ** 31 - 1)


class LayerInitializers:
    """A fresh kernel initializer for each layer of one model, each with a seed of its own.

    Keras' initializers give the same values on every call with the same seed, and an unseeded
    instance fixes its seed when it is made; so one instance shared by a model's layers starts
    every kernel from the same random numbers (all kernels then begin with the same leading
    values, whatever their shapes, and a generator's and a discriminator's built with one seed
    mirror each other). Each call of :meth:`next` returns a new initializer: seeded ones get
    ``seed`` mixed with the builder's name and the layer's position (a model still rebuilds
    exactly from its seed; G and D built with one seed differ), unseeded ones a fresh instance.

    Example:
        >>> inits = LayerInitializers("dcgan", 0, "g")
        >>> first, second = inits.next(), inits.next()
        >>> first.seed != second.seed, first.stddev
        (True, 0.02)
    """

    def __init__(self, name, seed=None, scope="model"):
        self._base = initializer(name, seed)  # validates the name and the seed
        self._name, self._seed, self._scope, self._count = name, seed, scope, 0

    def next(self):
        """The initializer for the next layer."""
        index, self._count = self._count, self._count + 1
        base = self._base
        if not hasattr(base, "seed"):  # zeros, ones, constants: nothing random to share
            return base
        config = base.get_config()
        if isinstance(self._name, str) and self._seed is None:
            config["seed"] = None  # a new instance draws its own seed
        elif isinstance(base.seed, numbers.Integral):
            config["seed"] = _derived_seed(int(base.seed), self._scope, index)
        else:  # a user's initializer with a SeedGenerator: its calls already differ
            return base
        return base.__class__.from_config(config)


def check_activation(name, argument="activation"):
    """Return ``name`` if Keras knows the activation (``None`` = linear)."""
    if name is None:
        return None
    try:
        keras.activations.get(name)
    except (ValueError, TypeError):
        raise ValueError(
            f"Unknown `{argument}` {name!r}; use a keras.activations name such as 'relu', "
            "'leaky_relu', 'tanh', 'sigmoid' or None."
        ) from None
    return name


def dense(units, normalization, init, activation=None, name=None, first=False):
    """A Dense layer (spectrally normalized when asked) and its normalization/activation layers."""
    layer = keras.layers.Dense(units, kernel_initializer=init, name=name)
    return _wrap(layer, normalization, activation, first)


def conv(filters, kernel_size, strides, normalization, init, activation=None, transpose=False,
         name=None, first=False):
    """A (transposed) Conv2D with 'same' padding and its normalization/activation layers."""
    cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    layer = cls(filters, kernel_size, strides=strides, padding="same", kernel_initializer=init,
                name=name)
    return _wrap(layer, normalization, activation, first)


def _wrap(layer, normalization, activation, first):
    layers = []
    if normalization == "spectral":
        layers.append(keras.layers.SpectralNormalization(layer))
    else:
        layers.append(layer)
        # DCGAN practice: no normalization on a discriminator's first layer.
        if normalization == "batch" and not first:
            layers.append(keras.layers.BatchNormalization())
        elif normalization == "layer" and not first:
            layers.append(keras.layers.LayerNormalization())
    if activation is not None:
        layers.append(_activation(activation))
    return layers


def _activation(name):
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2)
    return keras.layers.Activation(name)


def apply(layers, x):
    """Apply a list of layers in order (functional API helper)."""
    for layer in layers:
        x = layer(x)
    return x


def dense_to_shape(x, shape, activation, init, name):
    """A ``Dense`` layer with ``prod(shape)`` units on ``x``, reshaped to ``shape`` if not flat."""
    size = 1
    for d in shape:
        size *= d
    x = keras.layers.Dense(size, activation=activation, kernel_initializer=init, name=name)(x)
    return keras.layers.Reshape(shape)(x) if len(shape) > 1 else x


def records_arguments(builder):
    """Decorate a builder so its model carries ``builder_arguments`` (its name and arguments).

    ``tfgenopt.callbacks.TensorBoard`` writes them into the run's HParams session.

    Example:
        >>> @records_arguments
        ... def tiny(units=2):
        ...     return keras.Sequential([keras.Input((1,)), keras.layers.Dense(units)])
        >>> tiny(units=3).builder_arguments
        {'builder': 'tiny', 'units': 3}
    """
    signature = inspect.signature(builder)

    @functools.wraps(builder)
    def build(*args, **kwargs):
        model = builder(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {"builder": builder.__name__}
        for key, value in bound.arguments.items():
            if value is None or isinstance(value, (bool, int, float, str)):
                values[key] = value
            elif isinstance(value, (tuple, list)):
                values[key] = str(tuple(value))
        model.builder_arguments = values
        return model

    return build

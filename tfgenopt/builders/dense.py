"""Dense networks: the classic 784-64-32-784 autoencoder, generator and discriminator."""

from __future__ import annotations

import numbers

import keras

from tfgenopt._validation import check_float, check_int, check_int_tuple
from tfgenopt.builders import _blocks
from tfgenopt.models._input import FunctionalModel

__all__ = ["dense_autoencoder", "dense_generator", "dense_discriminator", "label_input"]


def _shape(name, value):
    """Accept an int (a flat vector) or a shape tuple; return a tuple of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_int(name, value, minimum=1),)
    return check_int_tuple(name, value)


def label_input(num_classes, embed_dim, name="label"):
    """An integer class-label ``Input`` and its embedding (for conditional networks)."""
    check_int("num_classes", num_classes, minimum=2)
    label = keras.Input(shape=(), dtype="int32", name=name)
    emb = keras.layers.Embedding(num_classes, embed_dim, name=f"{name}_embedding")(label)
    return label, emb


@_blocks.records_arguments
def dense_autoencoder(input_dim=784, hidden=(64, 32), activation="relu",
                      output_activation="sigmoid", normalization=None,
                      kernel_initializer="glorot_uniform", seed=None, name="dense_autoencoder"):
    """The classic dense autoencoder: ``input_dim`` -> ``hidden`` -> ``input_dim``.

    With the defaults this is exactly the 784-64-32-784 network (78,192 parameters): two
    ReLU layers encode, one sigmoid layer reconstructs.

    Args:
        input_dim: length of the flat input vector (784 for 28x28 images).
        hidden: widths of the hidden layers; the last is the code size.
        activation: hidden activation.
        output_activation: ``"sigmoid"`` for data in [0, 1], ``"tanh"`` for [-1, 1], or None.
        normalization: ``None``/``"none"``, ``"batch"`` or ``"layer"``, after each hidden layer.
        kernel_initializer: a Keras initializer name, ``"dcgan"``, ``"he"`` or ``"orthogonal"``.
        seed: seed of the initializers.
        name: the model's name.

    Returns:
        A functional ``keras.Model``.

    Example:
        >>> ae = dense_autoencoder()
        >>> ae.count_params()
        78192
    """
    input_dim = check_int("input_dim", input_dim, minimum=1)
    hidden = check_int_tuple("hidden", hidden)
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(activation)
    _blocks.check_activation(output_activation, "output_activation")
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    x = inputs = keras.Input(shape=(input_dim,), name="x")
    for i, units in enumerate(hidden):
        x = _blocks.apply(_blocks.dense(units, norm, init.next(), activation, name=f"dense_{i}"), x)
    out = keras.layers.Dense(input_dim, activation=output_activation, kernel_initializer=init.next(),
                             name="reconstruction")(x)
    return FunctionalModel(inputs, out, name=name)  # fast fit defaults (issue 12)


@_blocks.records_arguments
def dense_generator(latent_dim=100, hidden=(64, 32), output_dim=784, activation="relu",
                    output_activation="sigmoid", normalization=None,
                    kernel_initializer="glorot_uniform", num_classes=None, seed=None,
                    name="dense_generator"):
    """A dense generator: ``latent_dim`` -> ``hidden`` -> ``output_dim`` (100-64-32-784).

    Args:
        latent_dim: size of the noise vector.
        hidden: hidden widths.
        output_dim: an int (flat output) or an image shape such as ``(28, 28, 1)``.
        activation: hidden activation.
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"tanh"`` (data in [-1, 1]).
        normalization: ``None``, ``"batch"`` or ``"layer"``.
        kernel_initializer: initializer name (``"dcgan"`` = normal(0, 0.02)).
        num_classes: make it conditional: inputs become ``[z, label]``.
        seed: initializer seed.
        name: the model's name.

    Example:
        >>> g = dense_generator(latent_dim=100)
        >>> g.output_shape
        (None, 784)
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    hidden = check_int_tuple("hidden", hidden)
    out_shape = _shape("output_dim", output_dim)
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(activation)
    _blocks.check_activation(output_activation, "output_activation")
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, x = [z], z
    if num_classes is not None:
        label, emb = label_input(num_classes, min(latent_dim, 50))
        inputs.append(label)
        x = keras.layers.Concatenate()([z, emb])
    for i, units in enumerate(hidden):
        x = _blocks.apply(_blocks.dense(units, norm, init.next(), activation, name=f"dense_{i}"), x)
    x = _blocks.dense_to_shape(x, out_shape, output_activation, init.next(), "output")
    return keras.Model(inputs if len(inputs) > 1 else z, x, name=name)


@_blocks.records_arguments
def dense_discriminator(input_dim=784, hidden=(32, 64), activation="leaky_relu",
                        output_activation=None, normalization=None,
                        kernel_initializer="glorot_uniform", dropout=0.0, num_classes=None,
                        seed=None, name="dense_discriminator", minibatch_std=False):
    """A dense discriminator: ``input_dim`` -> ``hidden`` -> 1 (784-32-64-1), logits by default.

    Args:
        input_dim: an int (flat input) or an image shape (flattened first).
        hidden: hidden widths.
        activation: hidden activation (LeakyReLU(0.2) for ``"leaky_relu"``).
        output_activation: ``None`` for logits (what ``tfgenopt.losses`` expect) or
            ``"sigmoid"`` for probabilities.
        normalization: ``None``, ``"batch"``, ``"layer"`` or ``"spectral"``.
        kernel_initializer: initializer name.
        dropout: dropout rate after each hidden layer.
        num_classes: make it conditional: inputs become ``[x, label]``.
        seed: initializer seed.
        name: the model's name.
        minibatch_std: insert a ``tfgenopt.layers.MinibatchStdDev`` before the last hidden
            ``Dense`` (one extra input feature to it): ``False`` (default) / ``None`` off,
            ``True`` for groups of 4, or an int group size >= 2.

    Example:
        >>> d = dense_discriminator()
        >>> d.output_shape
        (None, 1)
        >>> dense_discriminator(minibatch_std=True).count_params() - d.count_params()  # 64
        64
    """
    in_shape = _shape("input_dim", input_dim)
    hidden = check_int_tuple("hidden", hidden)
    norm = _blocks.check_normalization(normalization, allow_spectral=True)
    _blocks.check_activation(activation)
    _blocks.check_activation(output_activation, "output_activation")
    dropout = check_float("dropout", dropout, 0.0, 1.0, max_inclusive=False)
    group_size = _blocks.check_minibatch_std(minibatch_std)
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    x_in = keras.Input(shape=in_shape, name="x")
    inputs = [x_in]
    x = keras.layers.Flatten()(x_in) if len(in_shape) > 1 else x_in
    if num_classes is not None:
        label, emb = label_input(num_classes, 50)
        inputs.append(label)
        x = keras.layers.Concatenate()([x, emb])
    for i, units in enumerate(hidden):
        if i == len(hidden) - 1:
            x = _blocks.minibatch_std(x, group_size)
        x = _blocks.apply(_blocks.dense(units, norm, init.next(), activation, name=f"dense_{i}", first=i == 0), x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=seed)(x)
    out_layer = keras.layers.Dense(1, activation=output_activation, kernel_initializer=init.next(),
                                   name="logit")
    if norm == "spectral":
        out_layer = keras.layers.SpectralNormalization(out_layer)
    out = out_layer(x)
    return keras.Model(inputs if len(inputs) > 1 else x_in, out, name=name)

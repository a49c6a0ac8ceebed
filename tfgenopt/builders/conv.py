"""Convolutional networks: DCGAN generator/discriminator, conv autoencoder, VAE encoder/decoder."""

from __future__ import annotations

import keras

from tfgenopt._validation import check_float, check_int, check_int_tuple
from tfgenopt.builders import _blocks
from tfgenopt.builders.dense import _shape, label_input
from tfgenopt.layers import Pack
from tfgenopt.models._input import FunctionalModel

__all__ = [
    "dcgan_generator",
    "dcgan_discriminator",
    "conv_autoencoder",
    "vae_encoder",
    "vae_decoder",
    "SUPPORTED_IMAGE_SIZES",
]

SUPPORTED_IMAGE_SIZES = (8, 16, 28, 32, 64)


def _image_shape(image_shape):
    shape = check_int_tuple("image_shape", image_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] not in SUPPORTED_IMAGE_SIZES \
            or shape[2] not in (1, 3):
        raise ValueError(
            "`image_shape` must be (size, size, channels) with size in "
            f"{SUPPORTED_IMAGE_SIZES} and 1 or 3 channels; received {image_shape!r}."
        )
    return shape


def _stages(size):
    """Spatial size the stack starts from and how many stride-2 stages reach ``size``."""
    start, stages = size, 0
    while start % 2 == 0 and start > 4:
        start //= 2
        stages += 1
    return start, stages


@_blocks.records_arguments
def dcgan_generator(latent_dim=100, image_shape=(28, 28, 1), base_filters=64,
                    normalization="batch", kernel_initializer="dcgan", output_activation="tanh",
                    num_classes=None, seed=None, name="dcgan_generator"):
    """A DCGAN generator: Dense -> reshape -> stride-2 transposed convolutions -> image.

    Sizes 8, 16, 28, 32 and 64 start from a 4x4 (7x7 for 28) map and double it per stage,
    halving the filters each time (``base_filters * 2**stages`` first).

    Args:
        latent_dim: noise size.
        image_shape: ``(size, size, channels)`` of the images.
        base_filters: filters of the last stage.
        normalization: ``"batch"`` (DCGAN), ``"layer"`` or ``None``.
        kernel_initializer: ``"dcgan"`` = normal(0, 0.02), or any initializer name.
        output_activation: ``"tanh"`` for data in [-1, 1], ``"sigmoid"`` for [0, 1].
        num_classes: conditional generator taking ``[z, label]``.
        seed: initializer seed.
        name: the model's name.

    Example:
        >>> g = dcgan_generator(latent_dim=64, image_shape=(28, 28, 1))
        >>> g.output_shape
        (None, 28, 28, 1)
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    size, _, channels = _image_shape(image_shape)
    base_filters = check_int("base_filters", base_filters, minimum=1)
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(output_activation, "output_activation")
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    start, stages = _stages(size)
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, x = [z], z
    if num_classes is not None:
        label, emb = label_input(num_classes, min(latent_dim, 50))
        inputs.append(label)
        x = keras.layers.Concatenate()([z, emb])
    filters = base_filters * 2 ** stages
    x = _blocks.apply(_blocks.dense(start * start * filters, norm, init.next(), "relu", name="project"), x)
    x = keras.layers.Reshape((start, start, filters))(x)
    for i in range(stages):
        filters //= 2
        x = _blocks.apply(_blocks.conv(max(filters, 1), 4, 2, norm, init.next(), "relu", transpose=True,
                           name=f"up_{i}"), x)
    out = keras.layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                              kernel_initializer=init.next(), name="image")(x)
    return keras.Model(inputs if len(inputs) > 1 else z, out, name=name)


@_blocks.records_arguments
def dcgan_discriminator(image_shape=(28, 28, 1), base_filters=64, normalization=None,
                        kernel_initializer="dcgan", dropout=0.0, output_activation=None,
                        num_classes=None, seed=None, name="dcgan_discriminator",
                        minibatch_std=False, pack=1):
    """A DCGAN discriminator: stride-2 convolutions with LeakyReLU(0.2) -> one logit.

    Args:
        image_shape: ``(size, size, channels)``.
        base_filters: filters of the first stage (doubled per stage).
        normalization: ``None``, ``"batch"`` (DCGAN; not with gradient penalties), ``"layer"``
            or ``"spectral"``. The first layer is never normalized.
        kernel_initializer: initializer name.
        dropout: dropout after each stage.
        output_activation: ``None`` (logits) or ``"sigmoid"``.
        num_classes: conditional discriminator taking ``[x, label]`` (the label is embedded
            as an extra image channel).
        seed: initializer seed.
        name: the model's name.
        minibatch_std: insert a ``tfgenopt.layers.MinibatchStdDev`` after the last
            convolution stage, before the flatten and the dense head (one extra channel):
            ``False`` (default) / ``None`` off, ``True`` for groups of 4, or an int >= 2.
        pack: PacGAN packing: each sample is judged stacked with the next ``pack - 1`` of
            its batch (a ``tfgenopt.layers.Pack`` layer at the input, after the label
            channel; one logit per sample still). 1 (default) = off.

    Example:
        >>> d = dcgan_discriminator(image_shape=(28, 28, 1))
        >>> d.output_shape
        (None, 1)
        >>> dcgan_discriminator(minibatch_std=4).count_params() - d.count_params()  # 7 x 7
        49
    """
    size, _, channels = _image_shape(image_shape)
    base_filters = check_int("base_filters", base_filters, minimum=1)
    norm = _blocks.check_normalization(normalization, allow_spectral=True)
    _blocks.check_activation(output_activation, "output_activation")
    dropout = check_float("dropout", dropout, 0.0, 1.0, max_inclusive=False)
    group_size = _blocks.check_minibatch_std(minibatch_std)
    pack = check_int("pack", pack, minimum=1)
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    _, stages = _stages(size)
    x_in = keras.Input(shape=(size, size, channels), name="x")
    inputs, x = [x_in], x_in
    if num_classes is not None:
        label, emb = label_input(num_classes, size * size)
        inputs.append(label)
        x = keras.layers.Concatenate()([x_in, keras.layers.Reshape((size, size, 1))(emb)])
    if pack > 1:
        x = Pack(pack, name="pack")(x)
    filters = base_filters
    for i in range(stages):
        x = _blocks.apply(_blocks.conv(filters, 4, 2, norm, init.next(), "leaky_relu", name=f"down_{i}",
                           first=i == 0), x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=seed)(x)
        filters *= 2
    x = _blocks.minibatch_std(x, group_size)
    x = keras.layers.Flatten()(x)
    out_layer = keras.layers.Dense(1, activation=output_activation, kernel_initializer=init.next(),
                                   name="logit")
    if norm == "spectral":
        out_layer = keras.layers.SpectralNormalization(out_layer)
    return keras.Model(inputs if len(inputs) > 1 else x_in, out_layer(x), name=name)


@_blocks.records_arguments
def conv_autoencoder(image_shape=(28, 28, 1), filters=(32, 64), activation="relu",
                     output_activation="sigmoid", normalization=None,
                     kernel_initializer="glorot_uniform", seed=None, name="conv_autoencoder"):
    """A convolutional autoencoder: stride-2 convolutions down, transposed convolutions up.

    Example:
        >>> conv_autoencoder((28, 28, 1)).output_shape
        (None, 28, 28, 1)
    """
    size, _, channels = _image_shape(image_shape)
    filters = check_int_tuple("filters", filters)
    if size % 2 ** len(filters):
        raise ValueError(
            f"`filters` has {len(filters)} stride-2 stages, which does not divide image size "
            f"{size}; use at most {_stages(size)[1]} stages."
        )
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(activation)
    _blocks.check_activation(output_activation, "output_activation")
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    x = inputs = keras.Input(shape=(size, size, channels), name="x")
    for i, f in enumerate(filters):
        x = _blocks.apply(_blocks.conv(f, 3, 2, norm, init.next(), activation, name=f"down_{i}"), x)
    for i, f in enumerate(reversed(filters)):
        x = _blocks.apply(_blocks.conv(f, 3, 2, norm, init.next(), activation, transpose=True, name=f"up_{i}"), x)
    out = keras.layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                              kernel_initializer=init.next(), name="reconstruction")(x)
    return FunctionalModel(inputs, out, name=name)  # fast fit defaults (issue 12)


@_blocks.records_arguments
def vae_encoder(input_shape=784, latent_dim=2, hidden=(64, 32), filters=(32, 64),
                activation="relu", normalization=None, kernel_initializer="glorot_uniform",
                num_classes=None, seed=None, name="vae_encoder"):
    """A VAE encoder returning ``[z_mean, z_log_var]``: dense for vectors, conv for images.

    Args:
        input_shape: an int (flat vectors, dense encoder) or ``(size, size, channels)``
            (stride-2 convolutions with ``filters``, then the dense ``hidden`` layers).
        latent_dim: size of the latent code.
        hidden: dense widths before the two heads.
        filters: convolution filters (images only).
        activation, normalization, kernel_initializer, seed, name: as in the other builders.
        num_classes: conditional encoder taking ``[x, label]``.

    Example:
        >>> enc = vae_encoder(784, latent_dim=2)
        >>> [o.shape for o in enc.outputs]
        [(None, 2), (None, 2)]
    """
    shape = _shape("input_shape", input_shape)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    hidden = check_int_tuple("hidden", hidden, allow_empty=True)
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(activation)
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    x_in = keras.Input(shape=shape, name="x")
    inputs, x = [x_in], x_in
    if len(shape) == 3:
        _image_shape(shape)
        for i, f in enumerate(check_int_tuple("filters", filters)):
            x = _blocks.apply(_blocks.conv(f, 3, 2, norm, init.next(), activation, name=f"down_{i}"), x)
    if len(shape) > 1:
        x = keras.layers.Flatten()(x)
    if num_classes is not None:
        label, emb = label_input(num_classes, 16)
        inputs.append(label)
        x = keras.layers.Concatenate()([x, emb])
    for i, units in enumerate(hidden):
        x = _blocks.apply(_blocks.dense(units, norm, init.next(), activation, name=f"dense_{i}"), x)
    z_mean = keras.layers.Dense(latent_dim, kernel_initializer=init.next(), name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, kernel_initializer="zeros", name="z_log_var")(x)
    return keras.Model(inputs if len(inputs) > 1 else x_in, [z_mean, z_log_var], name=name)


@_blocks.records_arguments
def vae_decoder(latent_dim=2, output_shape=784, hidden=(32, 64), filters=(64, 32),
                activation="relu", output_activation="sigmoid", normalization=None,
                kernel_initializer="glorot_uniform", num_classes=None, seed=None,
                name="vae_decoder"):
    """A VAE decoder from ``latent_dim`` to ``output_shape`` (dense, or transposed conv for images).

    Example:
        >>> vae_decoder(2, (28, 28, 1)).output_shape
        (None, 28, 28, 1)
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    shape = _shape("output_shape", output_shape)
    hidden = check_int_tuple("hidden", hidden, allow_empty=True)
    norm = _blocks.check_normalization(normalization)
    _blocks.check_activation(activation)
    _blocks.check_activation(output_activation, "output_activation")
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, x = [z], z
    if num_classes is not None:
        label, emb = label_input(num_classes, 16)
        inputs.append(label)
        x = keras.layers.Concatenate()([z, emb])
    for i, units in enumerate(hidden):
        x = _blocks.apply(_blocks.dense(units, norm, init.next(), activation, name=f"dense_{i}"), x)
    if len(shape) == 3:
        size, _, channels = _image_shape(shape)
        filters = check_int_tuple("filters", filters)
        start = size // 2 ** len(filters)
        if start * 2 ** len(filters) != size:
            raise ValueError(
                f"`filters` has {len(filters)} stride-2 stages, which does not divide image "
                f"size {size}."
            )
        x = _blocks.apply(_blocks.dense(start * start * filters[0], norm, init.next(), activation, name="project"), x)
        x = keras.layers.Reshape((start, start, filters[0]))(x)
        for i, f in enumerate(filters):
            x = _blocks.apply(_blocks.conv(f, 3, 2, norm, init.next(), activation, transpose=True, name=f"up_{i}"), x)
        out = keras.layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                                  kernel_initializer=init.next(), name="reconstruction")(x)
    else:
        out = _blocks.dense_to_shape(x, shape, output_activation, init.next(), "reconstruction")
    return keras.Model(inputs if len(inputs) > 1 else z, out, name=name)

"""A residual U-Net for diffusion: ``[noisy_images, noise_level]`` (plus labels) -> one image.

The keras.io DDIM U-Net (residual blocks of two 3x3 convolutions with swish, widths
32/64/96/128, depth 2, average pooling down, bilinear upsampling up, skip concatenations) with
the changes diffusion models since DDPM use: the sinusoidal embedding of the noise level goes
through a small MLP and is added to every residual block (keras.io feeds it only at the input),
optional self-attention at chosen resolutions, a zero-initialised output layer (training starts
from the prediction 0), group normalization by default (keras.io's scale-free BatchNorm is
``normalization="batch"``), and an optional class label whose embedding is added to the noise
embedding; label ``num_classes`` means "no label" (classifier-free guidance).
"""

from __future__ import annotations

import keras

from tfgenopt._validation import check_float, check_int, check_int_tuple
from tfgenopt.builders import _blocks
from tfgenopt.layers.embedding import SinusoidalEmbedding

__all__ = ["unet", "UNET_NORMALIZATIONS"]

UNET_NORMALIZATIONS = ("group", "batch", None)


def _norm(kind, width, name):
    if kind == "group":
        groups = next(g for g in (8, 4, 2, 1) if width % g == 0)
        return keras.layers.GroupNormalization(groups, name=name)
    if kind == "batch":
        return keras.layers.BatchNormalization(center=False, scale=False, name=name)
    return keras.layers.Identity(name=name)


def _residual(x, emb, width, norm, init, name):
    skip = x if x.shape[-1] == width else keras.layers.Conv2D(
        width, 1, kernel_initializer=init.next(), name=f"{name}_skip")(x)
    x = _norm(norm, x.shape[-1], f"{name}_norm")(x)
    x = keras.layers.Conv2D(width, 3, padding="same", activation="swish",
                            kernel_initializer=init.next(), name=f"{name}_conv1")(x)
    shift = keras.layers.Dense(width, kernel_initializer=init.next(), name=f"{name}_emb")(emb)
    x = keras.layers.Add(name=f"{name}_add_emb")([x, keras.layers.Reshape((1, 1, width))(shift)])
    x = keras.layers.Conv2D(width, 3, padding="same", kernel_initializer=init.next(),
                            name=f"{name}_conv2")(x)
    return keras.layers.Add(name=f"{name}_out")([x, skip])


def _attention(x, norm, name):
    size, width = x.shape[1] * x.shape[2], x.shape[-1]
    h = _norm(norm, width, f"{name}_norm")(x)
    h = keras.layers.Reshape((size, width))(h)
    h = keras.layers.MultiHeadAttention(max(1, width // 32), min(width, 32), name=name)(h, h)
    return keras.layers.Add()([x, keras.layers.Reshape(x.shape[1:])(h)])


@_blocks.records_arguments
def unet(image_shape=(32, 32, 1), widths=(32, 64, 96, 128), depth=2, attention=(),
         num_classes=None, normalization="group", embedding_dim=32, embedding_max_frequency=1000.0,
         kernel_initializer="glorot_uniform", seed=None, name="unet"):
    """A residual U-Net denoiser taking ``[noisy_images, noise_level]`` (plus ``labels``).

    Args:
        image_shape: ``(height, width, channels)``; each side divisible by
            ``2 ** (len(widths) - 1)`` (8 with the default widths), 1 or 3 (or 4) channels.
        widths: filters per resolution, from the input resolution down.
        depth: residual blocks per resolution (each way).
        attention: the resolutions (side lengths, e.g. ``(8,)``) that get self-attention.
        num_classes: a conditional U-Net with an integer ``labels`` input in
            ``[0, num_classes]``; ``num_classes`` itself is the "no label" of guidance.
        normalization: ``"group"``, ``"batch"`` (keras.io: no scale or center) or None.
        embedding_dim: size of the sinusoidal noise embedding (keras.io: 32).
        embedding_max_frequency: its highest frequency (keras.io: 1000).
        kernel_initializer: initializer of every kernel but the output's (zeros).
        seed: initializer seed.
        name: the model's name.

    Returns:
        A functional ``keras.Model``; inputs ``noisy_images (H, W, C)``, ``noise_level (1,)``
        (and ``labels ()``), output ``(H, W, C)``.

    Example:
        >>> net = unet((16, 16, 1), widths=(8, 16), depth=1)
        >>> [tuple(t.shape) for t in net.inputs], net.output_shape
        ([(None, 16, 16, 1), (None, 1)], (None, 16, 16, 1))
    """
    shape = check_int_tuple("image_shape", image_shape)
    widths = check_int_tuple("widths", widths)
    depth = check_int("depth", depth, minimum=1)
    attention = check_int_tuple("attention", attention, allow_empty=True)
    embedding_dim = check_int("embedding_dim", embedding_dim, minimum=2)
    check_float("embedding_max_frequency", embedding_max_frequency, 1.0)
    if normalization not in UNET_NORMALIZATIONS:
        raise ValueError(f"`normalization` must be one of {list(UNET_NORMALIZATIONS)}; received "
                         f"{normalization!r}.")
    factor = 2 ** (len(widths) - 1)
    if len(shape) != 3 or shape[2] not in (1, 3, 4) or shape[0] % factor or shape[1] % factor:
        raise ValueError(
            f"`image_shape` must be (height, width, channels) with 1, 3 or 4 channels and sides "
            f"divisible by 2 ** (len(widths) - 1) = {factor} for widths={widths}; received "
            f"{image_shape!r} (use fewer widths for this size).")
    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=2)
    init = _blocks.LayerInitializers(kernel_initializer, seed, name)
    images = keras.Input(shape, name="noisy_images")
    level = keras.Input((1,), name="noise_level")
    inputs = [images, level]
    emb_width = 4 * widths[0]
    emb = SinusoidalEmbedding(embedding_dim, 1.0, embedding_max_frequency, name="embedding")(level)
    emb = keras.layers.Dense(emb_width, activation="swish", kernel_initializer=init.next(),
                             name="embedding_mlp")(emb)
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        inputs.append(labels)
        label_emb = keras.layers.Embedding(num_classes + 1, emb_width, name="label_embedding")(labels)
        emb = keras.layers.Add()([emb, label_emb])
    x = keras.layers.Conv2D(widths[0], 1, kernel_initializer=init.next(), name="stem")(images)
    skips = []
    for i, width in enumerate(widths[:-1]):
        for j in range(depth):
            x = _residual(x, emb, width, normalization, init, f"down{i}_{j}")
            if x.shape[1] in attention:
                x = _attention(x, normalization, f"down{i}_{j}_attention")
            skips.append(x)
        x = keras.layers.AveragePooling2D(2, name=f"down{i}_pool")(x)
    for j in range(depth):
        x = _residual(x, emb, widths[-1], normalization, init, f"mid_{j}")
        if x.shape[1] in attention:
            x = _attention(x, normalization, f"mid_{j}_attention")
    for i, width in reversed(list(enumerate(widths[:-1]))):
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i}_upsample")(x)
        for j in range(depth):
            x = keras.layers.Concatenate(name=f"up{i}_{j}_concat")([x, skips.pop()])
            x = _residual(x, emb, width, normalization, init, f"up{i}_{j}")
            if x.shape[1] in attention:
                x = _attention(x, normalization, f"up{i}_{j}_attention")
    out = keras.layers.Conv2D(shape[2], 1, kernel_initializer="zeros", name="output")(x)
    return keras.Model(inputs, out, name=name)

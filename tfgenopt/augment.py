"""Differentiable augmentation of discriminator inputs: DiffAugment and adaptive ADA.

A discriminator trained on little data memorises it, and its feedback to the generator stops
meaning anything. DiffAugment (Zhao et al., 2020) shows the discriminator only augmented
images, real and fake alike, through transforms that are differentiable in the pixels, so the
generator's gradients flow through them. ADA (Karras et al., 2020) applies each transform with
a probability ``p`` that it adjusts during training from the sign of ``D(real)``.

The policies, for images ``(N, H, W, C)`` (flat vectors are reshaped with ``image_shape``):

* ``"color"``: brightness ``x + (u - 0.5) * (high - low) / 2`` (``+U(-0.5, 0.5)`` on [-1, 1]
  data, ``+U(-0.25, 0.25)`` on [0, 1]), then saturation ``(x - mean_c) * 2u + mean_c`` (a
  no-op on one channel), then contrast ``(x - mean) * (u + 0.5) + mean``; ``u ~ U(0, 1)``
  per sample. Values are not clipped (clipping would stop the gradients).
* ``"translation"``: an integer shift of up to ``round(size / 8)`` pixels along each axis,
  per sample, padding with zeros.
* ``"cutout"``: a zeroed square of half the image side at a random centre, per sample.

Every sample draws its own transform, so one call on the joined ``[real; fake]`` batch (or
two calls with the same policy) applies the same distribution of transforms to both.
Randomness comes from ``seed``: an int gives the same draw on every call (tests), a
``keras.random.SeedGenerator`` a fresh draw on every call (training; also inside
``tf.function``).
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from tfgenopt._validation import check_float, check_int, check_int_tuple, check_value_range
from tfgenopt.distribute import ReplicaSeedGenerator

__all__ = ["POLICIES", "parse_policy", "diff_augment", "AdaptiveAugment"]

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy):
    """Return the tuple of transform names in ``policy`` (a comma-separated string or a list).

    Args:
        policy: e.g. ``"color,translation,cutout"``, ``["color"]``, or ``""`` / None (none).

    Returns:
        A tuple of names from :data:`POLICIES`, in the given order, without duplicates.

    Example:
        >>> parse_policy("color, cutout")
        ('color', 'cutout')
    """
    if policy is None:
        return ()
    if isinstance(policy, str):
        names = [part.strip() for part in policy.split(",")]
    elif isinstance(policy, (list, tuple)) and all(isinstance(p, str) for p in policy):
        names = [part.strip() for part in policy]
    else:
        raise TypeError(f"`policy` must be a comma-separated string or a list of names from "
                        f"{list(POLICIES)}; received {policy!r}.")
    names = [name for name in names if name]
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"`policy` has unknown augmentation(s) {unknown}; allowed names are "
                         f"{list(POLICIES)}; received {policy!r}.")
    return tuple(dict.fromkeys(names))


def _check_p(p):
    """A Python number must lie in [0, 1]; a tensor / variable (ADA's ``p``) passes through."""
    if isinstance(p, numbers.Real) or isinstance(p, bool):
        return check_float("p", p, 0.0, 1.0)
    return p


class _Seeds:
    """Hands out one seed per random draw: ``seed + k`` for an int, the generator itself else."""

    def __init__(self, seed):
        if seed is not None and not isinstance(seed, keras.random.SeedGenerator):
            seed = check_int("seed", seed)
        self.seed, self.count = seed, 0

    def next(self):
        if isinstance(self.seed, int):
            self.count += 1
            return self.seed + 7919 * self.count
        return self.seed


def _uniform(n, seeds, shape=()):
    return keras.random.uniform((n,) + shape, seed=seeds.next())


def _apply_mask(n, seeds, p):
    """Per-sample booleans: True with probability ``p`` (all True when ``p`` is the number 1)."""
    if isinstance(p, float) and p >= 1.0:
        return None
    return _uniform(n, seeds) < ops.cast(p, "float32")


def _gate(value, mask, identity):
    """``value`` where the sample is augmented, ``identity`` (no-op parameter) elsewhere."""
    return value if mask is None else ops.where(mask, value, identity)


def _color(x, seeds, p, value_range):
    n = ops.shape(x)[0]
    lo, hi = value_range
    shift = (_uniform(n, seeds) - 0.5) * (hi - lo) / 2.0
    x = x + ops.reshape(_gate(shift, _apply_mask(n, seeds, p), 0.0), (-1, 1, 1, 1))
    sat = _gate(_uniform(n, seeds) * 2.0, _apply_mask(n, seeds, p), 1.0)
    mean_c = ops.mean(x, axis=3, keepdims=True)
    x = (x - mean_c) * ops.reshape(sat, (-1, 1, 1, 1)) + mean_c
    contrast = _gate(_uniform(n, seeds) + 0.5, _apply_mask(n, seeds, p), 1.0)
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * ops.reshape(contrast, (-1, 1, 1, 1)) + mean


def _randint(n, low, high, seeds):
    """Integers uniform in ``[low, high]`` (inclusive), one per sample."""
    u = _uniform(n, seeds)
    return ops.cast(ops.floor(u * (high - low + 1)), "int32") + low


def _shift_axis(x, shift, pad, axis):
    """Shift every sample along ``axis`` (1 rows, 2 columns) by ``shift[i]``, zero-padded."""
    import tensorflow as tf

    size = x.shape[axis]
    paddings = [[0, 0]] * 4
    paddings[axis] = [pad, pad]
    padded = tf.pad(x, paddings)
    index = ops.arange(size, dtype="int32")[None, :] + pad - shift[:, None]  # (N, size)
    return tf.gather(padded, index, axis=axis, batch_dims=1)


def _translation(x, seeds, p, value_range, ratio=0.125):
    n = ops.shape(x)[0]
    for axis in (1, 2):
        pad = int(x.shape[axis] * ratio + 0.5)
        if pad == 0:
            continue
        shift = _randint(n, -pad, pad, seeds)
        shift = _gate(shift, _apply_mask(n, seeds, p), 0)
        x = _shift_axis(x, shift, pad, axis)
    return x


def _cutout(x, seeds, p, value_range, ratio=0.5):
    n = ops.shape(x)[0]
    height, width = x.shape[1], x.shape[2]
    inside = []
    for size in (height, width):
        cut = int(size * ratio + 0.5)
        start = _randint(n, 0, size - (cut % 2), seeds) - cut // 2  # centre anywhere on the axis
        grid = ops.arange(size, dtype="int32")[None, :]
        inside.append((grid >= start[:, None]) & (grid < start[:, None] + cut))  # (N, size)
    hole = inside[0][:, :, None] & inside[1][:, None, :]  # (N, H, W)
    mask = _apply_mask(n, seeds, p)
    if mask is not None:
        hole = hole & mask[:, None, None]
    return x * ops.cast(ops.logical_not(hole), x.dtype)[..., None]


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x, policy="color,translation,cutout", image_shape=None, value_range=(0.0, 1.0),
                 seed=None, p=1.0):
    """Augment a batch of images (or flat vectors) with differentiable DiffAugment transforms.

    Args:
        x: images ``(N, H, W, C)`` or flat vectors ``(N, H*W*C)`` (then ``image_shape`` is
            required); a NumPy array or tensor.
        policy: transforms to apply in order, from :data:`POLICIES`, as a comma-separated
            string or a list; ``""`` applies none.
        image_shape: ``(H, W, C)`` of flat inputs; they are reshaped, augmented and flattened
            back. Ignored for image inputs.
        value_range: the data's pixel range; scales the brightness shift.
        seed: None, an int (the same draw every call) or a ``keras.random.SeedGenerator``
            (a new draw every call).
        p: probability, per sample and per transform, of applying it: a number in ``[0, 1]``
            or a scalar tensor / variable (ADA's ``p``); 1 always augments.

    Returns:
        A tensor of the same shape and dtype as ``x``.

    Example:
        >>> import numpy as np
        >>> x = np.ones((2, 8, 8, 1), "float32")
        >>> y = diff_augment(x, "cutout", seed=0)   # a hole of up to 4x4 pixels per image
        >>> 0.75 <= float(keras.ops.mean(y)) < 1.0, float(keras.ops.min(y))
        (True, 0.0)
    """
    names = parse_policy(policy)
    p = _check_p(p)
    value_range = check_value_range("value_range", value_range)
    seeds = _Seeds(seed)
    x = ops.convert_to_tensor(x)
    dtype = x.dtype
    if len(x.shape) == 2:
        if image_shape is None:
            raise ValueError("`image_shape` is needed to augment flat inputs of shape "
                             f"{tuple(x.shape)}; pass (height, width, channels), e.g. (28, 28, 1).")
        shape = check_int_tuple("image_shape", image_shape)
        if len(shape) != 3 or shape[0] * shape[1] * shape[2] != x.shape[1]:
            raise ValueError(f"`image_shape` must be (height, width, channels) with "
                             f"{x.shape[1]} values in all; received {image_shape!r}.")
        images = ops.reshape(x, (-1,) + shape)
    elif len(x.shape) == 4:
        images = x
    else:
        raise ValueError("`x` must be images (N, H, W, C) or flat vectors (N, D); received "
                         f"shape {tuple(x.shape)}.")
    images = ops.cast(images, "float32")
    for name in names:
        images = _OPS[name](images, seeds, p, value_range)
    return ops.cast(ops.reshape(images, ops.shape(x)), dtype)


@keras.saving.register_keras_serializable(package="tfgenopt")
class AdaptiveAugment(keras.layers.Layer):
    """Adaptive discriminator augmentation (ADA): DiffAugment with a self-tuning probability.

    ``p`` (a non-trainable scalar variable, starting at ``initial_p``) is the probability of
    each transform. Call :meth:`update` with the discriminator's logits on real images every
    training step: over every ``interval`` calls it accumulates ``r_t = mean(sign(D(real)))``,
    then moves ``p`` by ``sign(r_t - target) * images / speed_images`` (``images`` = real
    samples seen in the interval), clipped to ``[0, 1]``. An overfitting discriminator
    (``D(real) > 0`` everywhere, ``r_t = 1``) raises ``p``; one that cannot tell real from fake
    (``r_t ~ 0``) lowers it. ``p`` can go from 0 to 1 in about ``speed_images`` images.

    Args:
        policy: DiffAugment transforms (see :func:`diff_augment`).
        image_shape: ``(H, W, C)`` for flat inputs.
        value_range: the data's pixel range.
        target: the wanted ``r_t``, in (0, 1); 0.6 in StyleGAN2-ADA.
        speed_images: images for ``p`` to move by 1 (StyleGAN2-ADA: 500,000; the default
            20,000 suits small data sets and short runs).
        interval: training steps between adjustments.
        initial_p: the starting probability, in [0, 1].
        seed: seed of the layer's ``SeedGenerator``.

    Returns:
        A Keras layer: ``layer(x, training=True)`` (or ``layer.augment(x)``) augments, with
        ``training=False`` it returns ``x`` unchanged.

    Example:
        >>> import numpy as np
        >>> ada = AdaptiveAugment(image_shape=(8, 8, 1), interval=1, speed_images=100)
        >>> _ = ada.update(np.full((10, 1), 3.0))    # r_t = 1 > 0.6: p += 10 / 100
        >>> round(float(ada.p.numpy()), 3)
        0.1
    """

    def __init__(self, policy="color,translation,cutout", image_shape=None,
                 value_range=(0.0, 1.0), target=0.6, speed_images=20_000, interval=4,
                 initial_p=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.policy = ",".join(parse_policy(policy))
        self.image_shape = None if image_shape is None else check_int_tuple("image_shape",
                                                                            image_shape)
        self.value_range = check_value_range("value_range", value_range)
        self.target = check_float("target", target, 0.0, 1.0, min_inclusive=False,
                                  max_inclusive=False)
        self.speed_images = check_int("speed_images", speed_images, minimum=1)
        self.interval = check_int("interval", interval, minimum=1)
        self.initial_p = check_float("initial_p", initial_p, 0.0, 1.0)
        self.seed = None if seed is None else check_int("seed", seed)
        self.seed_generator = ReplicaSeedGenerator(seed)  # own draws per replica
        scalar = dict(shape=(), trainable=False)
        self.p = self.add_weight(name="p", initializer=keras.initializers.Constant(
            self.initial_p), **scalar)
        self.rt = self.add_weight(name="rt", initializer="zeros", **scalar)
        self._sign_sum = self.add_weight(name="sign_sum", initializer="zeros", **scalar)
        self._count = self.add_weight(name="count", initializer="zeros", **scalar)
        self._calls = self.add_weight(name="calls", initializer="zeros", dtype="int32", **scalar)
        self.built = True

    def augment(self, x):
        """Augment ``x`` with probability ``p`` per transform and sample (differentiable).

        Args:
            x: images ``(N, H, W, C)``, or flat vectors with ``image_shape`` set.

        Returns:
            A tensor shaped like ``x``.

        Example:
            >>> import numpy as np
            >>> AdaptiveAugment(image_shape=(8, 8, 1)).augment(np.zeros((2, 64))).shape
            TensorShape([2, 64])
        """
        return diff_augment(x, self.policy, self.image_shape, self.value_range,
                            seed=self.seed_generator, p=self.p)

    def call(self, inputs, training=None):
        return self.augment(inputs) if training else inputs

    def update(self, real_logits):
        """Accumulate ``sign(real_logits)``; every ``interval`` calls, adjust ``p``.

        Args:
            real_logits: the discriminator's logits on (augmented) real images.

        Returns:
            ``p`` after the update, a float32 scalar tensor (works inside ``tf.function``).

        Example:
            >>> import numpy as np
            >>> ada = AdaptiveAugment(interval=1, speed_images=40, initial_p=0.5)
            >>> round(float(ada.update(np.array([1.0, -1.0, -1.0, 1.0]))), 3)  # r_t 0 < 0.6
            0.4
        """
        logits = ops.cast(ops.convert_to_tensor(real_logits), "float32")
        self._sign_sum.assign_add(ops.sum(ops.sign(logits)))
        self._count.assign_add(ops.cast(ops.size(logits), "float32"))
        self._calls.assign_add(1)
        due = ops.equal(ops.mod(self._calls, self.interval), 0)
        rt = self._sign_sum / ops.maximum(self._count, 1.0)
        step = ops.sign(rt - self.target) * self._count / float(self.speed_images)
        self.p.assign(ops.where(due, ops.clip(self.p + step, 0.0, 1.0), self.p))
        self.rt.assign(ops.where(due, rt, self.rt))
        self._sign_sum.assign(ops.where(due, 0.0, self._sign_sum))
        self._count.assign(ops.where(due, 0.0, self._count))
        return ops.copy(self.p)  # a tensor (read after the assignment), not the variable

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(policy=self.policy, value_range=list(self.value_range),
                      image_shape=None if self.image_shape is None else list(self.image_shape),
                      target=self.target, speed_images=self.speed_images,
                      interval=self.interval, initial_p=self.initial_p, seed=self.seed)
        return config

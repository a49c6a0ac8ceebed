"""The bundled UCI digits and cached MNIST / Fashion-MNIST, as NumPy arrays.

Nothing here downloads. The digits ship inside the package (``_data/digits.npz``, CC BY 4.0,
see ``_data/LICENSE-digits.txt``); MNIST and Fashion-MNIST are read from the local Keras cache.
"""

from __future__ import annotations

import gzip
import os
from importlib import resources

import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import (
    check_choice,
    check_float,
    check_int,
    check_value_range,
)

__all__ = [
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
    "load",
    "scale",
    "keras_cache_dir",
]

DIGIT_SIZES = catalog.image_sizes("digits")
VALUE_RANGES = catalog.VALUE_RANGES


def scale(x, value_range=(0.0, 1.0), source_max=255.0):
    """Scale raw pixel counts in ``[0, source_max]`` to ``value_range`` as float32.

    Example:
        >>> scale(np.array([0, 255]), (-1, 1)).tolist()
        [-1.0, 1.0]
    """
    lo, hi = check_value_range("value_range", value_range, allowed=VALUE_RANGES)
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.bool_)):
        raise TypeError(f"`x` must hold pixel counts (numbers); received dtype {x.dtype}.")
    x = x.astype(np.float32) / np.float32(source_max)
    return (x * (hi - lo) + lo).astype(np.float32)


def _resize(images, size):
    """Bilinear resize of (n, h, w) images to (n, size, size), values clipped to the input range."""
    if images.shape[1] == size:
        return images
    import tensorflow as tf

    lo, hi = float(images.min()), float(images.max())
    out = tf.image.resize(images[..., None], (size, size), method="bilinear", antialias=True)
    return np.clip(out.numpy()[..., 0], lo, hi)


def _split(n, labels, validation_split, seed):
    """Stratified, seeded split of ``range(n)`` into train and validation indices."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        n_val = int(round(len(idx) * validation_split))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    train, val = np.concatenate(train), np.concatenate(val)
    rng.shuffle(train)
    rng.shuffle(val)
    return train, val


def _finish(images, labels, image_size, flatten, validation_split, seed, value_range,
            return_labels, source_max):
    """Shared tail of every loader: resize, scale, reshape, split and pack the result."""
    check_float("validation_split", validation_split, 0.0, 1.0, max_inclusive=False)
    check_int("seed", seed)
    images = scale(images, value_range, source_max)
    images = _resize(images, image_size)
    n = images.shape[0]
    images = images.reshape(n, -1) if flatten else images[..., None]
    labels = labels.astype(np.int32)
    if validation_split == 0.0:
        return (images, labels) if return_labels else images
    train, val = _split(n, labels, validation_split, seed)
    if return_labels:
        return (images[train], labels[train]), (images[val], labels[val])
    return images[train], images[val]


def load_digits(image_size=8, flatten=False, validation_split=0.2, seed=0,
                value_range=(0.0, 1.0), return_labels=False):
    """Load the bundled UCI handwritten digits (1,797 images, 10 classes), offline.

    The 8x8 pixel counts (0..16) are scaled to ``value_range`` and, for ``image_size`` 16, 28 or
    32, resized with antialiased bilinear interpolation (``tf.image.resize``), then clipped to
    the range. The split is stratified by class and reproducible for a given ``seed``.

    Args:
        image_size: one of 8, 16, 28, 32.
        flatten: return ``(n, image_size**2)`` vectors instead of ``(n, s, s, 1)`` images.
        validation_split: fraction held out, in ``[0, 1)``; ``0`` returns the whole set.
        seed: seed of the split.
        value_range: ``(0, 1)`` (sigmoid outputs) or ``(-1, 1)`` (tanh outputs).
        return_labels: also return the integer class labels.

    Returns:
        ``(x_train, x_val)``, or ``((x_train, y_train), (x_val, y_val))`` with labels; with
        ``validation_split=0``, ``x`` or ``(x, y)``.

    Example:
        >>> x_train, x_val = load_digits(image_size=28, flatten=True)
        >>> x_train.shape[1]
        784
    """
    check_choice("image_size", image_size, catalog.image_sizes("digits"))
    with resources.files("tfgenopt").joinpath("_data/digits.npz").open("rb") as fh:
        data = np.load(fh)
        images, labels = data["images"], data["labels"]
    return _finish(images, labels, image_size, flatten, validation_split, seed, value_range,
                   return_labels, source_max=16.0)


def keras_cache_dir():
    """The folder where ``keras.datasets`` keeps downloaded files (``$KERAS_HOME/datasets``)."""
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(base, "datasets")


def _missing(name, paths):
    listing = "\n  ".join(paths)
    return FileNotFoundError(
        f"{name} is not in the local Keras cache and tfgenopt never downloads at run time. "
        f"Put the file(s) here (for example by running keras.datasets.{name.lower()}"
        f".load_data() once on a machine with network access, then copying them):\n  {listing}"
    )


def _read_idx(path):
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _load_cached(name, arrays, image_size, flatten, validation_split, seed, value_range,
                 return_labels, split):
    check_choice("split", split, ("train", "test", "all"))
    check_choice("image_size", image_size, catalog.image_sizes(name))
    x_train, y_train, x_test, y_test = arrays()
    if split == "train":
        x, y = x_train, y_train
    elif split == "test":
        x, y = x_test, y_test
    else:
        x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
    return _finish(x, y, image_size, flatten, validation_split, seed, value_range,
                   return_labels, source_max=255.0)


def load_mnist(image_size=28, flatten=False, validation_split=0.2, seed=0,
               value_range=(0.0, 1.0), return_labels=False, split="train"):
    """Load MNIST from the local Keras cache (``~/.keras/datasets/mnist.npz``); never downloads.

    Arguments and returns are those of :func:`load_digits`; ``split`` picks the official
    ``"train"`` (60,000) or ``"test"`` (10,000) part, or ``"all"``. A missing file raises
    ``FileNotFoundError`` naming the path to put it at.

    Example:
        Not run as a doctest: it needs ``mnist.npz`` in the local Keras cache.

        >>> x_train, x_val = load_mnist(flatten=True)  # doctest: +SKIP
    """
    path = os.path.join(keras_cache_dir(), "mnist.npz")

    def arrays():
        if not os.path.exists(path):
            raise _missing("MNIST", [path])
        with np.load(path) as f:
            return f["x_train"], f["y_train"], f["x_test"], f["y_test"]

    return _load_cached("mnist", arrays, image_size, flatten, validation_split, seed,
                        value_range, return_labels, split)


FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def load_fashion_mnist(image_size=28, flatten=False, validation_split=0.2, seed=0,
                       value_range=(0.0, 1.0), return_labels=False, split="train"):
    """Load Fashion-MNIST from the local Keras cache (``~/.keras/datasets/fashion-mnist/``).

    Same arguments as :func:`load_mnist`; never downloads.

    Example:
        Not run as a doctest: it needs the Fashion-MNIST files in the local Keras cache.

        >>> x_train, x_val = load_fashion_mnist()  # doctest: +SKIP
    """
    folder = os.path.join(keras_cache_dir(), "fashion-mnist")
    paths = [os.path.join(folder, f) for f in FASHION_FILES]

    def arrays():
        if not all(os.path.exists(p) for p in paths):
            raise _missing("Fashion_MNIST", paths)
        y_tr, x_tr, y_te, x_te = (_read_idx(p) for p in paths)
        return x_tr, y_tr, x_te, y_te

    return _load_cached("fashion_mnist", arrays, image_size, flatten, validation_split, seed,
                        value_range, return_labels, split)


def load(name, **kwargs):
    """Load a dataset by name: ``"digits"``, ``"mnist"`` or ``"fashion_mnist"``.

    Example:
        >>> x_train, x_val = load("digits", image_size=8)
    """
    return globals()[catalog.dataset(name).loader](**kwargs)

"""The domain extractor: a small network trained on the user's own real images, then cached.

FID, KID and coverage mean something only on features that know the data. With labels (an image
folder's classes) the extractor is a classifier, the same small CNN as the digits classifier
(its penultimate ``features`` layer gives the vectors, its softmax the class probabilities
behind mode coverage); without labels it is the encoder of a convolutional autoencoder trained
to reconstruct the images (features only, no coverage). It is trained once per data set and
saved under ``$TFGENOPT_CACHE/extractors`` (or ``~/.cache/tfgenopt``), keyed by a SHA-256
fingerprint of the images (quantized to 8 bits), the labels and the settings; the same data
reloads it. Check a new extractor with :func:`tfgenopt.evaluation.check_extractor`.
"""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np

from tfgenopt._validation import check_array, check_int, check_value_range
from tfgenopt.data import as_dataset
from tfgenopt.evaluation.classifier import cache_dir, load_or_train
from tfgenopt.evaluation.features import FeatureExtractor, infer_value_range

__all__ = ["domain_extractor", "domain_extractor_path", "MAX_SIDE"]

_FORMAT = 1
MAX_SIDE = 64  # larger images are resized to this side for the extractor


def _prepare(images, labels, value_range):
    """Images as float32 (n, h, w, c) in [0, 1] (at most MAX_SIDE), labels as int32 or None."""
    x = check_array("images", images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must be (n, h, w[, 1 or 3]); received shape {np.shape(images)}.")
    if x.shape[0] < 4:
        raise ValueError(f"`images` needs at least 4 images to train an extractor; received "
                         f"{x.shape[0]}.")
    lo, hi = (check_value_range("value_range", value_range) if value_range is not None
              else infer_value_range(x))
    x = ((x.astype(np.float32) - lo) / (hi - lo)).clip(0.0, 1.0)
    if max(x.shape[1:3]) > MAX_SIDE:
        import tensorflow as tf

        x = np.clip(tf.image.resize(x, (MAX_SIDE, MAX_SIDE), antialias=True).numpy(), 0, 1)
    if labels is None:
        return x, None
    y = check_array("labels", labels, min_ndim=1).ravel()
    if len(y) != len(x):
        raise ValueError(f"`labels` must have one entry per image ({len(x)}); received {len(y)}.")
    if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0:
        raise ValueError("`labels` must be non-negative integer class indices.")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"`labels` hold one class only ({classes.tolist()}); a domain "
                         "classifier needs at least 2. Pass labels=None for an unlabelled "
                         "(reconstruction) extractor.")
    return x, y.astype(np.int32)


def _settings(n, epochs, width, seed):
    epochs = max(5, min(30, -(-40_000 // n))) if epochs is None else epochs
    return (check_int("epochs", epochs, minimum=1), check_int("width", width, minimum=2),
            check_int("seed", seed))


def _fingerprint(x, y, settings):
    h = hashlib.sha256()
    h.update(repr((x.shape, settings, _FORMAT)).encode())
    h.update(np.ascontiguousarray(np.rint(x * 255).astype(np.uint8)).tobytes())
    if y is not None:
        h.update(y.tobytes())
    return h.hexdigest()[:16]


def domain_extractor_path(images, labels=None, epochs=None, width=128, seed=0, value_range=None):
    """Return the cache path the domain extractor of this data would have (trained or not).

    Args:
        images, labels, epochs, width, seed, value_range: as in :func:`domain_extractor`.

    Returns:
        The ``.keras`` path; the JSON sidecar has the same name with ``.json``.

    Example:
        >>> import os
        >>> x = np.random.default_rng(0).uniform(size=(8, 8, 8, 3))
        >>> os.path.basename(domain_extractor_path(x)).startswith("domain-autoencoder-8x8x3")
        True
    """
    x, y = _prepare(images, labels, value_range)
    epochs, width, seed = _settings(len(x), epochs, width, seed)
    kind = "autoencoder" if y is None else "classifier"
    key = _fingerprint(x, y, (epochs, width, seed))
    h, w, c = x.shape[1:]
    return os.path.join(cache_dir(), "extractors", f"domain-{kind}-{h}x{w}x{c}-{key}.keras")


def _encoder_layers(x, width, seed):
    import keras

    init = keras.initializers.GlorotUniform
    for i, filters in enumerate((32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                kernel_initializer=init(seed=seed + i), name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)  # short runs
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
    return keras.layers.Flatten(name="flatten")(x)


def _classifier(shape, num_classes, width, seed):
    import keras

    inputs = keras.Input(shape, name="images")
    x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed,
                                       name="shift")(inputs)
    x = keras.layers.Dropout(0.3, seed=seed, name="dropout_0")(_encoder_layers(x, width, seed))
    features = keras.layers.Dense(width, activation="relu", name="features",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed + 2))(x)
    x = keras.layers.Dropout(0.3, seed=seed + 1, name="dropout_1")(features)
    out = keras.layers.Dense(num_classes, activation="softmax", name="probabilities",
                             kernel_initializer=keras.initializers.GlorotUniform(seed + 3))(x)
    return keras.Model(inputs, out, name="domain_classifier"), None


def _autoencoder(shape, width, seed):
    import keras

    h, w, c = shape
    inputs = keras.Input(shape, name="images")
    features = keras.layers.Dense(width, name="features",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed + 2))(
        _encoder_layers(inputs, width, seed))
    encoder = keras.Model(inputs, features, name="domain_encoder")
    hh, ww = -(-h // 4), -(-w // 4)
    x = keras.layers.Dense(hh * ww * 64, activation="relu")(features)
    x = keras.layers.Reshape((hh, ww, 64))(x)
    for filters in (64, 32):
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                         activation="relu")(x)
    x = keras.layers.Conv2D(c, 3, padding="same", activation="sigmoid")(x)
    x = keras.layers.Resizing(h, w)(x) if (4 * hh, 4 * ww) != (h, w) else x
    return encoder, keras.Model(inputs, x, name="domain_autoencoder")


def _split(n, y, seed):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(n)
    n_val = max(1, n // 10)
    if y is None:
        return idx[n_val:], idx[:n_val]
    val = np.concatenate([np.flatnonzero(y == c)[: max(1, int(round((y == c).sum() / 10)))]
                          for c in np.unique(y)])
    return np.setdiff1d(idx, val), val


def _train(x, y, epochs, width, seed, verbose):
    import keras

    keras.utils.set_random_seed(seed)
    train, val = _split(len(x), y, seed)
    batch = 64
    steps = epochs * -(-len(train) // batch)
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps)
    start = time.perf_counter()
    if y is not None:
        model, _ = _classifier(x.shape[1:], int(y.max()) + 1, width, seed)
        model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(as_dataset(x[train], y[train], batch_size=batch, seed=seed), epochs=epochs,
                  shuffle=False, verbose=verbose)  # the dataset reshuffles itself
        score = {"val_accuracy": float(model.evaluate(x[val], y[val], verbose=0)[1])}
    else:
        model, ae = _autoencoder(x.shape[1:], width, seed)
        ae.compile(keras.optimizers.Adam(lr), "mse")
        ae.fit(as_dataset(x[train], x[train], batch_size=batch, seed=seed), epochs=epochs,
               shuffle=False, verbose=verbose)
        score = {"val_mse": float(ae.evaluate(x[val], x[val], verbose=0))}
    info = {"kind": "classifier" if y is not None else "autoencoder", "epochs": epochs,
            "width": width, "seed": seed, "n_train": int(len(train)), "n_val": int(len(val)),
            "num_classes": None if y is None else int(y.max()) + 1, **score,
            "train_seconds": round(time.perf_counter() - start, 2), "format": _FORMAT}
    return model, info


def domain_extractor(images, labels=None, epochs=None, width=128, seed=0, value_range=None,
                     retrain=False, verbose=0, return_info=False):
    """Return a :class:`FeatureExtractor` trained on these real images (cached by fingerprint).

    With ``labels`` (at least 2 classes) it trains a classifier, whose features feed FID / KID
    and whose probabilities feed mode coverage; without, a reconstruction encoder (features
    only). The first call trains it (a 10% split reports ``val_accuracy`` / ``val_mse``); the
    same images, labels and settings later load it from the cache.

    Args:
        images: real images ``(n, h, w[, c])``, 1 or 3 channels, any value range.
        labels: ``(n,)`` integer classes (a folder's subfolders), or None.
        epochs: training epochs; default ``clip(ceil(40,000 / n), 5, 30)``.
        width: feature dimension.
        seed: seed of the initialisation, augmentation, split and shuffle.
        value_range: pixel range of ``images``; None infers it (``infer_value_range``).
        retrain: train again and overwrite the cached file.
        verbose: 1 shows Keras' training progress.
        return_info: also return the info dict (``val_accuracy`` or ``val_mse``, ``path``,
            ``trained``: whether this call trained it).

    Returns:
        A ``FeatureExtractor`` (inputs in [0, 1]), or ``(extractor, info)``.

    Example:
        Not run as a doctest: it trains a CNN (a few seconds for a small set).

        >>> x, y = tg.data.make_shapes(600, image_size=16)  # doctest: +SKIP
        >>> ext = domain_extractor(x, y)  # doctest: +SKIP
        >>> ext.num_classes  # doctest: +SKIP
        12
    """
    x, y = _prepare(images, labels, value_range)
    epochs, width, seed = _settings(len(x), epochs, width, seed)
    path = domain_extractor_path(x, y, epochs, width, seed, value_range=(0.0, 1.0))
    model, info = load_or_train(path, lambda: _train(x, y, epochs, width, seed, verbose), retrain)
    ext = FeatureExtractor(model, value_range=(0.0, 1.0))
    return (ext, info) if return_info else ext

"""The domain classifier: a small CNN trained on labelled digits on first use, then cached.

Its penultimate layer (named ``"features"``) gives the feature vectors behind FID, KID and the
manifold metrics; its softmax (``"probabilities"``) gives the class probabilities behind mode
coverage. It is trained once per (dataset, image size, settings) and saved as a ``.keras`` file
with a JSON sidecar (validation accuracy, training time) under ``$TFGENOPT_CACHE`` or
``~/.cache/tfgenopt``, in the ``extractors/`` folder; later calls reload it. Nothing downloads.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

import numpy as np

from tfgenopt import catalog, data
from tfgenopt._validation import check_choice, check_int
from tfgenopt.data import as_dataset

__all__ = ["domain_classifier", "cache_dir", "classifier_path", "DATASETS"]

# Bump when the architecture or the training recipe changes, so old cache files are not reused.
_FORMAT = 1
DATASETS = tuple(catalog.DATASETS)
_DEFAULTS = {  # dataset: (image_size, epochs)
    "digits": (16, 25),
    "mnist": (28, 3),
    "fashion_mnist": (28, 5),
}


def cache_dir():
    """Return the tfgenopt cache folder: ``$TFGENOPT_CACHE`` or ``~/.cache/tfgenopt``.

    Returns:
        The folder path as a string (it may not exist yet).

    Example:
        >>> isinstance(cache_dir(), str)
        True
    """
    folder = os.environ.get("TFGENOPT_CACHE")
    if not folder:
        folder = os.path.join(os.path.expanduser("~"), ".cache", "tfgenopt")
    return folder


def _settings(dataset, image_size, epochs, width, seed):
    check_choice("dataset", dataset, DATASETS)
    size_default, epochs_default = _DEFAULTS[dataset]
    image_size = size_default if image_size is None else image_size
    check_choice("image_size", image_size, catalog.image_sizes(dataset))
    epochs = check_int("epochs", epochs_default if epochs is None else epochs, minimum=1)
    width = check_int("width", width, minimum=2)
    seed = check_int("seed", seed)
    return dataset, image_size, epochs, width, seed


def classifier_path(dataset="digits", image_size=None, epochs=None, width=128, seed=0):
    """Return the cache path of the domain classifier with these settings (trained or not).

    Args:
        dataset, image_size, epochs, width, seed: as in :func:`domain_classifier`.

    Returns:
        The ``.keras`` file path; its JSON sidecar has the same name with ``.json``.

    Example:
        >>> classifier_path().endswith(".keras")
        True
    """
    dataset, image_size, epochs, width, seed = _settings(dataset, image_size, epochs, width, seed)
    name = f"classifier-{dataset}-{image_size}px-w{width}-e{epochs}-s{seed}-v{_FORMAT}.keras"
    return os.path.join(cache_dir(), "extractors", name)


def _build(image_size, num_classes, width, seed):
    """The CNN: shift augmentation, two conv/BN/ReLU/pool stages, ``features``, softmax."""
    import keras

    init = keras.initializers.GlorotUniform
    inputs = keras.Input((image_size, image_size, 1), name="images")
    x = keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed,
                                       name="shift")(inputs)
    for i, filters in enumerate((32, 64)):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                kernel_initializer=init(seed=seed + i), name=f"conv_{i}")(x)
        x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.3, seed=seed, name="dropout_0")(x)
    features = keras.layers.Dense(width, activation="relu", kernel_initializer=init(seed=seed + 2),
                                  name="features")(x)
    x = keras.layers.Dropout(0.3, seed=seed + 1, name="dropout_1")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax",
                                 kernel_initializer=init(seed=seed + 3), name="probabilities")(x)
    return keras.Model(inputs, outputs, name="domain_classifier")


def _load_data(dataset, image_size, seed):
    kwargs = dict(image_size=image_size, validation_split=0.2 if dataset == "digits" else 0.1,
                  seed=seed, value_range=(0.0, 1.0), return_labels=True)
    return data.load(dataset, **kwargs)


def _train(dataset, image_size, epochs, width, seed, verbose):
    """Train a fresh classifier; returns ``(model, info)``."""
    import keras

    (x_train, y_train), (x_val, y_val) = _load_data(dataset, image_size, seed)
    num_classes = int(max(y_train.max(), y_val.max())) + 1
    model = _build(image_size, num_classes, width, seed)
    batch_size = 64
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(as_dataset(x_train, y_train, batch_size=batch_size, seed=seed), epochs=epochs,
              shuffle=False,
              verbose=verbose)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
    info = {"dataset": dataset, "image_size": image_size, "epochs": epochs, "width": width,
            "seed": seed, "num_classes": num_classes, "n_train": int(len(x_train)),
            "n_val": int(len(x_val)), "val_accuracy": float(accuracy),
            "train_seconds": round(seconds, 2), "format": _FORMAT}
    return model, info


def domain_classifier(dataset="digits", image_size=None, epochs=None, width=128, seed=0,
                      retrain=False, verbose=0, return_info=False):
    """Return the domain classifier, loading it from the cache or training it on first use.

    Args:
        dataset: ``"digits"`` (bundled, the default), ``"mnist"`` or ``"fashion_mnist"``
            (read from the local Keras cache; never downloaded).
        image_size: training image side; default 16 for digits (their native 8x8 upsampled
            twice keeps every detail) and 28 for MNIST. Inputs of other sizes are resized.
        epochs: training epochs (default 25 for digits, 3 for MNIST).
        width: size of the ``features`` layer (the feature dimension).
        seed: seed of initialisation, augmentation, dropout and the split.
        retrain: train again and overwrite the cached file.
        verbose: 1 shows Keras' training progress.
        return_info: also return the info dict (``val_accuracy``, ``train_seconds``, ``path``,
            ``trained``: whether this call trained the model).

    Returns:
        A functional ``keras.Model`` (inputs ``(s, s, 1)`` in [0, 1], softmax outputs), or
        ``(model, info)``.

    Example:
        Not run as a doctest: it trains the classifier on first use (about a minute).

        >>> model, info = domain_classifier(return_info=True)  # doctest: +SKIP
        >>> info["val_accuracy"] > 0.97  # doctest: +SKIP
        True
    """
    dataset, image_size, epochs, width, seed = _settings(dataset, image_size, epochs, width, seed)
    path = classifier_path(dataset, image_size, epochs, width, seed)
    model, info = load_or_train(
        path, lambda: _train(dataset, image_size, epochs, width, seed, verbose), retrain)
    return (model, info) if return_info else model


def load_or_train(path, train, retrain=False):
    """The cached ``(model, info)`` at ``path`` (and ``path``'s ``.json``), else ``train()``'s.

    Processes sharing the cache train a missing model once: the first takes a lock file beside
    ``path`` (POSIX ``flock``) and trains, the others wait and load what it wrote. The model is
    written under temporary names and renamed, so no process reads half a file. ``info`` gains
    ``path`` and ``trained`` (whether this call trained it).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with _locked(path[: -len(".keras")] + ".lock"):
        return _load_or_train(path, train, retrain)


def _load_or_train(path, train, retrain):
    import keras

    info_path = path[: -len(".keras")] + ".json"
    if not retrain and os.path.exists(path) and os.path.exists(info_path):
        model = keras.saving.load_model(path, compile=False)
        with open(info_path) as fh:
            info = json.load(fh)
        info.update(path=path, trained=False)
        return model, info
    model, info = train()
    tmp = f"{path[: -len('.keras')]}.tmp{os.getpid()}"
    model.save(tmp + ".keras")
    with open(tmp + ".json", "w") as fh:
        json.dump(info, fh, indent=1)
    os.replace(tmp + ".keras", path)
    os.replace(tmp + ".json", info_path)
    info.update(path=path, trained=True)
    return model, info


@contextlib.contextmanager
def _locked(lock_path):
    """An exclusive ``flock`` on ``lock_path`` (no lock where ``fcntl`` is missing: Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

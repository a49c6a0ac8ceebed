"""The images a run trains on: an image folder or a bundled dataset, with held-out arrays.

One home for what ``tfgenopt train gan --images``, ``tfgenopt train diffusion`` and
:func:`tfgenopt.compare` read: a shuffled training set, the validation images (and labels, for
the quality extractor and coverage) as arrays, and the data's one-line description for the
report.
"""

from __future__ import annotations

import os

import numpy as np

from tfgenopt import catalog, report
from tfgenopt.data import load, load_images
from tfgenopt.data.folders import _image_files

__all__ = ["load_images_or_dataset", "load_folder", "dataset_arrays", "RANGE"]

RANGE = (-1.0, 1.0)  # the data range the image runs train in (folders and datasets alike)


def _has_class_folders(directory):
    return any(os.path.isdir(os.path.join(directory, d)) for d in os.listdir(directory))


def dataset_arrays(ds, labelled):
    """The images (and labels, when ``labelled``) of a batched ``tf.data.Dataset``, as arrays.

    Returns:
        ``(x, y)``; ``y`` is None unless ``labelled``.

    Example:
        >>> x, y = dataset_arrays(tg.data.as_dataset(np.zeros((5, 2)), batch_size=2), False)
        >>> x.shape, y
        ((5, 2), None)
    """
    xs, ys = [], []
    for batch in ds:
        xs.append(np.asarray(batch[0] if labelled else batch))
        if labelled:
            ys.append(np.asarray(batch[1]))
    return np.concatenate(xs), (np.concatenate(ys) if labelled else None)


def load_folder(images, image_size, seed, batch_size, background="white", verbose=0,
                value_range=(-1.0, 1.0)):
    """An image folder for training: a shuffled training dataset and the validation arrays.

    Class subfolders give labels (for the quality extractor and coverage); 10% of the images
    are held out (at least 2 are needed).

    Returns:
        A dict: ``train`` (a ``tf.data.Dataset``), ``x_val``, ``y_val`` (None without class
        folders), ``labelled``, ``class_names``, ``num_classes``, ``shape``, ``images`` (the
        folder) and ``data`` (its one-line description for a report).

    Example:
        Not run as a doctest: it needs an image folder (tests/test_cli_images.py reads one).

        >>> load_folder("my_images", 32, seed=0, batch_size=64)["shape"]  # doctest: +SKIP
        (32, 32, 3)
    """
    images = os.fspath(images)
    labelled = os.path.isdir(images) and _has_class_folders(images)
    train, val = load_images(images, image_size=image_size, value_range=value_range,
                             labels="inferred" if labelled else None, validation_split=0.1,
                             seed=seed, batch_size=batch_size, background=background,
                             verbose=bool(verbose))
    x_val, y_val = dataset_arrays(val, labelled)
    if len(x_val) < 2:
        raise ValueError(f"`images` {images!r} gives {len(x_val)} validation image(s); at least "
                         "20 images are needed.")
    shape = (image_size, image_size, int(x_val.shape[-1]))
    n_classes = int(len(np.unique(y_val))) if labelled else None
    data = report.describe_data(os.path.basename(os.path.normpath(images)) or images,
                                len(_image_files(images)[0]) - len(x_val), len(x_val), shape,
                                n_classes)
    return {"train": train, "x_val": x_val, "y_val": y_val, "labelled": labelled,
            "class_names": getattr(train, "class_names", None), "num_classes": n_classes,
            "shape": shape, "images": images, "data": data}


def load_images_or_dataset(dataset="digits", images=None, image_size=32, seed=0, batch_size=64,
                           background="white", verbose=0, value_range=RANGE):
    """The training data of an image command: a folder (``images``) or a bundled dataset.

    Returns:
        A dict: ``train`` (what ``fit`` takes: a ``tf.data.Dataset`` or an array), ``x_val``,
        ``y_val`` (None for an unlabelled folder), ``shape``, ``num_classes``, ``class_names``,
        ``extractor`` (the dataset's classifier name, or ``"domain"``), ``data`` (one line for a
        report) and ``source`` (the dataset name or the folder).

    Example:
        >>> d = load_images_or_dataset("digits", image_size=8)
        >>> d["shape"], d["extractor"], float(d["x_train"].min())
        ((8, 8, 1), 'digits', -1.0)
    """
    if images is not None:
        folder = load_folder(images, image_size, seed, batch_size, background, verbose,
                             value_range)
        return dict(folder, extractor="domain", source=folder["images"], x_train=None)
    info = catalog.dataset(dataset)
    (x, y), (x_val, y_val) = load(dataset, image_size=image_size, seed=seed,
                                  value_range=value_range, return_labels=True)
    shape = tuple(int(v) for v in x.shape[1:])
    return {"train": x, "x_train": x, "y_train": y, "x_val": x_val, "y_val": y_val,
            "shape": shape, "num_classes": info.num_classes, "class_names": None,
            "extractor": dataset, "source": dataset, "labelled": True,
            "data": report.describe_data(dataset, len(x), len(x_val), shape, info.num_classes)}

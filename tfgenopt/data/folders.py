"""Image folders: write images as PNGs in class subfolders; read a folder the way Keras does.

:func:`load_images` is ``keras.utils.image_dataset_from_directory`` (the same files, seeded
order, labels and resizing) with the choices a GAN / VAE needs made for you: a seeded order
(every worker of a distributed run sees the same one), pixels mapped to ``value_range``, integer
labels or none, a validation split that works on small folders, images with transparency
composited on a background (:mod:`tfgenopt.data.image_modes`), and an input path that fits the
size: a set whose decoded pixels fit in ``CACHE_LIMIT`` bytes is read once into memory and
served like arrays (shuffle indices, gather batches); a larger one streams from disk, decoded
in parallel and prefetched, so it is never held whole. Before anything is decoded, the folder
is checked: it exists, holds images, has class subfolders for inferred labels, and every
file's header is readable (which gives its colour mode)."""

from __future__ import annotations

import os

import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_value_range,
)
from tfgenopt.data import image_modes
from tfgenopt.data.pipeline import as_dataset

__all__ = ["load_images", "write_image_folder"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what Keras' loader reads
CACHE_LIMIT = 512 * 1024 ** 2


# --------------------------------------------------------------------------------- writing
def write_image_folder(images, labels, directory, class_names=None):
    """Write images as PNG files, one subfolder per class (the layout ``load_images`` reads).

    Everything is checked before the first file is written, and the files go to a temporary
    sibling folder that is renamed into place at the end, so bad input writes nothing.

    Args:
        images: uint8 ``(n, h, w[, 1 or 3])`` in [0, 255], or floats in [0, 1] (scaled by 255).
        labels: ``(n,)`` integer class indices, or None (all files directly in ``directory``).
        directory: the folder to create; it must not exist yet, or be empty.
        class_names: a name per class (folders are ``"{index:02d}_{name}"``, which sort in label
            order as Keras expects); None names them ``"class_00"``, ``"class_01"``, ...

    Returns:
        ``directory`` (a string).

    Example:
        >>> import os
        >>> images, labels = tg.data.make_shapes(12, image_size=16)
        >>> folder = write_image_folder(images, labels, "shapes")
        >>> sorted(os.listdir(folder))[:2]
        ['class_00', 'class_01']
    """
    import tensorflow as tf

    x = check_array("images", images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"`images` must be (n, h, w[, 1 or 3]); received shape {np.shape(images)}.")
    if x.dtype != np.uint8:
        if x.min() < 0 or x.max() > 1:
            raise ValueError("`images` must be uint8 in [0, 255] or floats in [0, 1]; received "
                             f"{x.dtype} values in [{x.min():.3g}, {x.max():.3g}].")
        x = np.rint(x * 255).astype(np.uint8)
    names = None
    if labels is not None:
        y = check_array("labels", labels, min_ndim=1).ravel()
        if len(y) != len(x) or not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0:
            raise ValueError(f"`labels` must be {len(x)} non-negative integers (one per image); "
                             f"received shape {np.shape(labels)}, values in [{y.min()}, {y.max()}].")
        y = y.astype(np.int64)
        k = int(y.max()) + 1
        if class_names is None:
            names = [f"class_{i:02d}" for i in range(k)]
        else:
            class_names = [str(c) for c in class_names]
            if len(class_names) < k or len(set(class_names)) != len(class_names) or any(
                    not c or os.sep in c or c.startswith(".") for c in class_names):
                raise ValueError(f"`class_names` must be {k}+ distinct, non-empty folder names; "
                                 f"received {class_names!r}.")
            names = [f"{i:02d}_{c}" for i, c in enumerate(class_names)]
    elif class_names is not None:
        raise ValueError("`class_names` needs `labels`; received labels=None.")
    directory = os.fspath(directory)
    if os.path.exists(directory) and (not os.path.isdir(directory) or os.listdir(directory)):
        raise ValueError(f"`directory` {directory!r} already exists and is not an empty folder; "
                         "pass a new path.")
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(os.path.abspath(directory))}.tmp{os.getpid()}")
    os.makedirs(tmp)
    try:
        for i, image in enumerate(x):
            sub = tmp if names is None else os.path.join(tmp, names[y[i]])
            if names is not None and not os.path.isdir(sub):
                os.makedirs(sub)
            with open(os.path.join(sub, f"{i:06d}.png"), "wb") as fh:
                fh.write(tf.io.encode_png(image).numpy())
        if os.path.isdir(directory):
            os.rmdir(directory)
        os.replace(tmp, directory)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


# --------------------------------------------------------------------------------- checking
def _image_files(directory):
    found, other = [], 0
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs.sort()
        for f in sorted(files):
            if f.lower().endswith(IMAGE_EXTENSIONS):
                found.append(os.path.join(root, f))
            else:
                other += 1
    return found, other


def _check_folder(directory, labels):
    """Validate the folder before anything is decoded (it exists, holds images, has classes)."""
    path = os.fspath(directory)
    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise ValueError(f"`directory` {path!r} {what}; pass a folder of images (one subfolder "
                         "per class for labels='inferred').")
    files, other = _image_files(path)
    if not files:
        detail = f"{other} other file(s)" if other else "nothing"
        raise ValueError(f"`directory` {path!r} holds no images ({detail}); allowed "
                         f"extensions: {IMAGE_EXTENSIONS}.")
    if labels == "inferred":
        loose = [f for f in files if os.path.dirname(f) == os.path.abspath(path)
                 or os.path.dirname(f) == path]
        if len(loose) == len(files):
            raise ValueError(f"`directory` {path!r} has images but no class subfolders; with "
                             "labels='inferred' each class is a subfolder. Pass labels=None "
                             "for unlabelled images.")


def _listing(directory, labels, shuffle, seed):
    """Keras' own file list (same files, same seeded order) with labels and class names."""
    import contextlib
    import io

    import keras

    with contextlib.redirect_stdout(io.StringIO()):  # nothing is decoded: it lists the files
        ds = keras.utils.image_dataset_from_directory(
            directory, labels=labels, label_mode="int" if labels else None, batch_size=None,
            shuffle=shuffle, seed=seed, verbose=False)
    paths, class_names = list(ds.file_paths), getattr(ds, "class_names", None)
    if labels is None:
        return paths, None, class_names
    if len(class_names) < 2:
        raise ValueError(f"`directory` {directory!r} has one class subfolder ({class_names!r}); "
                         "labels need at least 2 classes. Pass labels=None for unlabelled "
                         "images.")
    index = {name: i for i, name in enumerate(class_names)}
    y = [index[os.path.relpath(p, directory).split(os.sep)[0]] for p in paths]
    return paths, np.asarray(y, np.int32), class_names


def _split(n, validation_split, directory):
    """Validation count: Keras' ``int(split * n)``, but at least one image when split > 0."""
    if not validation_split:
        return 0
    n_val = max(int(validation_split * n), 1)
    if n - n_val < 1:
        raise ValueError(f"`validation_split`={validation_split} of the {n} image(s) in "
                         f"{directory!r} leaves {n - n_val} for training and {n_val} for "
                         "validation; each side needs at least one. Pass validation_split=0 "
                         "(or None) or add images.")
    return n_val


# --------------------------------------------------------------------------------- loading
def _image_size(image_size):
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    try:
        h, w = (int(v) for v in image_size)
        ok = all(float(v) == int(v) for v in image_size)
    except (TypeError, ValueError):
        ok = False
    if not ok or h < 1 or w < 1:
        raise ValueError(f"`image_size` must be an int or a pair (height, width) of positive "
                         f"ints; received {image_size!r}.")
    return h, w


def _to_arrays(ds, has_labels):
    xs, ys = [], []
    for batch in ds:
        if has_labels:
            xs.append(batch[0].numpy())
            ys.append(batch[1].numpy().astype(np.int32))
        else:
            xs.append(batch.numpy())
    x = np.concatenate(xs).astype(np.float32, copy=False)
    return (x, np.concatenate(ys)) if has_labels else x


def _say(line):
    """Print like Keras' own messages: to stdout, or to the log when interactive logging is off."""
    import keras

    if keras.config.is_interactive_logging_enabled():
        print(line)
    else:
        import logging

        logging.getLogger("tfgenopt").info(line)


def _pipeline(paths, y, load, batch_size, shuffle, seed):
    """Keras' pipeline: (path, label) -> seeded shuffle buffer -> parallel decode -> batch."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(paths if y is None else (paths, y))
    if shuffle:
        ds = ds.shuffle(buffer_size=batch_size * 8, seed=seed)
    ds = ds.map(load if y is None else (lambda p, label: (load(p), label)),
                num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size)


def load_images(directory, image_size=(64, 64), color_mode=None, value_range=(-1.0, 1.0),
                labels="inferred", validation_split=0.1, seed=0, batch_size=32, shuffle=True,
                cache="auto", as_numpy=False, interpolation="bilinear", background="white",
                crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, verbose=True):
    """Load a folder of images as batched ``tf.data`` datasets (or arrays) for ``fit``.

    The files, their seeded order, the labels and the resizing are those of
    ``keras.utils.image_dataset_from_directory``; pixels are mapped from [0, 255] to
    ``value_range``. With labels the datasets yield ``(images, labels)``: an unconditional
    ``GAN`` and the ``VAE`` ignore the labels, a conditional ``GAN`` trains on them.
    ``class_names`` is set on every returned dataset.

    Folders as they come load by default: a folder mixing grayscale (L), grayscale + alpha (LA),
    RGB, RGBA and palette (P) files loads as RGB when any file has colour and as grayscale when
    every file is grayscale; transparent pixels (alpha, or a palette's transparent entries) are
    composited on ``background`` before resizing, and one line says what was converted (counts
    per mode; ``verbose=False`` silences it). See :mod:`tfgenopt.data.image_modes`.

    Args:
        directory: a folder with one subfolder per class (``labels="inferred"``) or any
            images (``labels=None``); ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.gif``.
        image_size: an int or ``(height, width)``; images are resized to it.
        color_mode: ``None`` (from the files, as above), or ``"rgb"``, ``"grayscale"`` or
            ``"rgba"`` to convert every image to it.
        value_range: ``(-1, 1)`` (tanh generators) or ``(0, 1)`` (sigmoid).
        labels: ``"inferred"`` (integer labels from the subfolders) or ``None``.
        validation_split: fraction held out, in ``[0, 1)``; ``0`` or ``None`` returns one
            dataset. The held-out count is Keras' ``int(split * n)``, raised to 1 when that is
            0 (so 8 images with 0.1 give 7 + 1); a split that leaves no training image (one
            image in the folder) raises ``ValueError`` with the counts.
        seed: seed of the split and of the shuffle.
        batch_size: images per batch.
        shuffle: reshuffle the training set every epoch (in memory: a fresh permutation;
            streamed: Keras' shuffle buffer of ``8 * batch_size``). The files are always put in
            a seeded order before the split.
        cache: ``"auto"`` keeps the decoded set in memory when it fits in ``CACHE_LIMIT``
            (512 MiB) and streams it from disk otherwise; ``True`` / ``False`` force either.
        as_numpy: return NumPy arrays instead of datasets (reads everything; small sets).
        interpolation: the resize method (Keras' names: ``"bilinear"``, ``"nearest"``, ...).
        background: where transparent pixels go: ``"white"`` (default), ``"black"``,
            ``"gray"`` (128), an ``(r, g, b)`` tuple of ints in [0, 255], or ``"keep"`` to
            keep the alpha as a 4th channel (RGBA models; the same as ``color_mode="rgba"``).
        crop_to_aspect_ratio: crop each image to the target aspect ratio (centred) before
            resizing, as Keras does, instead of squashing it.
        pad_to_aspect_ratio: pad each image with black to the target aspect ratio instead.
        verbose: print the one-line conversion summary when files were converted.

    Returns:
        ``(train, val)`` datasets, or one dataset without a validation split; with
        ``as_numpy=True`` arrays instead: ``x`` or ``(x, y)`` for each part (float32 images,
        int32 labels).

    Example:
        >>> images, labels = tg.data.make_shapes(40, image_size=16)
        >>> folder = write_image_folder(images, labels, "shapes")
        >>> train, val = load_images(folder, image_size=16, batch_size=8)
        >>> x, y = next(iter(train))
        >>> x.shape, float(x.numpy().min()) >= -1.0, len(train.class_names)
        (TensorShape([8, 16, 16, 3]), True, 12)
    """
    size = _image_size(image_size)
    if color_mode is not None:
        check_choice("color_mode", color_mode, ("rgb", "grayscale", "rgba"))
    if labels is not None:
        check_choice("labels", labels, ("inferred",))
    lo, hi = check_value_range("value_range", value_range, allowed=catalog.VALUE_RANGES)
    validation_split = 0.0 if validation_split is None else check_float(
        "validation_split", validation_split, 0.0, 1.0, max_inclusive=False)
    seed = check_int("seed", seed)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_choice("cache", cache, ("auto", True, False))
    check_choice("interpolation", interpolation, image_modes.INTERPOLATIONS)
    background = image_modes.check_background(background)
    for name, value in (("crop_to_aspect_ratio", crop_to_aspect_ratio),
                        ("pad_to_aspect_ratio", pad_to_aspect_ratio), ("verbose", verbose)):
        check_choice(name, value, (True, False))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Pass at most one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio`; "
                         "received both True.")
    directory = os.fspath(directory)
    _check_folder(directory, labels)
    paths, y, class_names = _listing(directory, labels, bool(shuffle or validation_split), seed)
    n_val = _split(len(paths), validation_split, directory)
    modes = [image_modes.file_mode(p) for p in paths]
    color_mode, composite = image_modes.resolve_color_mode(modes, color_mode, background)
    line = image_modes.conversion_message(modes, color_mode, composite, background)
    if line and verbose:
        _say(line)
    load = image_modes.image_loader(size, color_mode, composite, background, interpolation,
                                    crop_to_aspect_ratio, pad_to_aspect_ratio)
    cut = len(paths) - n_val
    parts = [(paths[:cut], None if y is None else y[:cut])]
    if n_val:
        parts.append((paths[cut:], None if y is None else y[cut:]))
    factor, has_labels = (hi - lo) / 255.0, labels is not None
    channels = image_modes.CHANNELS[color_mode]
    in_memory = as_numpy or cache is True or (
        cache == "auto" and len(paths) * size[0] * size[1] * channels * 4 <= CACHE_LIMIT)
    out = []
    for i, (p, labels_i) in enumerate(parts):
        ds = _pipeline(p, labels_i, load, batch_size, shuffle and i == 0, seed)
        ds = ds.map((lambda x, t: (x * factor + lo, t)) if has_labels else
                    (lambda x: x * factor + lo))
        if in_memory:  # the pipeline's first-epoch order, then reshuffled by index every epoch
            arrays = _to_arrays(ds, has_labels)
            if as_numpy:
                out.append(arrays)
                continue
            x, yy = arrays if has_labels else (arrays, None)
            ds = as_dataset(x, yy, batch_size=batch_size, shuffle=shuffle and i == 0, seed=seed)
        else:  # streamed: decoded in parallel, prefetched, never held whole
            import tensorflow as tf

            ds = ds.prefetch(tf.data.AUTOTUNE)
        ds.class_names = class_names
        out.append(ds)
    return tuple(out) if len(out) > 1 else out[0]

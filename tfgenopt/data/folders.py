"""Image folders: write images as PNGs in class subfolders; read a folder with Keras' own loader.

:func:`load_images` is ``keras.utils.image_dataset_from_directory`` with the choices a GAN / VAE
needs made for you: a seeded order (every worker of a distributed run sees the same one), pixels
mapped to ``value_range``, integer labels or none, the validation split, and an input path that
fits the size: a set whose decoded pixels fit in ``cache_limit`` bytes is read once into memory
and served like arrays (shuffle indices, gather batches); a larger one streams from disk,
decoded in parallel and prefetched, so it is never held whole. Before anything is read, the
folder is checked: it exists, holds images, every file's header is readable, and (unless
``color_mode`` says what to convert to) every image has the same channel count.
"""

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

__all__ = ["load_images", "write_image_folder"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what Keras' loader reads
CACHE_LIMIT = 512 * 1024 ** 2
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # colour type -> channels (palette decodes to RGB)
_COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}


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


def _channels(path):
    """Channel count from the file header (PNG: colour type; others: TensorFlow decodes it)."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    if path.lower().endswith(".png"):
        if len(head) < 26 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR" \
                or head[25] not in _PNG_CHANNELS:
            raise ValueError(f"{path!r} is not a readable PNG file (bad or truncated header).")
        return _PNG_CHANNELS[head[25]]
    import tensorflow as tf

    try:
        if path.lower().endswith((".jpg", ".jpeg")):
            return int(tf.io.extract_jpeg_shape(tf.io.read_file(path))[-1])
        return int(tf.io.decode_image(tf.io.read_file(path), expand_animations=False).shape[-1])
    except (tf.errors.InvalidArgumentError, ValueError):
        raise ValueError(f"{path!r} is not a readable image file.") from None


def _check_folder(directory, labels, color_mode):
    """Validate the folder; return ``(files, color_mode)``."""
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
    counts = {}
    for f in files:
        counts.setdefault(_channels(f), f)
    if color_mode is None:
        if len(counts) > 1:
            found = ", ".join(f"{c} channel(s) in {p!r}" for c, p in sorted(counts.items()))
            raise ValueError(f"`directory` {path!r} mixes images with different channel counts "
                             f"({found}); pass color_mode='rgb' or 'grayscale' to convert them.")
        channels = next(iter(counts))
        if channels not in (1, 3):
            raise ValueError(f"The images in {path!r} have {channels} channels (alpha); pass "
                             "color_mode='rgb' or 'grayscale' to convert them.")
        color_mode = _COLOR_MODES[channels]
    return files, color_mode


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


def load_images(directory, image_size=(64, 64), color_mode=None, value_range=(-1.0, 1.0),
                labels="inferred", validation_split=0.1, seed=0, batch_size=32, shuffle=True,
                cache="auto", as_numpy=False, interpolation="bilinear"):
    """Load a folder of images as batched ``tf.data`` datasets (or arrays) for ``fit``.

    Built on ``keras.utils.image_dataset_from_directory`` (same files, same seeded split and
    order); pixels are mapped from [0, 255] to ``value_range``. With labels the datasets yield
    ``(images, labels)``: an unconditional ``GAN`` and the ``VAE`` ignore the labels, a
    conditional ``GAN`` trains on them. ``class_names`` is set on every returned dataset.

    Args:
        directory: a folder with one subfolder per class (``labels="inferred"``) or any
            images (``labels=None``); ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.gif``.
        image_size: an int or ``(height, width)``; images are resized to it.
        color_mode: ``"rgb"`` or ``"grayscale"`` to convert every image; ``None`` keeps the
            files' channel count (1 or 3) and raises if they differ.
        value_range: ``(-1, 1)`` (tanh generators) or ``(0, 1)`` (sigmoid).
        labels: ``"inferred"`` (integer labels from the subfolders) or ``None``.
        validation_split: fraction held out (in ``[0, 1)``); 0 returns one dataset.
        seed: seed of the split and of the shuffle.
        batch_size: images per batch.
        shuffle: reshuffle the training set every epoch (in memory: a fresh permutation;
            streamed: Keras' own shuffle buffer). The files are always put in a seeded order
            before the split.
        cache: ``"auto"`` keeps the decoded set in memory when it fits in ``CACHE_LIMIT``
            (512 MiB) and streams it from disk otherwise; ``True`` / ``False`` force either.
        as_numpy: return NumPy arrays instead of datasets (reads everything; small sets).
        interpolation: the resize method (Keras' names: ``"bilinear"``, ``"nearest"``, ...).

    Returns:
        ``(train, val)`` datasets, or one dataset with ``validation_split=0``; with
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
    import keras

    from tfgenopt.data._bundled import as_dataset

    size = _image_size(image_size)
    if color_mode is not None:
        check_choice("color_mode", color_mode, ("rgb", "grayscale"))
    if labels is not None:
        check_choice("labels", labels, ("inferred",))
    lo, hi = check_value_range("value_range", value_range, allowed=catalog.VALUE_RANGES)
    check_float("validation_split", validation_split, 0.0, 1.0, max_inclusive=False)
    seed = check_int("seed", seed)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_choice("cache", cache, ("auto", True, False))
    files, color_mode = _check_folder(directory, labels, color_mode)
    channels = 1 if color_mode == "grayscale" else 3
    split = {"validation_split": validation_split, "subset": "both"} if validation_split else {}
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the split sizes
        parts = keras.utils.image_dataset_from_directory(
            os.fspath(directory), labels=labels, label_mode="int" if labels else None,
            color_mode=color_mode, batch_size=batch_size, image_size=size,
            shuffle=bool(shuffle or validation_split), seed=seed, interpolation=interpolation,
            verbose=False, **split)
    parts = parts if isinstance(parts, (list, tuple)) else [parts]
    class_names = getattr(parts[0], "class_names", None)
    if labels and len(class_names) < 2:
        raise ValueError(f"`directory` {os.fspath(directory)!r} has one class subfolder "
                         f"({class_names!r}); labels need at least 2 classes. Pass labels=None "
                         "for unlabelled images.")
    factor, has_labels = (hi - lo) / 255.0, labels is not None

    def scaled(ds):
        if has_labels:
            return ds.map(lambda x, y: (x * factor + lo, y))
        return ds.map(lambda x: x * factor + lo)

    in_memory = as_numpy or cache is True or (
        cache == "auto" and len(files) * size[0] * size[1] * channels * 4 <= CACHE_LIMIT)
    out = []
    for i, ds in enumerate(parts):
        ds = scaled(ds)
        if in_memory:  # Keras' first-epoch order, then reshuffled by index every epoch
            arrays = _to_arrays(ds, has_labels)
            if as_numpy:
                out.append(arrays)
                continue
            x, y = arrays if has_labels else (arrays, None)
            ds = as_dataset(x, y, batch_size=batch_size, shuffle=shuffle and i == 0, seed=seed)
        else:  # streamed: decoded in parallel by Keras, prefetched, never held whole
            import tensorflow as tf

            ds = ds.prefetch(tf.data.AUTOTUNE)
        ds.class_names = class_names
        out.append(ds)
    return tuple(out) if len(out) > 1 else out[0]

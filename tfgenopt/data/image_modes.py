"""Colour modes of image files: what each file holds, what a folder loads as, and the decoding.

Every file's mode is read from its header (PNG: colour type and a ``tRNS`` chunk; JPEG: the
channel count; BMP / GIF: TensorFlow decodes them), named as Pillow names them: ``"L"``
(grayscale), ``"LA"`` (grayscale + alpha), ``"RGB"``, ``"RGBA"``, ``"P"`` (palette); a PNG whose
``tRNS`` chunk makes some colours transparent gets ``"+tRNS"`` (``"P+tRNS"``...). From the modes,
:func:`resolve_color_mode` decides what the folder loads as and :func:`image_loader` returns the
``tf.data`` map function that decodes, converts and resizes one file:

* no file has transparency: TensorFlow's own conversion, exactly as
  ``keras.utils.image_dataset_from_directory`` does it (``decode_image(channels=...)``);
* some file has transparency: each file is decoded with all its channels, its alpha
  composited on ``background`` at full resolution (``rgb * a + background * (1 - a)``, so
  transparent pixels are exactly the background and opaque ones unchanged), and only then
  resized; ``background="keep"`` keeps the alpha as a 4th channel instead.
"""

from __future__ import annotations

import numbers
import os
import struct

__all__ = ["BACKGROUNDS", "check_background", "file_mode", "resolve_color_mode",
           "conversion_message", "image_loader"]

BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0), "gray": (128, 128, 128),
               "grey": (128, 128, 128)}
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian",
                  "mitchellcubic")  # what tf.image.resize (and Keras' loader) accepts
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}  # colour type -> mode
_CHANNEL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_NATIVE = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}  # what needs no conversion
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


def check_background(background):
    """Return ``"keep"`` or the background as an ``(r, g, b)`` tuple of ints in [0, 255].

    Example:
        >>> check_background("white"), check_background((0, 128, 255)), check_background("keep")
        ((255, 255, 255), (0, 128, 255), 'keep')
    """
    if isinstance(background, str):
        name = background.lower()
        if name == "keep":
            return "keep"
        if name not in BACKGROUNDS:
            raise ValueError(f"`background` must be 'keep', one of {sorted(BACKGROUNDS)} or an "
                             f"(r, g, b) tuple of ints in [0, 255]; received {background!r}.")
        return BACKGROUNDS[name]
    if not isinstance(background, (tuple, list)):
        raise TypeError(f"`background` must be a colour name, 'keep' or an (r, g, b) tuple; "
                        f"received {background!r} ({type(background).__name__}).")
    if len(background) != 3 or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                    or not 0 <= v <= 255 for v in background):
        raise ValueError(f"`background` as a colour must be 3 ints (r, g, b) in [0, 255]; "
                         f"received {background!r}.")
    return tuple(int(v) for v in background)


def _png_mode(path, fh):
    head = fh.read(33)
    if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR" \
            or head[25] not in _PNG_MODES:
        raise ValueError(f"{path!r} is not a readable PNG file (bad or truncated header).")
    mode = _PNG_MODES[head[25]]
    while mode in ("L", "RGB", "P"):  # a tRNS chunk (before the image data) adds transparency
        chunk = fh.read(8)
        if len(chunk) < 8:
            break
        length, kind = struct.unpack(">I4s", chunk)
        if kind == b"tRNS":
            return mode + "+tRNS"
        if kind in (b"IDAT", b"IEND"):
            break
        fh.seek(length + 4, os.SEEK_CUR)
    return mode


def file_mode(path):
    """The colour mode of an image file: ``"L"``, ``"LA"``, ``"RGB"``, ``"RGBA"``, ``"P"``...

    Raises ``ValueError`` naming the file when it cannot be read.

    Example:
        >>> import numpy as np, tensorflow as tf
        >>> with open("la.png", "wb") as fh:
        ...     _ = fh.write(tf.io.encode_png(np.zeros((2, 2, 2), np.uint8)).numpy())
        >>> file_mode("la.png")
        'LA'
    """
    if path.lower().endswith(".png"):
        with open(path, "rb") as fh:
            return _png_mode(path, fh)
    import tensorflow as tf

    try:
        if path.lower().endswith((".jpg", ".jpeg")):
            channels = int(tf.io.extract_jpeg_shape(tf.io.read_file(path))[-1])
        else:
            channels = int(tf.io.decode_image(tf.io.read_file(path),
                                              expand_animations=False).shape[-1])
    except (tf.errors.InvalidArgumentError, ValueError):
        raise ValueError(f"{path!r} is not a readable image file.") from None
    return _CHANNEL_MODES[channels]


def has_alpha(mode):
    """Whether a file of ``mode`` can hold transparent pixels.

    Example:
        >>> has_alpha("LA"), has_alpha("P+tRNS"), has_alpha("RGB")
        (True, True, False)
    """
    return mode in ("LA", "RGBA") or mode.endswith("+tRNS")


def resolve_color_mode(modes, color_mode, background):
    """What a folder of files in ``modes`` loads as: ``(color_mode, composite)``.

    ``color_mode=None`` picks ``"rgb"`` when any file has colour (RGB, RGBA or palette) and
    ``"grayscale"`` when every file is grayscale; ``"rgba"`` with ``background="keep"``.
    ``composite`` is True when files are decoded with their alpha (composited on the
    background, or kept for ``"rgba"``) rather than by TensorFlow's own conversion.

    Example:
        >>> resolve_color_mode(["L", "LA"], None, (255, 255, 255))
        ('grayscale', True)
        >>> resolve_color_mode(["L", "RGB"], None, (255, 255, 255))
        ('rgb', False)
    """
    alpha = any(has_alpha(m) for m in modes)
    if background == "keep":
        if color_mode not in (None, "rgba"):
            raise ValueError(f"background='keep' keeps the alpha as a 4th channel; it needs "
                             f"color_mode=None or 'rgba', received color_mode={color_mode!r}. "
                             "Pass a background colour to load 1 or 3 channels.")
        return "rgba", True
    if color_mode == "rgba":
        return "rgba", True
    if color_mode is None:
        color_mode = "grayscale" if all(m.startswith("L") for m in modes) else "rgb"
    return color_mode, alpha


def conversion_message(modes, color_mode, composite, background):
    """One line saying what was converted (counts per mode), or None when nothing was.

    Example:
        >>> conversion_message(["RGB", "RGBA", "LA", "RGBA"], "rgb", True, (255, 255, 255))
        'load_images: 4 images load as rgb; converted 3 (2 RGBA, 1 LA), alpha composited on (255, 255, 255).'
    """
    counts = {}
    for m in modes:
        if m != _NATIVE[color_mode]:
            counts[m] = counts.get(m, 0) + 1
    if not counts:
        return None
    detail = ", ".join(f"{n} {m}" for m, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    how = ""
    if composite:
        how = (", alpha kept as a 4th channel (opaque where a file has none)"
               if color_mode == "rgba" else f", alpha composited on {background}")
    return (f"load_images: {len(modes)} images load as {color_mode}; converted "
            f"{sum(counts.values())} ({detail}){how}.")


def _convert(img, color_mode, background):
    """A decoded image of 1-4 channels -> float32 ``color_mode``, alpha composited or kept."""
    import tensorflow as tf

    img = tf.cast(img, tf.float32)
    c = tf.shape(img)[-1]
    gray_source = c < 3
    alpha = tf.where(tf.equal(c % 2, 0), img[..., -1:], tf.fill(tf.shape(img[..., :1]), 255.0))
    if color_mode == "grayscale":
        value = tf.cond(gray_source, lambda: img[..., :1],
                        lambda: tf.image.rgb_to_grayscale(img[..., :3]))
        r, g, b = background
        back = float(r) if r == g == b else 0.2989 * r + 0.5870 * g + 0.1140 * b
    else:
        value = tf.cond(gray_source, lambda: tf.repeat(img[..., :1], 3, axis=-1),
                        lambda: img[..., :3])
        if color_mode == "rgba":
            return tf.concat([value, alpha], axis=-1)
        back = tf.constant(background, tf.float32)
    a = alpha / 255.0
    return value * a + back * (1.0 - a)


def image_loader(image_size, color_mode, composite, background, interpolation="bilinear",
                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """The ``tf.data`` map function ``path -> (h, w, channels)`` float32 image in [0, 255].

    Without ``composite`` it is Keras' own ``image_dataset_from_directory`` decoding (same
    TensorFlow ops, same resize, crop or pad); with it, alpha is handled before resizing.

    Example:
        >>> import numpy as np, tensorflow as tf
        >>> rgba = np.array([[[200, 10, 10, 255], [0, 0, 0, 0]]], np.uint8)
        >>> with open("dot.png", "wb") as fh:
        ...     _ = fh.write(tf.io.encode_png(rgba).numpy())
        >>> load = image_loader((1, 2), "rgb", True, (255, 255, 255))
        >>> load(tf.constant("dot.png")).numpy().tolist()
        [[[200.0, 10.0, 10.0], [255.0, 255.0, 255.0]]]
    """
    import keras
    import tensorflow as tf

    h, w = image_size
    channels = CHANNELS[color_mode]

    def load(path):
        data = tf.io.read_file(path)
        if composite:
            img = tf.image.decode_image(data, channels=0, expand_animations=False)
            img = _convert(img, color_mode, background)
            img.set_shape((None, None, channels))
        else:
            img = tf.image.decode_image(data, channels=channels, expand_animations=False)
        if crop_to_aspect_ratio:
            img = keras.preprocessing.image.smart_resize(img, (h, w), interpolation=interpolation)
        elif pad_to_aspect_ratio:
            img = tf.image.resize_with_pad(img, h, w, method=interpolation)
        else:
            img = tf.image.resize(img, (h, w), method=interpolation)
        img = tf.cast(img, tf.float32)
        img.set_shape((h, w, channels))
        return img

    return load

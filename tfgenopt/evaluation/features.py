"""Feature extraction: images in (any digit size, value range or flat layout), vectors out.

A :class:`FeatureExtractor` wraps a Keras model: the domain classifier (default), any user
``keras.Model``, or InceptionV3 built from a local weights file. It adapts each batch to what
the model was trained on (reshape flat vectors, add or merge channels, rescale the value range,
resize) and streams batches, so only the feature matrix is ever held in memory.
"""

from __future__ import annotations

import math
import os

import numpy as np

from tfgenopt._validation import check_int, check_value_range
from tfgenopt.evaluation.classifier import cache_dir

__all__ = ["FeatureExtractor", "infer_value_range", "inception_extractor", "inception_weights_path"]

def infer_value_range(x):
    """Guess the pixel range of images: ``(-1, 1)`` if any value < 0, ``(0, 255)`` if > 1.5.

    Args:
        x: an array of pixel values (any shape).

    Returns:
        ``(0.0, 1.0)``, ``(-1.0, 1.0)`` or ``(0.0, 255.0)``.

    Example:
        >>> infer_value_range(np.array([-0.5, 0.9]))
        (-1.0, 1.0)
    """
    x = np.asarray(x)
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo < -1e-3:
        return (-1.0, 1.0)
    if hi > 1.5:
        return (0.0, 255.0)
    return (0.0, 1.0)


def _is_softmax(layer):
    act = getattr(layer, "activation", None)
    return act is not None and getattr(act, "__name__", "") == "softmax"


class FeatureExtractor:
    """Turns images into feature vectors (and class probabilities) with a Keras model.

    Args:
        model: a ``keras.Model`` with defined inputs (functional, or ``Sequential`` built with
            an ``Input``).
        feature_layer: the layer whose output is the feature vector: a name, an index, or
            ``None`` (the layer named ``"features"`` if any, else the layer before a softmax
            output, else the model output).
        image_size: input side used when the model accepts any size (e.g. 299 for Inception);
            ignored when the model's input shape fixes it.
        value_range: the pixel range the model was trained on, e.g. ``(0, 1)`` or ``(-1, 1)``.

    Example:
        Not run as a doctest: it trains the digits classifier on first use (about a minute).

        >>> ext = FeatureExtractor(domain_classifier())  # doctest: +SKIP
        >>> ext.features(x_val).shape  # doctest: +SKIP
        (360, 128)
    """

    def __init__(self, model, feature_layer=None, image_size=None, value_range=(0.0, 1.0)):
        import keras

        if not isinstance(model, keras.Model):
            raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if not inputs or len(inputs) != 1:
            raise ValueError(
                "`model` must be a built model with exactly one input (a functional model, or a "
                "Sequential model that starts with keras.Input); received "
                f"{getattr(model, 'name', model)!r} with inputs {inputs!r}."
            )
        self.value_range = check_value_range("value_range", value_range)
        self.model = model
        layer = self._feature_layer(model, feature_layer)
        self.probability_output = model.outputs[0] if _is_softmax(model.layers[-1]) else None
        outputs = [layer.output if layer is not None else model.outputs[0]]
        if self.probability_output is not None:
            outputs.append(self.probability_output)
        self._joint = keras.Model(inputs, outputs)
        shape = tuple(inputs[0].shape[1:])
        if len(shape) == 1:
            self._flat = shape[0]
            side = math.isqrt(shape[0])
            shape = (side, side, 1)
        else:
            self._flat = None
        if len(shape) != 3:
            raise ValueError(f"`model` input must be images (h, w, c) or flat vectors; received "
                             f"input shape {tuple(inputs[0].shape)}.")
        h, w, c = shape
        if h is None or w is None:
            if image_size is None:
                raise ValueError("`image_size` is required: the model accepts any image size.")
            h = w = check_int("image_size", image_size, minimum=1)
        self.input_shape = (int(h), int(w), int(c))
        self.feature_dim = int(outputs[0].shape[-1])
        self.num_classes = (int(self.probability_output.shape[-1])
                            if self.probability_output is not None else None)
        self._fn = None

    @staticmethod
    def _feature_layer(model, feature_layer):
        if feature_layer is None:
            names = [layer.name for layer in model.layers]
            if "features" in names:
                return model.get_layer("features")
            return model.layers[-2] if _is_softmax(model.layers[-1]) else None
        if isinstance(feature_layer, str):
            try:
                return model.get_layer(feature_layer)
            except ValueError:
                raise ValueError(
                    f"`feature_layer` {feature_layer!r} is not a layer of the model; known: "
                    f"{[layer.name for layer in model.layers]}."
                ) from None
        index = check_int("feature_layer", feature_layer)
        if not -len(model.layers) <= index < len(model.layers):
            raise ValueError(f"`feature_layer` index must be in [-{len(model.layers)}, "
                             f"{len(model.layers)}); received {index}.")
        return model.layers[index]

    def __deepcopy__(self, memo):
        # Read-only after construction; Keras Tuner's per-trial deepcopy shares it.
        return self

    def preprocess(self, images, value_range):
        """Adapt a batch to the model input: reshape, channels, value range, size (float32).

        Args:
            images: a batch ``(n, h, w[, c])`` or flat square vectors ``(n, h*w[*3])``.
            value_range: the pixel range of ``images``, rescaled to the model's.

        Returns:
            A float32 NumPy batch shaped like the model input.

        Example:
            Not run as a doctest: it needs an extractor (see the class example).

            >>> extractor.preprocess(np.zeros((2, 64)), (0, 1)).shape  # doctest: +SKIP
            (2, 16, 16, 1)
        """
        import tensorflow as tf

        x = np.asarray(images, dtype=np.float32)
        if x.ndim == 2:
            side = math.isqrt(x.shape[1])
            side3 = math.isqrt(x.shape[1] // 3)
            if side * side == x.shape[1]:
                x = x.reshape(-1, side, side, 1)
            elif 3 * side3 * side3 == x.shape[1]:
                x = x.reshape(-1, side3, side3, 3)
            else:
                raise ValueError(f"`images` are flat vectors of length {x.shape[1]}, not a "
                                 "square image; reshape them to (n, h, w, c).")
        elif x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"`images` must be (n, h, w[, 1 or 3]) or flat square vectors; "
                             f"received batch shape {np.shape(images)}.")
        h, w, c = self.input_shape
        if x.shape[-1] != c:
            x = np.repeat(x, c, axis=-1) if x.shape[-1] == 1 else x.mean(axis=-1, keepdims=True)
        (src_lo, src_hi), (lo, hi) = value_range, self.value_range
        if (src_lo, src_hi) != (lo, hi):
            x = (x - src_lo) * ((hi - lo) / (src_hi - src_lo)) + lo
        if x.shape[1:3] != (h, w):
            x = tf.image.resize(x, (h, w), method="bilinear", antialias=True).numpy()
            x = np.clip(x, lo, hi)
        if self._flat is not None:
            x = x.reshape(x.shape[0], -1)
        return x

    def _call(self, x):
        if self._fn is None:
            import tensorflow as tf

            joint = self._joint
            self._fn = tf.function(lambda t: joint(t, training=False), reduce_retracing=True)
        out = self._fn(x)
        out = out if isinstance(out, (list, tuple)) else [out]
        return [o.numpy() for o in out]

    def predict(self, images, batch_size=256, verbose=0, value_range=None):
        """Return ``(features, probabilities)`` in one streamed pass (probabilities may be None).

        Args:
            images: an array ``(n, ...)`` (NumPy, memmap or tensor; sliced batch by batch), or
                an iterable of batches (``tf.data.Dataset``, generator; ``(x, y)`` tuples take x).
            batch_size: images per forward pass for arrays.
            verbose: 1 shows a ``keras.utils.Progbar``.
            value_range: pixel range of ``images``; ``None`` infers it (arrays: from all
                values; iterables: from the first batch) with :func:`infer_value_range`.

        Returns:
            ``(features (n, d) float32, probabilities (n, classes) float32 or None)``.

        Example:
            Not run as a doctest: it needs an extractor (see the class example).

            >>> f, p = extractor.predict(x_val)  # doctest: +SKIP
        """
        import keras

        batch_size = check_int("batch_size", batch_size, minimum=1)
        if value_range is not None:
            value_range = check_value_range("value_range", value_range)
        if hasattr(images, "shape") and hasattr(images, "__getitem__") and len(images.shape) >= 2:
            n = int(images.shape[0])
            if n == 0:
                raise ValueError("`images` is empty; at least one image is needed.")
            value_range = value_range or infer_value_range(images)
            batches = (images[i:i + batch_size] for i in range(0, n, batch_size))
        else:
            if isinstance(images, (str, bytes)) or not hasattr(images, "__iter__"):
                raise TypeError(f"`images` must be an array or an iterable of batches; received "
                                f"{type(images).__name__}.")
            n, batches = None, iter(images)
        bar = keras.utils.Progbar(n, unit_name="image") if verbose else None
        # Arrays: outputs preallocated (n known); iterables: per-batch outputs, joined once.
        outputs, chunks, seen = None, [], 0
        for batch in batches:
            if isinstance(batch, (tuple, list)):
                batch = batch[0]
            batch = np.asarray(batch)
            if not np.all(np.isfinite(batch)):
                raise ValueError(f"`images` contain NaN or infinite values (in images "
                                 f"{seen}..{seen + len(batch) - 1}); features would be garbage.")
            if value_range is None:
                value_range = infer_value_range(batch)
            out = self._call(self.preprocess(batch, value_range))
            if n is None:
                chunks.append(out)
            else:
                if outputs is None:
                    outputs = [np.empty((n,) + o.shape[1:], np.float32) for o in out]
                for full, o in zip(outputs, out):
                    full[seen:seen + len(o)] = o
            seen += len(batch)
            if bar is not None:
                bar.update(seen)
        if n is None:
            if not chunks:
                raise ValueError("`images` yielded no batches; at least one image is needed.")
            outputs = [np.concatenate([c[i] for c in chunks]).astype(np.float32, copy=False)
                       for i in range(len(chunks[0]))]
        return outputs[0], (outputs[1] if len(outputs) > 1 else None)

    def features(self, images, batch_size=256, verbose=0, value_range=None):
        """Return the feature vectors ``(n, d)`` of ``images`` (see :meth:`predict`).

        Example:
            Not run as a doctest: it needs an extractor (see the class example).

            >>> extractor.features(x_val).shape  # doctest: +SKIP
            (360, 128)
        """
        return self.predict(images, batch_size, verbose, value_range)[0]

    def probabilities(self, images, batch_size=256, verbose=0, value_range=None):
        """Return class probabilities ``(n, classes)``; raises if the model has no softmax.

        Example:
            Not run as a doctest: it needs an extractor (see the class example).

            >>> extractor.probabilities(x_val).shape  # doctest: +SKIP
            (360, 10)
        """
        if self.probability_output is None:
            raise ValueError("This extractor's model has no softmax output, so it gives no class "
                             "probabilities; pass a classifier (e.g. the default domain one).")
        return self.predict(images, batch_size, verbose, value_range)[1]


def inception_extractor(weights_path, image_size=299):
    """Build a :class:`FeatureExtractor` on InceptionV3 from a local weights file (no download).

    Args:
        weights_path: path of a local ``include_top=False`` InceptionV3 weights file (``.h5``).
        image_size: input side (299 is the standard FID resolution; >= 75).

    Returns:
        A ``FeatureExtractor`` giving 2,048-d average-pooled features from images in [-1, 1].

    Example:
        Not run as a doctest: it needs the InceptionV3 weights file, which is never downloaded.

        >>> ext = inception_extractor("~/inception_v3_notop.h5")  # doctest: +SKIP
    """
    import keras

    path = os.path.expanduser(os.fspath(weights_path))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"`weights_path` {weights_path!r} is not a file; tfgenopt never "
                                "downloads weights. Pass the path of a local InceptionV3 "
                                "(include_top=False) weights file.")
    image_size = check_int("image_size", image_size, minimum=75)
    model = keras.applications.InceptionV3(weights=path, include_top=False, pooling="avg",
                                           input_shape=(image_size, image_size, 3))
    return FeatureExtractor(model, value_range=(-1.0, 1.0))


INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"


def inception_weights_path():
    """Where ``extractor="inception"`` looks for the InceptionV3 weights (never downloaded).

    Returns:
        ``$TFGENOPT_CACHE/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5`` (the
        file Keras' ``InceptionV3(include_top=False)`` would download), as a string.

    Example:
        >>> inception_weights_path().endswith("_notop.h5")
        True
    """
    return os.path.join(cache_dir(), INCEPTION_WEIGHTS)

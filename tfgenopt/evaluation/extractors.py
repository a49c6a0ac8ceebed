"""The feature-extractor registry: every ``extractor=`` argument resolves here.

:func:`get` turns an identifier into a :class:`~tfgenopt.evaluation.features.FeatureExtractor`
in the ``keras.optimizers.get`` idiom; :func:`check` validates one at an argument boundary
(a callback's ``__init__``) without building anything. An identifier is one of:

* ``None`` or a name from :func:`names`: ``"digits"``, ``"mnist"``, ``"fashion_mnist"`` (a
  classifier trained on that dataset, cached), ``"domain"`` (trained on your real images,
  cached by their fingerprint), ``"inception"`` (InceptionV3 from
  :func:`~tfgenopt.evaluation.features.inception_weights_path`);
* a path (``str`` or ``os.PathLike``) of a local InceptionV3 ``include_top=False`` weights file;
* a ``keras.Model`` (inputs in [0, 1]) or a ``FeatureExtractor`` (returned as is);
* a callable with no arguments returning a ``keras.Model`` or a ``FeatureExtractor``, called
  when the extractor is first needed (so a callback can hold it without building a network).

A string that is neither a known name nor looks like a path (it has a directory separator, a
``~`` or a ``.h5`` / ``.keras`` suffix) raises ``ValueError`` listing the known names.
"""

from __future__ import annotations

import os

from tfgenopt.evaluation.classifier import DATASETS, domain_classifier
from tfgenopt.evaluation.domain import domain_extractor
from tfgenopt.evaluation.features import (
    INCEPTION_WEIGHTS,
    FeatureExtractor,
    inception_extractor,
    inception_weights_path,
)

__all__ = ["get", "check", "names", "extract_features"]

_WEIGHT_SUFFIXES = (".h5", ".keras")


def names():
    """The extractor names :func:`get` knows, in order.

    Returns:
        A tuple of strings: the dataset classifiers, then ``"domain"`` and ``"inception"``.

    Example:
        >>> names()
        ('digits', 'mnist', 'fashion_mnist', 'domain', 'inception')
    """
    return (*DATASETS, "domain", "inception")


def _looks_like_path(text):
    return (os.sep in text or "/" in text or text.startswith("~")
            or text.lower().endswith(_WEIGHT_SUFFIXES) or os.path.isfile(text))


def check(identifier):
    """Return ``identifier`` if :func:`get` can resolve it, without building anything.

    Used by every ``extractor=`` argument at construction, so a wrong one fails before training.
    Paths come back as ``str`` (a callback's ``get_config`` can carry them); whether the file
    exists is checked by :func:`get`, when the extractor is built.

    Args:
        identifier: anything :func:`get` accepts.

    Returns:
        ``identifier``, with an ``os.PathLike`` turned into its ``str``.

    Raises:
        ValueError: an unknown name (the message lists :func:`names`).
        TypeError: anything else that is not a name, path, model, extractor or callable.

    Example:
        >>> import pathlib
        >>> check(pathlib.Path("weights") / "inception_notop.h5")
        'weights/inception_notop.h5'
        >>> check("digts")
        Traceback (most recent call last):
        ...
        ValueError: `extractor` 'digts' is not a known extractor name: ('digits', 'mnist', 'fashion_mnist', 'domain', 'inception'); a weights file path needs a directory, '~' or a .h5 / .keras suffix.
    """
    import keras

    if identifier is None or isinstance(identifier, (FeatureExtractor, keras.Model)):
        return identifier
    if isinstance(identifier, os.PathLike):
        return os.fspath(identifier)
    if isinstance(identifier, str):
        if identifier in names() or _looks_like_path(identifier):
            return identifier
        raise ValueError(
            f"`extractor` {identifier!r} is not a known extractor name: {names()}; a weights "
            "file path needs a directory, '~' or a .h5 / .keras suffix.")
    if callable(identifier):
        return identifier
    raise TypeError(
        f"`extractor` must be None, one of {list(names())}, a weights path, a keras.Model, a "
        f"FeatureExtractor or a callable returning one; received {type(identifier).__name__}.")


def _inception_default():
    path = inception_weights_path()
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"extractor='inception' needs the InceptionV3 weights file at {path!r} "
            f"(expected file name {INCEPTION_WEIGHTS!r}, the include_top=False weights "
            "Keras' InceptionV3 would download; set TFGENOPT_CACHE to use another folder). "
            "tfgenopt never downloads: copy the file there, or pass its path as `extractor`.")
    return inception_extractor(path)


def get(identifier=None, real=None, labels=None):
    """Resolve an extractor identifier to a :class:`FeatureExtractor` (``keras.optimizers.get``).

    Args:
        identifier: ``None`` or ``"digits"`` (the cached digits classifier), ``"mnist"`` /
            ``"fashion_mnist"`` (classifiers trained on the locally cached datasets),
            ``"domain"`` (trained on ``real`` / ``labels`` by
            ``tfgenopt.evaluation.domain_extractor``, cached), ``"inception"`` (the standard
            FID network), a path (``str`` or ``pathlib.Path``) to local InceptionV3 weights, a
            ``keras.Model`` (expects [0, 1] inputs; wrap it in a ``FeatureExtractor`` to say
            otherwise), a ``FeatureExtractor`` (returned as is), or a callable with no
            arguments that returns a ``keras.Model`` or a ``FeatureExtractor``.
        real: the real images a ``"domain"`` extractor trains on.
        labels: their classes (a classifier), or None (a reconstruction encoder).

    Returns:
        A ``FeatureExtractor``.

    Raises:
        ValueError: an unknown name (listing :func:`names`), or ``"domain"`` without ``real``.
        TypeError: an identifier of another type, or a callable returning something else.
        FileNotFoundError: a weights path (or the ``"inception"`` default) that is no file.

    Example:
        >>> import keras
        >>> inp = keras.Input((8, 8, 1))
        >>> net = keras.Model(inp, keras.layers.Dense(3)(keras.layers.Flatten()(inp)))
        >>> get(lambda: net).feature_dim
        3
    """
    import keras

    identifier = check(identifier)
    if isinstance(identifier, FeatureExtractor):
        return identifier
    if isinstance(identifier, keras.Model):
        return FeatureExtractor(identifier)
    if identifier is None or identifier in DATASETS:
        return FeatureExtractor(domain_classifier(identifier or "digits"))
    if identifier == "domain":
        if real is None:
            raise ValueError("extractor='domain' trains on the real images; pass them (for "
                             "example QualityMonitor(real, extractor='domain')).")
        return domain_extractor(real, labels)
    if identifier == "inception":
        return _inception_default()
    if isinstance(identifier, str):
        return inception_extractor(identifier)
    built = identifier()
    if isinstance(built, (FeatureExtractor, keras.Model)):
        return get(built)
    raise TypeError(f"An `extractor` callable must return a keras.Model or a FeatureExtractor; "
                    f"{identifier!r} returned {type(built).__name__}.")


def extract_features(images, extractor=None, batch_size=256, verbose=0, value_range=None):
    """Return the feature vectors of ``images`` with an extractor (the digits CNN by default).

    Args:
        images: array ``(n, ...)`` or iterable of batches (see ``FeatureExtractor.predict``).
        extractor: anything :func:`get` accepts.
        batch_size: images per forward pass.
        verbose: 1 shows a progress bar.
        value_range: pixel range of ``images`` (``None`` infers it).

    Returns:
        float32 array ``(n, d)``.

    Example:
        >>> import keras, numpy as np
        >>> inp = keras.Input((8, 8, 1))
        >>> net = keras.Model(inp, keras.layers.Dense(3)(keras.layers.Flatten()(inp)))
        >>> extract_features(np.zeros((5, 8, 8)), net).shape
        (5, 3)
    """
    return get(extractor).features(images, batch_size, verbose, value_range)

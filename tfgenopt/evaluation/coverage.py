"""Mode coverage: which classes a generator produces, judged by a domain classifier.

A generated image is assigned the classifier's most probable class. A class counts as covered
when it receives at least ``min_share`` of the share it has among real samples (by default a
tenth of its real frequency, and at least one image), so a few misclassified blobs do not make
a collapsed generator look diverse. The KL divergence ``KL(generated || real)`` of the class
histograms measures how far the class balance is from the real one (0 when they match), and the
mean top-class probability says how recognisable the images are.
"""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_array, check_float, check_int
from tfgenopt.evaluation import extractors

__all__ = ["mode_coverage", "mode_coverage_from_probabilities"]

_EPS = 1e-10


def _real_histogram(real_labels, num_classes):
    if real_labels is None:
        return np.full(num_classes, 1.0 / num_classes)
    labels = check_array("real_labels", real_labels, min_ndim=1)
    if labels.ndim == 2:  # one-hot or probabilities
        labels = labels.argmax(axis=1)
    labels = labels.astype(np.int64).ravel()
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"`real_labels` must be class indices in [0, {num_classes}); received "
                         f"values in [{labels.min()}, {labels.max()}].")
    return np.bincount(labels, minlength=num_classes) / labels.size


def mode_coverage_from_probabilities(probabilities, real_labels=None, min_share=0.1):
    """Return mode-coverage statistics from class probabilities of generated samples.

    Args:
        probabilities: array ``(n, num_classes)`` of classifier probabilities.
        real_labels: class indices (or one-hot / probabilities) of real samples, giving the
            reference histogram; ``None`` means uniform.
        min_share: a class is covered when its generated frequency reaches this fraction of
            its real frequency (and at least one sample), in ``[0, 1]``.

    Returns:
        dict: ``covered`` (int), ``num_classes`` (int), ``coverage`` (``covered / classes with
        real samples``), ``kl`` (``KL(generated || real)`` in nats), ``confidence`` (mean top
        probability) and ``histogram`` (generated class frequencies, ``(num_classes,)``).

    Example:
        >>> p = np.eye(10)[[3] * 50]
        >>> mode_coverage_from_probabilities(p)["covered"]
        1
    """
    probs = check_array("probabilities", probabilities, min_ndim=2)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"`probabilities` must be (n, num_classes >= 2); received {probs.shape}.")
    min_share = check_float("min_share", min_share, 0.0, 1.0)
    num_classes = probs.shape[1]
    real = _real_histogram(real_labels, num_classes)
    counts = np.bincount(probs.argmax(axis=1), minlength=num_classes)
    hist = counts / counts.sum()
    present = real > 0
    covered = (counts >= 1) & (hist >= min_share * real) & present
    kl = float(np.sum(hist * (np.log(hist + _EPS) - np.log(real + _EPS))))
    return {
        "covered": int(covered.sum()),
        "num_classes": int(num_classes),
        "coverage": float(covered.sum() / present.sum()),
        "kl": max(kl, 0.0),
        "confidence": float(probs.max(axis=1).mean()),
        "histogram": hist,
    }


def mode_coverage(images, classifier=None, real_labels=None, min_share=0.1, batch_size=256,
                  verbose=0, value_range=None):
    """Return how many classes generated ``images`` cover, per a domain classifier.

    Args:
        images: generated images (any size / value range the package uses, or flat vectors).
        classifier: ``None`` (the cached digits classifier), a ``keras.Model`` with a softmax
            output, or a ``FeatureExtractor`` built on one.
        real_labels: labels of real data for the reference histogram (``None``: uniform).
        min_share: see :func:`mode_coverage_from_probabilities`.
        batch_size: images per forward pass.
        verbose: 1 shows a progress bar.
        value_range: pixel range of ``images`` (``None`` infers it).

    Returns:
        The dict of :func:`mode_coverage_from_probabilities`.

    Example:
        Not run as a doctest: it trains the digits classifier on first use (about a minute).

        >>> x, y = tfgenopt.data.load_digits(validation_split=0, return_labels=True)  # doctest: +SKIP
        >>> mode_coverage(x, real_labels=y)["covered"]  # doctest: +SKIP
        10
    """
    check_int("batch_size", batch_size, minimum=1)
    ext = extractors.get(classifier)
    probs = ext.probabilities(images, batch_size=batch_size, verbose=verbose,
                              value_range=value_range)
    return mode_coverage_from_probabilities(probs, real_labels, min_share)

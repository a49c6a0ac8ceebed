"""Mode coverage: which classes a generator produces, judged by a domain classifier.

A generated image is assigned the classifier's most probable class. Whether a class counts as
covered is one of two rules (``rule=``), each with its threshold ``min_share``:

* ``"relative"`` (the default, ``min_share=0.25``): the class receives at least a quarter of
  the share it has among real samples (and at least one image). On balanced data of 10-12
  classes this is 2.1-2.5% of the samples, about the absolute rule below; on imbalanced data it
  follows each class: one holding 2% of the data needs 0.5% of the samples, one holding 60%
  needs 15%, so a rare class that the generator drops shows up as uncovered.
* ``"absolute"`` (``min_share=0.02``): the class receives at least 2% of the samples, whatever
  its share of the data (the benchmarks' rule; a class rarer than 2% in the data can then never
  be covered, and a dominant class is covered by a trickle).

The KL divergence ``KL(generated || real)`` of the class histograms measures how far the class
balance is from the real one (0 when they match), the mean top-class probability says how
recognisable the images are, and ``rarest`` lists the sample and data shares of the rarest
classes of the data, the ones a coverage count says least about."""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_array, check_choice, check_float, check_int
from tfgenopt.evaluation import extractors

__all__ = ["mode_coverage", "mode_coverage_from_probabilities", "check_coverage_rule",
           "DEFAULT_MIN_SHARE"]

_EPS = 1e-10
DEFAULT_MIN_SHARE = {"relative": 0.25, "absolute": 0.02}
RAREST = 3  # classes listed in ``rarest``


def check_coverage_rule(rule, min_share, rule_name="rule"):
    """Return ``(rule, min_share)`` checked, with ``min_share=None`` as the rule's default.

    Example:
        >>> check_coverage_rule("relative", None), check_coverage_rule("absolute", None)
        (('relative', 0.25), ('absolute', 0.02))
    """
    check_choice(rule_name, rule, tuple(DEFAULT_MIN_SHARE))
    if min_share is None:
        return rule, DEFAULT_MIN_SHARE[rule]
    return rule, check_float("min_share", min_share, 0.0, 1.0)


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


def mode_coverage_from_probabilities(probabilities, real_labels=None, min_share=None,
                                     rule="relative"):
    """Return mode-coverage statistics from class probabilities of generated samples.

    Args:
        probabilities: array ``(n, num_classes)`` of classifier probabilities.
        real_labels: class indices (or one-hot / probabilities) of real samples, giving the
            reference histogram; ``None`` means uniform.
        min_share: the coverage threshold in ``[0, 1]``; None: 0.25 (relative) or 0.02
            (absolute).
        rule: ``"relative"``: a class is covered when its share of the samples reaches
            ``min_share`` times its share of the real data (and at least one sample);
            ``"absolute"``: when its share of the samples reaches ``min_share``.

    Returns:
        dict: ``covered`` (int), ``num_classes`` (int), ``coverage`` (``covered / classes with
        real samples``), ``kl`` (``KL(generated || real)`` in nats), ``confidence`` (mean top
        probability), ``histogram`` (generated class frequencies, ``(num_classes,)``),
        ``real_histogram`` (the reference frequencies) and ``rarest``: for the 3 classes
        rarest in the data, ``{"class", "share", "data_share", "covered"}``, rarest first.

    Example:
        >>> p = np.eye(10)[[3] * 50]
        >>> mode_coverage_from_probabilities(p)["covered"]
        1
        >>> real = [0] * 90 + [1] * 10  # class 1 is 10% of the data, but 2% of the samples
        >>> p = np.eye(2)[[0] * 98 + [1] * 2]
        >>> [mode_coverage_from_probabilities(p, real, rule=r)["covered"]
        ...  for r in ("relative", "absolute")]
        [1, 2]
        >>> mode_coverage_from_probabilities(p, real)["rarest"][0]
        {'class': 1, 'share': 0.02, 'data_share': 0.1, 'covered': False}
    """
    probs = check_array("probabilities", probabilities, min_ndim=2)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"`probabilities` must be (n, num_classes >= 2); received {probs.shape}.")
    rule, min_share = check_coverage_rule(rule, min_share)
    num_classes = probs.shape[1]
    real = _real_histogram(real_labels, num_classes)
    counts = np.bincount(probs.argmax(axis=1), minlength=num_classes)
    hist = counts / counts.sum()
    present = real > 0
    if rule == "relative":
        covered = (counts >= 1) & (hist >= min_share * real) & present
    else:
        covered = (counts >= 1) & (hist >= min_share) & present
    kl = float(np.sum(hist * (np.log(hist + _EPS) - np.log(real + _EPS))))
    order = [int(i) for i in np.argsort(real, kind="stable") if present[i]][:RAREST]
    return {
        "covered": int(covered.sum()),
        "num_classes": int(num_classes),
        "coverage": float(covered.sum() / present.sum()),
        "kl": max(kl, 0.0),
        "confidence": float(probs.max(axis=1).mean()),
        "histogram": hist,
        "real_histogram": real,
        "rarest": [{"class": i, "share": round(float(hist[i]), 6),
                    "data_share": round(float(real[i]), 6), "covered": bool(covered[i])}
                   for i in order],
    }


def mode_coverage(images, classifier=None, real_labels=None, min_share=None, batch_size=256,
                  verbose=0, value_range=None, rule="relative"):
    """Return how many classes generated ``images`` cover, per a domain classifier.

    Args:
        images: generated images (any size / value range the package uses, or flat vectors).
        classifier: ``None`` (the cached digits classifier), a ``keras.Model`` with a softmax
            output, or a ``FeatureExtractor`` built on one.
        real_labels: labels of real data for the reference histogram (``None``: uniform).
        min_share: the threshold of ``rule`` (None: its default); see
            :func:`mode_coverage_from_probabilities`.
        batch_size: images per forward pass.
        verbose: 1 shows a progress bar.
        value_range: pixel range of ``images`` (``None`` infers it).
        rule: ``"relative"`` or ``"absolute"`` (see the module docstring).

    Returns:
        The dict of :func:`mode_coverage_from_probabilities`.

    Example:
        Not run as a doctest: it trains the digits classifier on first use (about a minute).

        >>> x, y = tfgenopt.data.load_digits(validation_split=0, return_labels=True)  # doctest: +SKIP
        >>> mode_coverage(x, real_labels=y)["covered"]  # doctest: +SKIP
        10
    """
    check_int("batch_size", batch_size, minimum=1)
    check_coverage_rule(rule, min_share)
    ext = extractors.get(classifier)
    probs = ext.probabilities(images, batch_size=batch_size, verbose=verbose,
                              value_range=value_range)
    return mode_coverage_from_probabilities(probs, real_labels, min_share, rule)

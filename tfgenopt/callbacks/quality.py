"""QualityMonitor: FID / KID / mode coverage / precision-recall of samples, written into ``logs``.

Put it BEFORE ``EarlyStopping`` (and anything else that monitors its keys) in ``callbacks``:
Keras calls callbacks in list order with one shared ``logs`` dict, so a callback listed earlier
would not see ``val_kid`` yet. The monitor announces its keys on the model
(:func:`tfgenopt.models.protocol.announce_keys`) and a tfgenopt monitor listed before it raises
at its first epoch (:class:`tfgenopt.callbacks.MonitorCallback`).
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt import catalog
from tfgenopt._registry import Registry
from tfgenopt._validation import check_int
from tfgenopt.callbacks._sample_monitor import SampleMonitor
from tfgenopt.evaluation import features as _features
from tfgenopt.evaluation.coverage import check_coverage_rule, mode_coverage_from_probabilities
from tfgenopt.evaluation.fid import fid
from tfgenopt.evaluation.kid import kid
from tfgenopt.evaluation.manifold import precision_recall
from tfgenopt.models import protocol
from tfgenopt.models._range import check_data_range

__all__ = ["QualityMonitor", "QUALITY_METRICS", "rarest_line"]

QUALITY_METRICS = Registry("quality metric")


def _measures(name):
    """Register the measuring function of ``catalog.QUALITY[name]`` under its name and aliases.

    The function returns the values of the metric's keys in the catalog's order; the keys
    themselves are written only in :data:`tfgenopt.catalog.QUALITY`.
    """
    spec = catalog.QUALITY[name]
    return QUALITY_METRICS.register(spec.name, *spec.aliases)


@_measures("fid")
def _fid(cb, feats, probs):
    return (fid(cb._real_features, feats),)


@_measures("kid")
def _kid(cb, feats, probs):
    size = cb.kid_subset_size or 1000
    mean, std = kid(cb._real_features, feats, subsets=cb.kid_subsets, subset_size=size,
                    seed=cb.seed)
    return mean, std


@_measures("coverage")
def _coverage(cb, feats, probs):
    if probs is None:
        raise ValueError("metric 'coverage' needs an extractor with a softmax output (a "
                         "classifier); the one given has none.")
    stats = mode_coverage_from_probabilities(probs, cb._real_classes, cb.min_share,
                                             cb.coverage_rule)
    cb._rarest = stats["rarest"]
    return stats["coverage"], stats["kl"], stats["confidence"]


def rarest_line(rarest, class_names=None):
    """``rarest`` classes (from ``mode_coverage_from_probabilities``) in one line of text.

    Example:
        >>> rarest_line([{"class": 2, "share": 0.004, "data_share": 0.022, "covered": False}],
        ...             ["cat", "dog", "emu"])
        'rarest classes, share of samples (of data): emu 0.4% (2.2%) uncovered'
    """
    def name(i):
        return str(class_names[i]) if class_names is not None else f"class {i}"

    return "rarest classes, share of samples (of data): " + ", ".join(
        f"{name(r['class'])} {r['share']:.1%} ({r['data_share']:.1%})"
        + ("" if r["covered"] else " uncovered") for r in rarest)


@_measures("precision_recall")
def _precision_recall(cb, feats, probs):
    r = precision_recall(cb._real_features, feats, k=cb.k)
    return r["precision"], r["recall"], r["density"]



def _check_domain(metrics, labels):
    """``extractor="domain"``: a classifier needs 2+ label classes; coverage needs labels."""
    if labels is not None and len(np.unique(labels)) < 2:
        raise ValueError(f"extractor='domain' trains a classifier on `labels`, which hold one "
                         f"class only ({np.unique(labels).tolist()}); pass labels of 2+ classes, "
                         "or no labels (a reconstruction encoder, without 'coverage').")
    if labels is None and "coverage" in metrics:
        raise ValueError("metric 'coverage' with extractor='domain' needs `labels` (the domain "
                         "extractor is a classifier only when it has labels); pass "
                         "(images, labels) or drop 'coverage' from `metrics`.")


@keras.saving.register_keras_serializable(package="tfgenopt")
class QualityMonitor(SampleMonitor):
    """Measure sample quality every ``every`` epochs and write it into ``logs``.

    At the end of an evaluated epoch it draws ``n_samples`` images with
    ``model.generate(n, seed=seed)`` (the GAN's EMA generator when it has one; the VAE samples
    its prior), extracts their features and class probabilities in one batched pass, and
    writes the asked-for keys: ``val_fid``; ``val_kid``, ``val_kid_std``; ``val_coverage``
    (fraction of real classes covered, by ``coverage_rule``), ``val_class_kl``,
    ``val_confidence``;
    ``val_precision``, ``val_recall``, ``val_density``. The same ``seed`` every epoch gives the
    same latent codes, so the curve shows the model changing, not the noise.

    With coverage, :attr:`class_shares` keeps, per measured epoch, the sample and data shares
    of the 3 classes rarest in the data (``{epoch: [{"class", "share", "data_share",
    "covered"}]}``), and ``verbose=1`` prints them in one line: a coverage count says least
    about those.

    Real features are computed once per run (``on_train_begin``). The extractor is built or
    loaded on first use and kept (and shared by deep copies).

    With ``every=k`` it measures at the end of epochs ``k, 2k, 3k, ...`` (counted from 1, as
    ``SampleGrid`` and ``LossLandscape`` do: ``tfgenopt.catalog.due_at_epoch_end``) and of the
    last epoch, and also at the end of the first epoch of each run (also with
    ``initial_epoch``), so its keys are in ``logs`` from the start. Skipped epochs: the keys
    carry the last measured values, so ``History`` stays aligned with epochs and
    ``EarlyStopping`` / Keras Tuner find the key every epoch. Carried keys are listed in ``model.carried_log_keys`` (see
    ``tfgenopt.models.protocol``), so ``EarlyStopping`` never picks an unmeasured epoch as the
    best one. It counts patience in epochs, so with ``every=k`` use a patience of at least
    ``k``; :attr:`history` keeps only the freshly measured values, by epoch.

    Must come before ``EarlyStopping`` (or any callback monitoring these keys) in
    ``callbacks``: it announces its keys in ``on_train_begin``
    (:func:`tfgenopt.models.protocol.announce_keys`), and tfgenopt's monitors
    (``EarlyStopping``, ``ReduceLROnPlateau``) listed before it raise ``ValueError`` at their
    first epoch. Keras' own callbacks do not take part in that check (they warn that the key is
    missing).

    Args:
        real_data: real images ``(n, ...)`` (any digit size / value range, or flat vectors), or
            ``(images, labels)``; labels give the reference class histogram for coverage
            (otherwise the classifier's predictions on the real images do).
        metrics: any of ``"fid"``, ``"kid"``, ``"coverage"``, ``"precision_recall"`` (also
            spelled ``"precision"`` or ``"recall"``).
        every: measure at the end of epochs ``every``, ``2 * every``, ... (and the first and
            last epoch of the run).
        n_samples: generated images per measurement (default ``min(len(real_data), 1000)``).
        extractor: ``None`` (the cached digits classifier), a dataset name, ``"domain"`` (a
            small network trained on ``real_data`` on first use and cached by a fingerprint of
            it: a classifier with ``labels``, else a reconstruction encoder, which gives no
            ``"coverage"``; see ``tfgenopt.evaluation.domain_extractor``), ``"inception"`` or
            a local InceptionV3 weights path, a ``keras.Model`` or a ``FeatureExtractor``.
        seed: seed of the generated samples and of KID's subsets.
        batch_size: images per forward pass of the extractor.
        kid_subsets: KID subsets per measurement.
        kid_subset_size: KID subset size (default ``min(n_real, n_samples, 1000)``).
        k: neighbour rank of the precision / recall balls.
        min_share: coverage threshold of ``coverage_rule`` (None: 0.25 relative, 0.02
            absolute; see ``tfgenopt.evaluation.coverage``).
        coverage_rule: ``"relative"`` (a class is covered when its share of the samples is at
            least ``min_share`` times its share of the data) or ``"absolute"`` (at least
            ``min_share`` of the samples).
        value_range: pixel range of the real images and of the model's samples; ``None`` infers
            it from the real images (the model is trained on the same range).
        verbose: 1 shows the feature-extraction progress bars.
        sample_fn: a callable ``fn(n, seed)`` returning ``n`` samples, for a model without
            ``generate``; None samples through ``tfgenopt.models.protocol.sampler`` (a
            keras.io-style ``generator`` attribute with ``latent_dim`` works as is).

    The real images must lie in the generator's output range (sigmoid: [0, 1], tanh:
    [-1, 1]); ``on_train_begin`` raises ``ValueError`` otherwise.

    Example:
        Not run as a doctest: the default extractor trains the digits classifier on first use
        (about a minute).

        >>> x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)  # doctest: +SKIP
        >>> gan.fit(x_train, epochs=20, callbacks=[
        ...     tg.callbacks.QualityMonitor(x_val, metrics=("fid", "kid")),
        ...     tg.callbacks.EarlyStopping(monitor="val_kid", patience=5)])  # doctest: +SKIP
    """

    reference_arg = "real_data"

    def __init__(self, real_data, metrics=("fid", "kid", "coverage"), every=1, n_samples=None,
                 extractor=None, seed=0, batch_size=256, kid_subsets=20, kid_subset_size=None,
                 k=3, min_share=None, value_range=None, labels=None, verbose=0, sample_fn=None,
                 coverage_rule="relative"):
        super().__init__(real_data, labels, every, n_samples, extractor, seed, batch_size,
                         value_range, verbose, sample_fn)
        if isinstance(metrics, str):
            metrics = (metrics,)
        metrics = tuple(metrics)
        if not metrics:
            raise ValueError(f"`metrics` must name at least one of {QUALITY_METRICS.names()}.")
        for name in metrics:
            QUALITY_METRICS.get(name, "metrics")
        metrics = tuple(dict.fromkeys(catalog.quality_metric(name).name for name in metrics))
        self.kid_subsets = check_int("kid_subsets", kid_subsets, minimum=1)
        if kid_subset_size is not None:
            kid_subset_size = check_int("kid_subset_size", kid_subset_size, minimum=2)
        self.k = check_int("k", k, minimum=1)
        self.coverage_rule, self.min_share = check_coverage_rule(coverage_rule, min_share,
                                                                 "coverage_rule")
        if isinstance(self.extractor, str) and self.extractor == "domain":
            _check_domain(metrics, self._real_y)
        self.metrics = metrics
        self.kid_subset_size = kid_subset_size
        self._reset()

    def _reset(self):
        self.history = {}
        self.evaluated_epochs = []
        self._last = {}
        self._real_features = None
        self._real_classes = None
        self._range = None
        self._sample = None
        self._rarest = None
        self.class_shares = {}

    @property
    def log_keys(self):
        """The ``logs`` keys this monitor writes, in order."""
        return tuple(key for name in self.metrics for key in catalog.QUALITY[name].keys)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        protocol.set_carried_keys(self.model, ())
        self._sample = protocol.sampler(self.model, self.sample_fn, "QualityMonitor")
        check_data_range(self.model, self._real_x, "real_data", "QualityMonitor")
        self._load_extractor()
        if "coverage" in self.metrics and self._extractor.probability_output is None:
            raise ValueError("metric 'coverage' needs an extractor with a softmax output.")
        self._range = self.value_range or _features.infer_value_range(self._real_x)
        feats, probs = self._extractor.predict(self._real_x, self.batch_size, self.verbose,
                                               self._range)
        self._real_features = feats
        if probs is not None:
            self._real_classes = probs.argmax(axis=1) if self._real_y is None else self._real_y
        protocol.announce_keys(self.model, self, self.log_keys)  # once set up: the order contract

    def measure(self):
        """Generate samples now and return the metric values (a dict of log keys -> floats).

        Returns:
            ``{key: float}`` for :attr:`log_keys`; all NaN when the samples are not finite.

        Example:
            Not run as a doctest: it needs a monitor inside ``fit`` (see the class example).

            >>> monitor.measure()["val_fid"]  # doctest: +SKIP
        """
        if self._real_features is None:
            raise RuntimeError("QualityMonitor.measure() runs after on_train_begin.")
        self._rarest = None
        n = self.n_samples or min(len(self._real_x), 1000)
        images = self._sample(n, seed=self.seed)
        if not np.all(np.isfinite(images)):  # a diverged model: no meaningful quality
            return {key: float("nan") for key in self.log_keys}
        feats, probs = self._extractor.predict(images, self.batch_size, self.verbose, self._range)
        values = {}
        for name in self.metrics:
            values.update(zip(catalog.QUALITY[name].keys,
                              QUALITY_METRICS.get(name)(self, feats, probs), strict=True))
        return {key: float(values[key]) for key in self.log_keys}

    def on_epoch_end(self, epoch, logs=None):
        due = self._due(epoch)
        if due:
            self._last = self.measure()
            self.evaluated_epochs.append(int(epoch))
            for key, value in self._last.items():
                self.history.setdefault(key, []).append(value)
            if self._rarest is not None:
                self.class_shares[int(epoch)] = self._rarest
                if self.verbose:
                    print(f"QualityMonitor epoch {epoch + 1}: {rarest_line(self._rarest)}")
        # Later callbacks must not take a carried value for this epoch's weights.
        protocol.set_carried_keys(self.model, () if due else self._last)
        if logs is not None:
            logs.update(self._last)

    def get_config(self):
        return {**super().get_config(), "metrics": list(self.metrics),
                "kid_subsets": self.kid_subsets, "kid_subset_size": self.kid_subset_size,
                "k": self.k, "min_share": self.min_share, "coverage_rule": self.coverage_rule}

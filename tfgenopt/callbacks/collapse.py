"""CollapseMonitor: detect a collapsed GAN (mode coverage, sample diversity, discriminator
loss), and act.

At due epochs it draws samples with ``model.generate(n, seed=seed)``, runs them through the
domain classifier once (class probabilities for mode coverage, penultimate features for
diversity), measures their raw spread (:func:`sample_diversity`) and reads the discriminator's
loss from ``logs``, each where asked, and decides whether the GAN has collapsed. Then it either
stops the run with the reason recorded, or applies a named remedy and carries on. It is the
toolkit's one collapse detector (``EarlyStopping`` stops on no improvement and divergence).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.callbacks._monitor import read_value, warn_missing
from tfgenopt.callbacks._optimizers import get_lr, has_schedule, set_lr
from tfgenopt.callbacks._sample_monitor import SampleMonitor
from tfgenopt.evaluation import features as _features
from tfgenopt.evaluation.coverage import mode_coverage_from_probabilities
from tfgenopt.models import protocol

__all__ = ["CollapseMonitor", "default_min_classes", "sample_diversity"]

#: Every key a CollapseMonitor may write (``log_keys``: those of one monitor's checks).
LOG_KEYS = ("val_coverage", "val_coverage_count", "val_diversity", "collapse",
            "collapse_remedies", "sample_diversity")
CLASSIFIER_KEYS = LOG_KEYS[:3]


def sample_diversity(samples):
    """Mean pairwise Euclidean distance between samples, divided by ``sqrt(features)``.

    The per-feature root-mean-square distance: 0 when every sample is the same (mode collapse);
    about ``sqrt(2) * std`` for independent samples of a distribution with that spread.

    Args:
        samples: array ``(n, ...)`` with ``n >= 2``.

    Returns:
        A Python float.

    Example:
        >>> sample_diversity(np.zeros((8, 4)))
        0.0
    """
    x = np.asarray(keras.ops.convert_to_numpy(samples), dtype=np.float64)
    if x.ndim < 2 or x.shape[0] < 2:
        raise ValueError(f"`samples` must hold at least 2 samples; received shape {x.shape}.")
    x = x.reshape(x.shape[0], -1)
    sq = np.sum(x * x, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
    n = x.shape[0]
    mean = np.sqrt(d2)[~np.eye(n, dtype=bool)].mean()
    return float(mean / math.sqrt(x.shape[1]))


def default_min_classes(num_classes):
    """The default ``min_classes``: 80% of the reference's classes, rounded up (8 of 10).

    Example:
        >>> default_min_classes(10), default_min_classes(3)
        (8, 3)
    """
    return max(1, int(np.ceil(0.8 * num_classes - 1e-9)))


@keras.saving.register_keras_serializable(package="tfgenopt")
class CollapseMonitor(SampleMonitor):
    """Watch a GAN for collapse; stop the run or apply a remedy.

    At the end of due epochs (``every=k``: epochs ``k, 2k, ...`` and the last one, see
    ``tfgenopt.catalog.due_at_epoch_end``) it checks, each where asked:

    * **coverage** (``min_classes``): how many classes ``n_samples`` samples from a fixed seed
      cover, by the domain classifier (``mode_coverage_from_probabilities``, the rule of
      ``QualityMonitor``'s ``val_coverage``), against the reference labels, or the
      classifier's labels of the reference images, or (no reference) all its classes;
    * **feature diversity** (``threshold``): the mean pairwise distance of the samples'
      classifier features divided by that of the reference images (1 for samples as varied as
      the data, 0 for one repeated image); only with a reference;
    * **sample diversity** (``diversity_floor``): the raw spread of the samples
      (:func:`sample_diversity`, no classifier, no reference), logged as ``sample_diversity``;
    * **discriminator collapse** (``d_loss_floor``): the logged ``d_loss_key`` below the floor
      (the discriminator wins outright); it needs no samples.

    The GAN has collapsed when any asked-for check fails, for ``patience`` measured epochs in
    a row, from epoch index ``start_epoch`` on (an untrained generator is not "collapsed",
    just untrained). ``min_classes=0`` and ``threshold=0`` turn the two classifier checks off;
    with both off the classifier is never built, and with ``diversity_floor`` also None the
    model is never sampled (``CollapseMonitor(min_classes=0, threshold=0, d_loss_floor=1e-3)``
    watches the discriminator's loss only).

    * ``action="stop"``: sets ``model.stop_training``; :attr:`reason` (also
      ``stopped_reason`` and ``model.stop_reason``) says why.
    * ``action="remedy"``: restores every network's weights (``model.networks()``) from the
      last healthy measured epoch, multiplies every optimizer's learning rate
      (``model.optimizers_by_name()``) by ``lr_factor``, and raises the augmentation
      probability of ``model.augmenter`` (anything with a ``p`` variable, e.g.
      ``tfgenopt.augment.AdaptiveAugment``) by ``augment_step``. Each remedy is recorded in
      :attr:`remedies`; after ``max_remedies`` the next collapse stops the run.

    Logs (every epoch; skipped epochs carry the last values, listed in
    ``model.carried_log_keys``): with the classifier, ``val_coverage`` (fraction of reference
    classes covered; not overwritten when an earlier ``QualityMonitor`` already wrote it this
    epoch), ``val_coverage_count`` (classes covered) and ``val_diversity``; with
    ``diversity_floor``, ``sample_diversity``; always ``collapse`` (1.0 on a collapsed epoch,
    else 0.0) and ``collapse_remedies`` (remedies applied so far).

    Args:
        x_reference: real images ``(n, ...)``, ``(images, labels)``, or None (coverage only,
            against a uniform histogram over the classifier's classes).
        every: measure every ``every`` epochs.
        min_classes: the fewest covered classes that count as healthy; None uses
            :func:`default_min_classes` of the reference's class count (8 for 10 classes);
            0 turns the coverage check off.
        threshold: the feature-diversity ratio below which samples count as collapsed, in
            [0, 1); 0 turns the check off.
        action: ``"stop"`` or ``"remedy"``.
        patience: collapsed measurements in a row before acting.
        start_epoch: first epoch index at which the callback may act (it measures before).
        lr_factor: learning-rate multiplier of the remedy, in (0, 1].
        augment_step: how much the remedy raises ``model.augmenter.p`` (clipped to 1).
        max_remedies: remedies before a collapse stops the run.
        n_samples: samples per measurement (default ``min(len(x_reference), 500)``, or 500).
        extractor: as in ``QualityMonitor`` (None: the cached digits classifier).
        labels: labels of ``x_reference`` (or pass ``(images, labels)``).
        min_share: coverage threshold per class (see ``mode_coverage_from_probabilities``).
        value_range: pixel range of samples and reference (None: inferred from the reference,
            or from each batch of samples without one).
        seed: seed of the generated samples.
        batch_size: images per classifier pass.
        verbose: 1 prints each stop and remedy.
        sample_fn: a callable ``fn(n, seed)`` returning ``n`` samples, for a model without
            ``generate`` (see ``tfgenopt.models.protocol.sampler``; a keras.io-style
            ``generator`` with ``latent_dim`` works without it).
        diversity_floor: collapsed when :func:`sample_diversity` of the samples is below this
            (None: not checked).
        d_loss_floor: collapsed when ``logs[d_loss_key]`` is below this (None: not checked).
        d_loss_key: the logged discriminator loss.

    Example:
        >>> cb = CollapseMonitor(action="remedy", lr_factor=0.5, start_epoch=5)
        >>> cb.action, cb.max_remedies
        ('remedy', 3)
        >>> CollapseMonitor(min_classes=0, threshold=0.0, d_loss_floor=1e-3, patience=3).log_keys
        ('collapse', 'collapse_remedies')

        In a run (skipped here: it needs a GAN and trains the digit classifier on first use):

        >>> x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)  # doctest: +SKIP
        >>> gan.fit(x_train, epochs=50, callbacks=[
        ...     tg.callbacks.CollapseMonitor(x_val, action="remedy", start_epoch=5)])  # doctest: +SKIP
    """

    reference_arg = "x_reference"
    reference_required = False

    def __init__(self, x_reference=None, every=1, min_classes=None, threshold=0.5,
                 action="stop", patience=1, start_epoch=0, lr_factor=0.5, augment_step=0.2,
                 max_remedies=3, n_samples=None, extractor=None, labels=None, min_share=0.1,
                 value_range=None, seed=0, batch_size=256, verbose=0, sample_fn=None,
                 diversity_floor=None, d_loss_floor=None, d_loss_key="d_loss"):
        super().__init__(x_reference, labels, every, n_samples, extractor, seed, batch_size,
                         value_range, verbose, sample_fn)
        if self._real_y is not None:
            self._real_y = self._real_y.astype(np.int64).ravel()
        self.min_classes = None if min_classes is None else check_int("min_classes",
                                                                       min_classes, minimum=0)
        self.threshold = check_float("threshold", threshold, 0.0, 1.0, max_inclusive=False)
        self.action = check_choice("action", action, ("stop", "remedy"))
        self.patience = check_int("patience", patience, minimum=1)
        self.start_epoch = check_int("start_epoch", start_epoch, minimum=0)
        self.lr_factor = check_float("lr_factor", lr_factor, 0.0, 1.0, min_inclusive=False)
        self.augment_step = check_float("augment_step", augment_step, 0.0, 1.0)
        self.max_remedies = check_int("max_remedies", max_remedies, minimum=0)
        self.min_share = check_float("min_share", min_share, 0.0, 1.0)
        self.diversity_floor = (None if diversity_floor is None
                                else check_float("diversity_floor", diversity_floor, 0.0))
        self.d_loss_floor = (None if d_loss_floor is None
                             else check_float("d_loss_floor", d_loss_floor))
        if not isinstance(d_loss_key, str) or not d_loss_key:
            raise TypeError(f"`d_loss_key` must be a non-empty string; received {d_loss_key!r}.")
        self.d_loss_key = d_loss_key
        self._reset()

    @property
    def reason(self):
        """Why the monitor stopped the run (None while it has not)."""
        return self.stopped_reason

    @property
    def uses_classifier(self):
        """Whether the coverage or feature-diversity check is on (the classifier is needed)."""
        return self.min_classes != 0 or self.threshold > 0.0

    @property
    def log_keys(self):
        """The ``logs`` keys this monitor writes, in order."""
        skip = (() if self.uses_classifier else CLASSIFIER_KEYS) + (
            ("sample_diversity",) if self.diversity_floor is None else ())
        return tuple(k for k in LOG_KEYS if k not in skip)

    def _reset(self):
        self.remedies = []
        self.history = {}
        self.evaluated_epochs = []
        self._last = {}
        self._streak = 0
        self._healthy_weights = None
        self._healthy_epoch = None
        self._warned_d_loss = False
        self._reference = None  # (class labels or None, num_classes, diversity scale)

    # ------------------------------------------------------------------------ measuring
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        self._sample = None
        if self.uses_classifier or self.diversity_floor is not None:
            self._sample = protocol.sampler(self.model, self.sample_fn, "CollapseMonitor")
        if self.uses_classifier and self._load_extractor().probability_output is None:
            raise ValueError("CollapseMonitor needs an extractor with a softmax output (a "
                             "classifier) to measure class coverage; or pass min_classes=0 "
                             "and threshold=0.")
        protocol.announce_keys(self.model, self, self.log_keys)  # set up: the order contract
        if self._real_x is None or not self.uses_classifier:
            self._reference = (None, None, None)
            return
        vr = self.value_range or _features.infer_value_range(self._real_x)
        n = min(len(self._real_x), self.n_samples or 500)
        feats, probs = self._extractor.predict(self._real_x, self.batch_size, self.verbose, vr)
        classes = probs.argmax(axis=1) if self._real_y is None else self._real_y
        self._reference = (classes, len(np.unique(classes)), sample_diversity(feats[:n]))

    def measure(self):
        """Generate samples now and measure what the asked-for checks need.

        Returns:
            A dict of floats: with the classifier ``{"covered", "coverage", "diversity"}``
            (``diversity`` is NaN without a reference), with ``diversity_floor``
            ``"sample_diversity"``; all NaN for non-finite samples; empty when nothing is
            sampled.

        Example (skipped: it needs the callback attached to a model in ``fit``):
            >>> monitor.measure()["covered"]  # doctest: +SKIP
            10.0
        """
        if self._reference is None:
            raise RuntimeError("CollapseMonitor.measure() runs after on_train_begin.")
        if self._sample is None:
            return {}
        classes, _, scale = self._reference
        n = self.n_samples or (500 if self._real_x is None else min(len(self._real_x), 500))
        images = self._sample(n, seed=self.seed)
        keys = (("covered", "coverage", "diversity") if self.uses_classifier else ()) + (
            () if self.diversity_floor is None else ("sample_diversity",))
        if not np.all(np.isfinite(images)):
            return dict.fromkeys(keys, float("nan"))
        values = {}
        if self.diversity_floor is not None:
            values["sample_diversity"] = sample_diversity(images)
        if self.uses_classifier:
            vr = self.value_range or _features.infer_value_range(
                images if self._real_x is None else self._real_x)
            feats, probs = self._extractor.predict(images, self.batch_size, self.verbose, vr)
            stats = mode_coverage_from_probabilities(probs, classes, self.min_share)
            diversity = (float("nan") if scale is None
                         else sample_diversity(feats) / max(scale, 1e-12))
            values.update(covered=float(stats["covered"]), coverage=stats["coverage"],
                          diversity=float(diversity))
        return {key: float(values[key]) for key in keys}

    def _min_classes(self):
        if self.min_classes is not None:
            return self.min_classes
        num_classes = self._reference[1]
        if num_classes is None:
            num_classes = int(self._extractor.probability_output.shape[-1])
        return default_min_classes(num_classes)

    def _collapse_reason(self, values):
        """Why the samples (:meth:`measure`'s ``values``) count as collapsed, or None."""
        if not all(np.isfinite(values[k]) for k in ("covered", "sample_diversity")
                   if k in values):
            return "the generated samples are not finite"
        found = []
        if "covered" in values:
            covered, diversity, mode = values["covered"], values["diversity"], []
            if covered < self._min_classes():
                mode.append(f"the samples cover {int(covered)} classes, fewer than "
                            f"min_classes={self._min_classes()}")
            if np.isfinite(diversity) and diversity < self.threshold:
                mode.append(f"their diversity is {diversity:.3f} of the reference's, below "
                            f"threshold={self.threshold}")
            if mode:
                found.append("mode collapse: " + " and ".join(mode))
        if "sample_diversity" in values and values["sample_diversity"] < self.diversity_floor:
            found.append(f"generator collapse: sample diversity {values['sample_diversity']:.4g}"
                         f" is below diversity_floor={self.diversity_floor:g}")
        return "; ".join(found) or None

    def _d_loss_reason(self, logs):
        """Why ``logs`` say the discriminator collapsed (``d_loss_floor``), or None."""
        if self.d_loss_floor is None:
            return None
        d = read_value(logs, self.d_loss_key)
        if d is None and not self._warned_d_loss:
            self._warned_d_loss = True
            warn_missing("CollapseMonitor", self.d_loss_key, logs)
        if d is None or d >= self.d_loss_floor:
            return None
        return (f"discriminator collapse: {self.d_loss_key}={d:.4g} is below "
                f"d_loss_floor={self.d_loss_floor:g}")

    # --------------------------------------------------------------------------- acting
    def _lower_learning_rates(self):
        changed = {}
        for name, opt in protocol.optimizers(self.model).items():
            if has_schedule(opt):
                continue  # a schedule cannot be assigned; left as it is
            new = get_lr(opt) * self.lr_factor
            set_lr(opt, new)
            changed[protocol.lr_log_key(name)] = new
        return changed

    def _raise_augmentation(self):
        """Hook: raise ``model.augmenter.p`` by ``augment_step``; returns the new p or None."""
        augmenter = getattr(self.model, "augmenter", None)
        p = getattr(augmenter, "p", None)
        if p is None or not hasattr(p, "assign"):
            return None
        new = min(1.0, float(keras.ops.convert_to_numpy(p)) + self.augment_step)
        p.assign(new)
        return new

    def _remedy(self, epoch, reason):
        actions = []
        if self._healthy_weights is not None:
            self._restore(self._healthy_weights)
            actions.append(f"restored the weights of epoch {self._healthy_epoch + 1}")
        lrs = self._lower_learning_rates()
        if lrs:
            actions.append(f"multiplied the learning rates by {self.lr_factor} ({lrs})")
        p = self._raise_augmentation()
        if p is not None:
            actions.append(f"raised the augmentation probability to {p:.3f}")
        self.remedies.append({"epoch": int(epoch), "reason": reason, "actions": actions})
        self._streak = 0
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: {reason}; remedy: {'; '.join(actions) or 'none'}.")

    def on_epoch_end(self, epoch, logs=None):
        if self._due(epoch):
            values = self.measure()
            self.evaluated_epochs.append(int(epoch))
            reason = "; ".join(r for r in (self._collapse_reason(values),
                                           self._d_loss_reason(logs)) if r) or None
            collapsed = reason is not None and epoch >= self.start_epoch
            self._streak = self._streak + 1 if collapsed else 0
            if reason is None:
                self._healthy_weights, self._healthy_epoch = self._snapshot(), int(epoch)
            elif self._streak >= self.patience:
                if self.action == "remedy" and len(self.remedies) < self.max_remedies:
                    self._remedy(epoch, reason)
                else:
                    if self.action == "remedy":
                        reason += f" (after {len(self.remedies)} remedies)"
                    self._stop(epoch, reason)
            self._last = {}
            if "covered" in values:
                self._last.update(val_coverage=values["coverage"],
                                  val_coverage_count=values["covered"],
                                  val_diversity=values["diversity"])
            if "sample_diversity" in values:
                self._last["sample_diversity"] = values["sample_diversity"]
            self._last["collapse"] = 1.0 if collapsed else 0.0
            for key, value in self._last.items():
                self.history.setdefault(key, []).append(value)
        else:  # later callbacks must not take these carried values as this epoch's
            carried = protocol.carried_keys(self.model) | set(self._last)
            protocol.set_carried_keys(self.model, carried)
        if logs is not None:
            # an earlier QualityMonitor's val_coverage (same rule, its own samples) is kept
            logs.update({k: v for k, v in self._last.items()
                         if not (k == "val_coverage" and k in logs)})
            logs["collapse_remedies"] = float(len(self.remedies))

    def get_config(self):
        return {**super().get_config(), "min_classes": self.min_classes,
                "threshold": self.threshold, "action": self.action, "patience": self.patience,
                "start_epoch": self.start_epoch, "lr_factor": self.lr_factor,
                "augment_step": self.augment_step, "max_remedies": self.max_remedies,
                "min_share": self.min_share, "diversity_floor": self.diversity_floor,
                "d_loss_floor": self.d_loss_floor, "d_loss_key": self.d_loss_key}

"""CollapseMonitor: detect mode collapse from class coverage and sample diversity, and act.

At due epochs it draws samples with ``model.generate(n, seed=seed)``, runs them through the
domain classifier once (class probabilities for mode coverage, penultimate features for
diversity) and decides whether the generator has collapsed. Then it either stops the run with
the reason recorded, or applies a named remedy and carries on.
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_value_range,
)
from tfgenopt.callbacks._copy import deepcopy_sharing
from tfgenopt.callbacks._monitor import MonitorCallback
from tfgenopt.callbacks._optimizers import get_lr, has_schedule, set_lr
from tfgenopt.callbacks.early_stopping import sample_diversity
from tfgenopt.evaluation import extractors
from tfgenopt.evaluation import features as _features
from tfgenopt.evaluation.coverage import mode_coverage_from_probabilities
from tfgenopt.models import protocol

__all__ = ["CollapseMonitor", "default_min_classes"]

LOG_KEYS = ("val_coverage", "val_coverage_count", "val_diversity", "collapse",
            "collapse_remedies")
_SHARED = ("_real_x", "_real_y", "_extractor", "extractor", "sample_fn")


def default_min_classes(num_classes):
    """The default ``min_classes``: 80% of the reference's classes, rounded up (8 of 10).

    Example:
        >>> default_min_classes(10), default_min_classes(3)
        (8, 3)
    """
    return max(1, int(np.ceil(0.8 * num_classes - 1e-9)))


@keras.saving.register_keras_serializable(package="tfgenopt")
class CollapseMonitor(MonitorCallback):
    """Watch generated samples for mode collapse; stop the run or apply a remedy.

    At the end of due epochs (``every=k``: epochs ``k, 2k, ...`` and the last one, see
    ``tfgenopt.catalog.due_at_epoch_end``) it generates ``n_samples`` samples from a fixed seed
    and measures, with the domain classifier:

    * **coverage**: how many classes the samples cover (``mode_coverage_from_probabilities``,
      the same rule as ``QualityMonitor``'s ``val_coverage``), against the reference labels,
      or the classifier's labels of the reference images, or (no reference) all its classes;
    * **diversity**: the mean pairwise distance of the samples' classifier features divided
      by that of the reference images (1 for samples as varied as the data, 0 for one
      repeated image); only with a reference.

    The generator has collapsed when fewer than ``min_classes`` classes are covered or the
    diversity is below ``threshold``, for ``patience`` measured epochs in a row, from epoch
    index ``start_epoch`` on (an untrained generator is not "collapsed", just untrained).

    * ``action="stop"``: sets ``model.stop_training``; :attr:`reason` (also
      ``stopped_reason`` and ``model.stop_reason``) says why.
    * ``action="remedy"``: restores every network's weights (``model.networks()``) from the
      last healthy measured epoch, multiplies every optimizer's learning rate
      (``model.optimizers_by_name()``) by ``lr_factor``, and raises the augmentation
      probability of ``model.augmenter`` (anything with a ``p`` variable, e.g.
      ``tfgenopt.augment.AdaptiveAugment``) by ``augment_step``. Each remedy is recorded in
      :attr:`remedies`; after ``max_remedies`` the next collapse stops the run.

    Logs (every epoch; skipped epochs carry the last values, listed in
    ``model.carried_log_keys``): ``val_coverage`` (fraction of reference classes covered; not
    overwritten when an earlier ``QualityMonitor`` already wrote it this epoch),
    ``val_coverage_count`` (classes covered), ``val_diversity``, ``collapse`` (1.0 on a
    collapsed epoch, else 0.0) and ``collapse_remedies`` (remedies applied so far).

    Args:
        x_reference: real images ``(n, ...)``, ``(images, labels)``, or None (coverage only,
            against a uniform histogram over the classifier's classes).
        every: measure every ``every`` epochs.
        min_classes: the fewest covered classes that count as healthy; None uses
            :func:`default_min_classes` of the reference's class count (8 for 10 classes).
        threshold: the diversity ratio below which samples count as collapsed, in [0, 1).
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

    Example:
        >>> cb = CollapseMonitor(action="remedy", lr_factor=0.5, start_epoch=5)
        >>> cb.action, cb.max_remedies
        ('remedy', 3)

        In a run (skipped here: it needs a GAN and trains the digit classifier on first use):

        >>> x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)  # doctest: +SKIP
        >>> gan.fit(x_train, epochs=50, callbacks=[
        ...     tg.callbacks.CollapseMonitor(x_val, action="remedy", start_epoch=5)])  # doctest: +SKIP
    """

    def __init__(self, x_reference=None, every=1, min_classes=None, threshold=0.5,
                 action="stop", patience=1, start_epoch=0, lr_factor=0.5, augment_step=0.2,
                 max_remedies=3, n_samples=None, extractor=None, labels=None, min_share=0.1,
                 value_range=None, seed=0, batch_size=256, verbose=0, sample_fn=None):
        super().__init__(monitor=None, verbose=verbose)
        self.sample_fn = protocol.check_sample_fn(sample_fn)
        if isinstance(x_reference, tuple) and len(x_reference) == 2 and labels is None:
            x_reference, labels = x_reference
        x = None
        if x_reference is not None:
            x = check_array("x_reference", x_reference)
            if x.shape[0] < 2:
                raise ValueError(f"`x_reference` needs at least 2 samples; received {x.shape[0]}.")
        if labels is not None:
            if x is None:
                raise ValueError("`labels` needs `x_reference`.")
            labels = check_array("labels", labels, min_ndim=1).astype(np.int64).ravel()
            if labels.shape[0] != x.shape[0]:
                raise ValueError(f"`labels` must have one entry per reference sample "
                                 f"({x.shape[0]}); received {labels.shape[0]}.")
        self.every = check_int("every", every, minimum=1)
        self.min_classes = None if min_classes is None else check_int("min_classes",
                                                                       min_classes, minimum=1)
        self.threshold = check_float("threshold", threshold, 0.0, 1.0, max_inclusive=False)
        self.action = check_choice("action", action, ("stop", "remedy"))
        self.patience = check_int("patience", patience, minimum=1)
        self.start_epoch = check_int("start_epoch", start_epoch, minimum=0)
        self.lr_factor = check_float("lr_factor", lr_factor, 0.0, 1.0, min_inclusive=False)
        self.augment_step = check_float("augment_step", augment_step, 0.0, 1.0)
        self.max_remedies = check_int("max_remedies", max_remedies, minimum=0)
        self.n_samples = None if n_samples is None else check_int("n_samples", n_samples,
                                                                  minimum=2)
        self.min_share = check_float("min_share", min_share, 0.0, 1.0)
        self.value_range = (None if value_range is None
                            else check_value_range("value_range", value_range))
        self.seed = check_int("seed", seed)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.extractor = extractors.check(extractor)
        self._real_x, self._real_y = x, labels
        self._extractor = None
        self._reset()

    @property
    def reason(self):
        """Why the monitor stopped the run (None while it has not)."""
        return self.stopped_reason

    def _reset(self):
        self.remedies = []
        self.history = {}
        self.evaluated_epochs = []
        self._last = {}
        self._streak = 0
        self._healthy_weights = None
        self._healthy_epoch = None
        self._reference = None  # (class labels or None, num_classes, diversity scale)

    def __deepcopy__(self, memo):
        return deepcopy_sharing(self, memo, _SHARED)

    # ------------------------------------------------------------------------ measuring
    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        self._sample = protocol.sampler(self.model, self.sample_fn, "CollapseMonitor")
        if self._extractor is None:
            self._extractor = extractors.get(self.extractor, real=self._real_x,
                                             labels=self._real_y)
        if self._extractor.probability_output is None:
            raise ValueError("CollapseMonitor needs an extractor with a softmax output (a "
                             "classifier) to measure class coverage.")
        protocol.announce_keys(self.model, self, LOG_KEYS)  # set up: the order contract
        if self._real_x is None:
            self._reference = (None, None, None)
            return
        vr = self.value_range or _features.infer_value_range(self._real_x)
        n = min(len(self._real_x), self.n_samples or 500)
        feats, probs = self._extractor.predict(self._real_x, self.batch_size, self.verbose, vr)
        classes = probs.argmax(axis=1) if self._real_y is None else self._real_y
        self._reference = (classes, len(np.unique(classes)), sample_diversity(feats[:n]))

    def measure(self):
        """Generate samples now and return ``{"covered", "coverage", "diversity"}`` (floats).

        Returns:
            A dict; ``diversity`` is NaN without a reference; all NaN for non-finite samples.

        Example (skipped: it needs the callback attached to a model in ``fit``):
            >>> monitor.measure()["covered"]  # doctest: +SKIP
            10.0
        """
        if self._reference is None:
            raise RuntimeError("CollapseMonitor.measure() runs after on_train_begin.")
        classes, _, scale = self._reference
        n = self.n_samples or (500 if self._real_x is None else min(len(self._real_x), 500))
        images = self._sample(n, seed=self.seed)
        if not np.all(np.isfinite(images)):
            return {"covered": float("nan"), "coverage": float("nan"), "diversity": float("nan")}
        vr = self.value_range or _features.infer_value_range(
            images if self._real_x is None else self._real_x)
        feats, probs = self._extractor.predict(images, self.batch_size, self.verbose, vr)
        stats = mode_coverage_from_probabilities(probs, classes, self.min_share)
        diversity = float("nan") if scale is None else sample_diversity(feats) / max(scale, 1e-12)
        return {"covered": float(stats["covered"]), "coverage": stats["coverage"],
                "diversity": float(diversity)}

    def _min_classes(self):
        if self.min_classes is not None:
            return self.min_classes
        num_classes = self._reference[1]
        if num_classes is None:
            num_classes = int(self._extractor.probability_output.shape[-1])
        return default_min_classes(num_classes)

    def _collapse_reason(self, values):
        """A sentence saying why the samples count as collapsed, or None when healthy."""
        covered, diversity = values["covered"], values["diversity"]
        if not np.isfinite(covered):
            return "the generated samples are not finite"
        reasons = []
        if covered < self._min_classes():
            reasons.append(f"the samples cover {int(covered)} classes, fewer than "
                           f"min_classes={self._min_classes()}")
        if np.isfinite(diversity) and diversity < self.threshold:
            reasons.append(f"their diversity is {diversity:.3f} of the reference's, below "
                           f"threshold={self.threshold}")
        return "mode collapse: " + " and ".join(reasons) if reasons else None

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
        epochs = (self.params or {}).get("epochs")
        due = not self.evaluated_epochs or catalog.due_at_epoch_end(epoch, self.every, epochs)
        if due:
            values = self.measure()
            self.evaluated_epochs.append(int(epoch))
            reason = self._collapse_reason(values)
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
            self._last = {"val_coverage": values["coverage"],
                          "val_coverage_count": values["covered"],
                          "val_diversity": values["diversity"],
                          "collapse": 1.0 if collapsed else 0.0}
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

    def on_train_end(self, logs=None):
        protocol.withdraw_keys(self.model, self)

    def get_config(self):
        if not (self.extractor is None or isinstance(self.extractor, str)):
            raise ValueError("CollapseMonitor.get_config() can carry `extractor` only as a name "
                             "or a weights path, not a model object.")
        if self.sample_fn is not None:
            raise ValueError("CollapseMonitor.get_config() cannot carry `sample_fn` (a callable).")
        return {
            "x_reference": None if self._real_x is None else self._real_x.tolist(),
            "labels": None if self._real_y is None else self._real_y.tolist(),
            "every": self.every, "min_classes": self.min_classes, "threshold": self.threshold,
            "action": self.action, "patience": self.patience, "start_epoch": self.start_epoch,
            "lr_factor": self.lr_factor, "augment_step": self.augment_step,
            "max_remedies": self.max_remedies, "n_samples": self.n_samples,
            "extractor": self.extractor, "min_share": self.min_share,
            "value_range": None if self.value_range is None else list(self.value_range),
            "seed": self.seed, "batch_size": self.batch_size, "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuild a monitor from :meth:`get_config` (``keras.callbacks.Callback`` has none)."""
        return cls(**config)

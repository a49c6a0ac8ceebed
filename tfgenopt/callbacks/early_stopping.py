"""GAN-aware early stopping: Keras' semantics plus divergence, collapse and every network.

Everything ``keras.callbacks.EarlyStopping`` does (``monitor``, ``mode``, ``min_delta``,
``patience``, ``baseline``, ``start_from_epoch``, ``restore_best_weights``), and:

* the direction of the toolkit's own metric names is inferred (``val_fid``/``val_kid`` down,
  ``val_coverage``/precision/recall up, any ``*loss*`` down); unknown names ask for ``mode``;
* ``restore_best_weights`` snapshots and restores EVERY network of the model in memory
  (generator, discriminator, EMA generator; encoder, decoder), found through
  :func:`tfgenopt.models.protocol.networks`;
* a non-finite monitored (or, with ``check_finite``, any logged) value and a monitored value past
  ``divergence_threshold`` stop the run at once: divergence, not "no improvement";
* optional GAN failure stops: discriminator collapse (``d_loss`` below a floor for some epochs)
  and generator collapse (diversity of samples from a fixed noise batch below a floor);
* optional smoothing of a noisy monitor (``"ema"`` or ``"median"`` over a window).

Why a run stopped is kept in ``callback.stopped_reason`` and ``model.stop_reason`` and printed
once. Put ``QualityMonitor`` BEFORE this callback when monitoring its keys (the order is
checked at the first epoch: :class:`tfgenopt.callbacks.MonitorCallback`).
"""

from __future__ import annotations

import math

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.callbacks._monitor import MonitorCallback, read_value
from tfgenopt.models import protocol

__all__ = ["EarlyStopping", "sample_diversity"]


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


def _optional_float(name, value, **kwargs):
    return None if value is None else check_float(name, value, **kwargs)


@keras.saving.register_keras_serializable(package="tfgenopt")
class EarlyStopping(MonitorCallback):
    """Stop training when a monitored value stops improving, diverges or a GAN collapses.

    Args:
        monitor: the ``logs`` key to watch (``"val_loss"``, ``"val_kid"``, ``"g_loss"``, ...).
        mode: ``"auto"`` (inferred from the name; unknown names raise), ``"min"`` or ``"max"``.
        min_delta: the smallest change that counts as an improvement (its absolute value, as
            in Keras; an improvement must beat the best by more than it).
        patience: epochs without improvement before stopping.
        baseline: a value to beat; the wait is reset only by epochs beating it.
        start_from_epoch: epochs to wait before watching (warm-up).
        restore_best_weights: restore every network to the best epoch at the end of training.
        divergence_threshold: stop at once when the raw monitored value is worse than this
            (above it in ``min`` mode, below it in ``max`` mode).
        check_finite: also stop at once when ANY numeric logged value is NaN/inf (the
            monitored value is always checked).
        smoothing: ``None``, ``"ema"`` (``s = a * s + (1 - a) * x``, bias-corrected) or
            ``"median"`` (of the last ``smoothing_window`` values); the smoothed value is what
            patience compares, and it is logged as ``{monitor}_smoothed``. Values another
            callback carried over from an earlier epoch (``model.carried_log_keys``, e.g. a
            ``QualityMonitor`` with ``every > 1``) count towards patience but are neither
            smoothed in nor taken as the best epoch.
        smoothing_window: window of the median.
        smoothing_factor: ``a`` of the EMA, in [0, 1).
        d_loss_floor: stop when ``d_loss_key`` stays below this for ``d_collapse_patience``
            consecutive epochs (the discriminator wins outright: collapse).
        d_collapse_patience: epochs of the discriminator-collapse condition.
        d_loss_key: the logged discriminator loss.
        diversity_floor: stop when the diversity (:func:`sample_diversity`) of
            ``model.generate(diversity_samples, seed=seed)`` stays below this for
            ``diversity_patience`` epochs (mode collapse); logged as ``sample_diversity``.
        diversity_patience: epochs of the generator-collapse condition.
        diversity_samples: samples drawn from the fixed noise batch (>= 2).
        seed: the seed of that noise batch.
        verbose: 1 prints the reason once when stopping and when restoring.
        sample_fn: for ``diversity_floor`` on a model without ``generate``: a callable
            ``fn(n, seed)`` (see ``tfgenopt.models.protocol.sampler``).

    Returns:
        A ``keras.callbacks.Callback``; after a stop, ``stopped_epoch``, ``stopped_reason`` and
        ``model.stop_reason`` say when and why; ``best``, ``best_epoch`` what was best.

    Example:
        >>> cb = EarlyStopping("val_kid", patience=5, restore_best_weights=True,
        ...                    divergence_threshold=1.0)
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, patience=0,
                 baseline=None, start_from_epoch=0, restore_best_weights=False,
                 divergence_threshold=None, check_finite=True, smoothing=None,
                 smoothing_window=5, smoothing_factor=0.6, d_loss_floor=None,
                 d_collapse_patience=3, d_loss_key="d_loss", diversity_floor=None,
                 diversity_patience=2, diversity_samples=64, seed=0, verbose=1, sample_fn=None):
        super().__init__(monitor, mode, min_delta, verbose)
        self.sample_fn = protocol.check_sample_fn(sample_fn)
        self.patience = check_int("patience", patience, minimum=0)
        self.baseline = _optional_float("baseline", baseline)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, minimum=0)
        for name, flag in (("restore_best_weights", restore_best_weights),
                           ("check_finite", check_finite)):
            if not isinstance(flag, bool):
                raise TypeError(f"`{name}` must be a bool; received {flag!r}.")
        self.restore_best_weights = restore_best_weights
        self.check_finite = check_finite
        self.divergence_threshold = _optional_float("divergence_threshold", divergence_threshold)
        if smoothing is not None:
            check_choice("smoothing", smoothing, ("ema", "median"))
        self.smoothing = smoothing
        self.smoothing_window = check_int("smoothing_window", smoothing_window, minimum=1)
        self.smoothing_factor = check_float("smoothing_factor", smoothing_factor, minimum=0.0,
                                            maximum=1.0, max_inclusive=False)
        self.d_loss_floor = _optional_float("d_loss_floor", d_loss_floor)
        self.d_collapse_patience = check_int("d_collapse_patience", d_collapse_patience,
                                             minimum=1)
        if not isinstance(d_loss_key, str) or not d_loss_key:
            raise TypeError(f"`d_loss_key` must be a non-empty string; received {d_loss_key!r}.")
        self.d_loss_key = d_loss_key
        self.diversity_floor = _optional_float("diversity_floor", diversity_floor, minimum=0.0)
        self.diversity_patience = check_int("diversity_patience", diversity_patience, minimum=1)
        self.diversity_samples = check_int("diversity_samples", diversity_samples, minimum=2)
        self.seed = check_int("seed", seed, minimum=0)
        self._reset()

    # -- state ---------------------------------------------------------------------------------
    def _reset(self):
        self.wait = 0
        self.best = self._initial_best()
        self.best_epoch = None
        self.best_weights = None
        self._history = []
        self._ema = 0.0
        self._smoothed = None
        self._d_below = 0
        self._div_below = 0
        self._initial_weights = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        if self.diversity_floor is not None:
            try:
                self._sample = protocol.sampler(self.model, self.sample_fn, "EarlyStopping")
            except TypeError as e:
                raise ValueError(f"`diversity_floor` needs samples: {e} Or use "
                                 "diversity_floor=None.") from None
        self.model.stop_reason = None
        if self.restore_best_weights:  # what to restore if the very first epoch diverges
            self._initial_weights = self._snapshot()

    def _smooth(self, value):
        self._history.append(value)
        if self.smoothing == "ema":
            a = self.smoothing_factor
            self._ema = a * self._ema + (1.0 - a) * value
            return self._ema / (1.0 - a ** len(self._history))
        if self.smoothing == "median":
            return float(np.median(self._history[-self.smoothing_window:]))
        return value

    # -- the checks, in order ------------------------------------------------------------------
    def _non_finite(self, logs, current):
        if current is not None and not math.isfinite(current):
            return f"non-finite {self.monitor}={current} (divergence)."
        if self.check_finite:
            for key in sorted(logs):
                value = read_value(logs, key)
                if value is not None and not math.isfinite(value):
                    return f"non-finite {key}={value} (divergence)."
        return None

    def _diverged(self, current):
        t = self.divergence_threshold
        if t is None or current is None:
            return None
        if (self.mode == "min" and current > t) or (self.mode == "max" and current < t):
            side = "above" if self.mode == "min" else "below"
            return (f"divergence: {self.monitor}={current:.6g} is {side} "
                    f"divergence_threshold={t:.6g}.")
        return None

    def _collapsed(self, logs):
        if self.d_loss_floor is not None:
            d = read_value(logs, self.d_loss_key)
            self._d_below = self._d_below + 1 if d is not None and d < self.d_loss_floor else 0
            if self._d_below >= self.d_collapse_patience:
                return (f"discriminator collapse: {self.d_loss_key} < {self.d_loss_floor:g} for "
                        f"{self._d_below} epochs (last {d:.4g}).")
        if self.diversity_floor is not None:
            samples = self._sample(self.diversity_samples, seed=self.seed)
            div = sample_diversity(samples)
            logs["sample_diversity"] = div
            self._div_below = self._div_below + 1 if div < self.diversity_floor else 0
            if self._div_below >= self.diversity_patience:
                return (f"generator collapse: sample diversity < {self.diversity_floor:g} for "
                        f"{self._div_below} epochs (last {div:.4g}).")
        return None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        current = self._monitored_value(logs)
        reason = self._non_finite(logs, current) or self._diverged(current)
        if reason is None:
            reason = self._collapsed(logs)
        if reason is not None:
            self._stop(epoch, reason)
            return
        if current is None:
            self._warn_missing_once(logs)
            return
        # A value carried from an earlier epoch (QualityMonitor, every > 1) was not measured on
        # these weights: it counts towards patience but is never smoothed in nor taken as best.
        carried = self._is_carried()
        if carried:
            value = self._smoothed if self._smoothed is not None else current
        else:
            value = self._smoothed = self._smooth(current)
        if self.smoothing is not None:
            logs[f"{self.monitor}_smoothed"] = value
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._snapshot()  # something to restore even if never better
        self.wait += 1
        if not carried and self._is_improvement(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            best = "none" if self.best_epoch is None else f"{self.best:.6g} at epoch " \
                f"{self.best_epoch + 1}"
            self._stop(epoch, f"no improvement of {self.monitor} for {self.wait} epochs "
                              f"(best {best}).")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is None and self.stopped_reason:
            self.best_weights = self._initial_weights
        self._initial_weights = None
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                at = "the first watched epoch" if self.best_epoch is None else \
                    f"epoch {self.best_epoch + 1}"
                print(
                    f"Restoring the weights of {sorted(self.best_weights)} from {at}.")
            self._restore(self.best_weights)

    _STATE = ("wait", "stopped_epoch", "best", "best_epoch", "_history", "_ema", "_smoothed",
              "_d_below", "_div_below")

    def get_state(self):
        """What a resumed run needs to go on counting (best, wait, smoothing, best weights).

        Returns:
            A JSON-able dict; the best weights, if any, under ``"arrays"`` (NumPy arrays).

        Example:
            >>> EarlyStopping(monitor="val_loss").get_state()["wait"]
            0
        """
        state = {k.lstrip("_"): getattr(self, k) for k in self._STATE}
        state["arrays"] = {f"{name}/{i}": w for name, ws in (self.best_weights or {}).items()
                           for i, w in enumerate(ws)}
        return state

    def set_state(self, state):
        """Take back a :meth:`get_state` (an ``AtomicBackupAndRestore`` does, on resume).

        Example:
            >>> es = EarlyStopping(monitor="val_loss")
            >>> es.set_state({**es.get_state(), "wait": 2, "best": 0.5})
            >>> es.wait, es.best
            (2, 0.5)
        """
        for key in self._STATE:
            setattr(self, key, state[key.lstrip("_")])
        weights = {}
        for key in sorted(state.get("arrays", {}), key=lambda k: (k.split("/")[0],
                                                                   int(k.split("/")[1]))):
            weights.setdefault(key.split("/")[0], []).append(state["arrays"][key])
        self.best_weights = weights or None

    def get_config(self):
        if self.sample_fn is not None:
            raise ValueError("EarlyStopping.get_config() cannot carry `sample_fn` (a callable).")
        return {"monitor": self.monitor, "mode": self.mode, "min_delta": self.min_delta,
                "patience": self.patience, "baseline": self.baseline,
                "start_from_epoch": self.start_from_epoch,
                "restore_best_weights": self.restore_best_weights,
                "divergence_threshold": self.divergence_threshold,
                "check_finite": self.check_finite, "smoothing": self.smoothing,
                "smoothing_window": self.smoothing_window,
                "smoothing_factor": self.smoothing_factor, "d_loss_floor": self.d_loss_floor,
                "d_collapse_patience": self.d_collapse_patience, "d_loss_key": self.d_loss_key,
                "diversity_floor": self.diversity_floor,
                "diversity_patience": self.diversity_patience,
                "diversity_samples": self.diversity_samples, "seed": self.seed,
                "verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

"""GAN-aware early stopping: Keras' semantics plus divergence stops, smoothing, every network.

Everything ``keras.callbacks.EarlyStopping`` does (``monitor``, ``mode``, ``min_delta``,
``patience``, ``baseline``, ``start_from_epoch``, ``restore_best_weights``, its attributes and
its ``verbose`` messages), and:

* the direction of the toolkit's own metric names is inferred (``val_fid``/``val_kid`` down,
  ``val_coverage``/precision/recall up, any ``*loss*`` down); unknown names ask for ``mode``;
* ``restore_best_weights`` snapshots and restores EVERY network of the model in memory
  (generator, discriminator, EMA generator; encoder, decoder), found through
  :func:`tfgenopt.models.protocol.networks`;
* a non-finite monitored (or, with ``check_finite``, any logged) value and a monitored value past
  ``divergence_threshold`` stop the run at once: divergence, not "no improvement";
* optional smoothing of a noisy monitor (an EMA, or a median over a window).

Collapse detection (discriminator-loss floor, sample diversity, class coverage) is
:class:`tfgenopt.callbacks.CollapseMonitor`'s, not this callback's.

Why a run stopped is kept in ``callback.stopped_reason`` and ``model.stop_reason`` and printed
once. Put ``QualityMonitor`` BEFORE this callback when monitoring its keys (the order is
checked at the first epoch: :class:`tfgenopt.callbacks.MonitorCallback`).
"""

from __future__ import annotations

import logging
import math
import numbers

import keras
import numpy as np

from tfgenopt._validation import check_float, check_int
from tfgenopt.callbacks._monitor import MonitorCallback, read_value

__all__ = ["EarlyStopping"]

#: The EMA factor of ``smoothing="ema"``.
DEFAULT_EMA_FACTOR = 0.6

# Arguments EarlyStopping once took, and where each went (raised as a TypeError, see __init__).
_MOVED_TO_COLLAPSE = {
    "d_loss_floor": "d_loss_floor", "d_collapse_patience": "patience",
    "d_loss_key": "d_loss_key", "diversity_floor": "diversity_floor",
    "diversity_patience": "patience", "diversity_samples": "n_samples", "seed": "seed",
    "sample_fn": "sample_fn"}


def _removed_argument(name):
    """The ``TypeError`` for an argument EarlyStopping no longer takes (None: never took it)."""
    if name in _MOVED_TO_COLLAPSE:
        return TypeError(
            f"EarlyStopping() got an unexpected keyword argument {name!r}: collapse detection "
            f"moved to `tg.callbacks.CollapseMonitor(...)` (`{name}` is now its "
            f"`{_MOVED_TO_COLLAPSE[name]}`); put it in `callbacks` beside EarlyStopping.")
    if name == "smoothing_factor":
        return TypeError("EarlyStopping() got an unexpected keyword argument 'smoothing_factor': "
                         "pass the EMA factor as `smoothing` (e.g. smoothing=0.5).")
    return None


def _check_smoothing(smoothing):
    """``(smoothing, ema factor or None)``: None, "ema", "median" or an EMA factor in [0, 1)."""
    if smoothing is None or smoothing == "median":
        return smoothing, None
    if smoothing == "ema":
        return smoothing, DEFAULT_EMA_FACTOR
    if isinstance(smoothing, numbers.Real) and not isinstance(smoothing, bool):
        return smoothing, check_float("smoothing", smoothing, minimum=0.0, maximum=1.0,
                                      max_inclusive=False)
    raise ValueError(f"`smoothing` must be None, 'ema', 'median' or an EMA factor in [0, 1); "
                     f"received {smoothing!r}.")


def _print_msg(message):
    """Print as Keras' ``io_utils.print_msg`` does (to the log when interactive logging is off)."""
    if keras.config.is_interactive_logging_enabled():
        print(message)
    else:
        logging.getLogger("tfgenopt").info(message)


def _optional_float(name, value):
    return None if value is None else check_float(name, value)


@keras.saving.register_keras_serializable(package="tfgenopt")
class EarlyStopping(MonitorCallback):
    """Stop training when a monitored value stops improving or diverges.

    A drop-in for ``keras.callbacks.EarlyStopping`` (the same eight arguments, attributes and
    ``verbose`` messages) that also stops at once on divergence and can smooth a noisy monitor.

    Args:
        monitor: the ``logs`` key to watch (``"val_loss"``, ``"val_kid"``, ``"g_loss"``, ...).
        min_delta: the smallest change that counts as an improvement (its absolute value, as
            in Keras; an improvement must beat the best by more than it).
        patience: epochs without improvement before stopping.
        verbose: 1 prints the reason once when stopping, Keras' "early stopping" line, and
            when restoring.
        mode: ``"auto"`` (inferred from the name; unknown names raise), ``"min"`` or ``"max"``.
        baseline: a value to beat; the wait is reset only by epochs beating it.
        restore_best_weights: restore every network to the best epoch at the end of training.
        start_from_epoch: epochs to wait before watching (warm-up).
        divergence_threshold: stop at once when the raw monitored value is worse than this
            (above it in ``min`` mode, below it in ``max`` mode).
        check_finite: also stop at once when ANY numeric logged value is NaN/inf (the
            monitored value is always checked).
        smoothing: ``None``; ``"ema"`` (``s = a * s + (1 - a) * x``, bias-corrected, with
            ``a = 0.6``) or a float ``a`` in [0, 1) (that EMA with factor ``a``); or
            ``"median"`` (of the last ``smoothing_window`` values). The smoothed value is what
            patience compares, and it is logged as ``{monitor}_smoothed``. Values another
            callback carried over from an earlier epoch (``model.carried_log_keys``, e.g. a
            ``QualityMonitor`` with ``every > 1``) count towards patience but are neither
            smoothed in nor taken as the best epoch.
        smoothing_window: window of the median.

    Collapse detection is not here: ``d_loss_floor``, ``diversity_floor`` and the other
    collapse arguments of earlier versions raise a ``TypeError`` pointing at
    :class:`tfgenopt.callbacks.CollapseMonitor` (``**kwargs`` exists only to raise it), and
    ``smoothing_factor`` one pointing at ``smoothing``.

    Returns:
        A ``keras.callbacks.Callback``; after a stop, ``stopped_epoch``, ``stopped_reason`` and
        ``model.stop_reason`` say when and why; ``best``, ``best_epoch`` what was best.

    Example:
        >>> cb = EarlyStopping("val_kid", patience=5, restore_best_weights=True,
        ...                    divergence_threshold=1.0, smoothing=0.5)
        >>> cb.mode, cb.smoothing_factor
        ('min', 0.5)
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=1, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0,
                 divergence_threshold=None, check_finite=True, smoothing=None,
                 smoothing_window=5, **kwargs):
        for name in kwargs:
            raise _removed_argument(name) or TypeError(
                f"EarlyStopping() got an unexpected keyword argument {name!r}.")
        super().__init__(monitor, mode, min_delta, verbose)
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
        self.smoothing, self.smoothing_factor = _check_smoothing(smoothing)
        self.smoothing_window = check_int("smoothing_window", smoothing_window, minimum=1)
        self._reset()

    @property
    def monitor_op(self):
        """As in Keras: ``keras.ops.less`` in ``min`` mode, ``keras.ops.greater`` in ``max``."""
        return keras.ops.less if self.mode == "min" else keras.ops.greater

    # -- state ---------------------------------------------------------------------------------
    def _reset(self):
        self.wait = 0
        self.best = self._initial_best()
        self.best_epoch = None
        self.best_weights = None
        self._history = []
        self._ema = 0.0
        self._smoothed = None
        self._initial_weights = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._reset()
        self.model.stop_reason = None
        if self.restore_best_weights:  # what to restore if the very first epoch diverges
            self._initial_weights = self._snapshot()

    def get_monitor_value(self, logs):
        """As in Keras: the monitored value in ``logs`` (a float), or None with a warning."""
        value = self._monitored_value(logs)
        if value is None:
            self._warn_missing_once(logs)
        return value

    def _smooth(self, value):
        self._history.append(value)
        if self.smoothing == "median":
            return float(np.median(self._history[-self.smoothing_window:]))
        if self.smoothing_factor is not None:
            a = self.smoothing_factor
            self._ema = a * self._ema + (1.0 - a) * value
            return self._ema / (1.0 - a ** len(self._history))
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

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        current = self._monitored_value(logs)
        reason = self._non_finite(logs, current) or self._diverged(current)
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
        if self.stopped_epoch > 0 and self.verbose > 0:
            _print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")  # Keras' line
        if self.restore_best_weights and self.best_weights is None and self.stopped_reason:
            self.best_weights = self._initial_weights
        self._initial_weights = None
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                if self.best_epoch is None:
                    _print_msg("Restoring model weights from the start of the first watched "
                               "epoch.")
                else:  # Keras' line
                    _print_msg("Restoring model weights from the end of the best epoch: "
                               f"{self.best_epoch + 1}.")
                _print_msg(f"Restored networks: {sorted(self.best_weights)}.")
            self._restore(self.best_weights)

    _STATE = ("wait", "stopped_epoch", "best", "best_epoch", "_history", "_ema", "_smoothed")

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
        return {"monitor": self.monitor, "min_delta": self.min_delta, "patience": self.patience,
                "verbose": self.verbose, "mode": self.mode, "baseline": self.baseline,
                "restore_best_weights": self.restore_best_weights,
                "start_from_epoch": self.start_from_epoch,
                "divergence_threshold": self.divergence_threshold,
                "check_finite": self.check_finite, "smoothing": self.smoothing,
                "smoothing_window": self.smoothing_window}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

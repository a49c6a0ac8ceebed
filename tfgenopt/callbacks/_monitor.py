"""``MonitorCallback``: what the monitoring callbacks share (as Keras' ``MonitorCallback``).

One base for ``EarlyStopping``, ``ReduceLROnPlateau`` and, through ``SampleMonitor``,
``CollapseMonitor`` and ``QualityMonitor``: the direction of
the monitored key (``mode="auto"`` reads :func:`tfgenopt.catalog.direction`), ``min_delta`` and
the ONE improvement test (:meth:`MonitorCallback._is_improvement`), reading the monitored value
from ``logs``, carried keys (``model.carried_log_keys``), a stop with a recorded reason
(``model.stop_reason``), snapshot/restore of every network, and the callback-order contract:
producers announce their keys on the model (:func:`tfgenopt.models.protocol.announce_keys`)
and a monitor listed BEFORE the producer of its key raises at its first epoch.
"""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.models import protocol

__all__ = ["MonitorCallback", "infer_mode", "resolve_mode", "read_value", "missing_key_message"]


def infer_mode(monitor):
    """``"min"`` or ``"max"``: the direction of improvement of a logged metric.

    Reads :func:`tfgenopt.catalog.direction`: the catalog's direction for the keys the package
    writes (``val_density`` and ``val_confidence`` are maximized, ``val_kid_std`` and
    ``val_class_kl`` minimized), name tokens for other keys (losses, ``kl``, ``error``,
    ``mse``... are minimized; accuracy, precision, recall... maximized). Diagnostics without a
    direction and unknown names raise ``ValueError``.

    Args:
        monitor: the ``logs`` key, e.g. ``"val_kid"`` or ``"g_loss"``.

    Returns:
        ``"min"`` or ``"max"``.

    Example:
        >>> infer_mode("val_kid"), infer_mode("val_coverage"), infer_mode("g_loss")
        ('min', 'max', 'min')
    """
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"`monitor` must be a non-empty string; received {monitor!r}.")
    return catalog.direction(monitor)


def resolve_mode(monitor, mode):
    """Validate ``mode`` (``"auto"``, ``"min"``, ``"max"``) and resolve ``"auto"`` by name."""
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"`monitor` must be a non-empty string; received {monitor!r}.")
    check_choice("mode", mode, ("auto", "min", "max"))
    return infer_mode(monitor) if mode == "auto" else mode


def read_value(logs, key):
    """``logs[key]`` as a Python float, or ``None`` when absent (``nan`` stays ``nan``)."""
    if not logs or key not in logs:
        return None
    value = logs[key]
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError):
        return None


def missing_key_message(owner, key, logs):
    """A helpful message for a monitored ``key`` that is not in ``logs``."""
    known = sorted(k for k in (logs or {}) if read_value(logs, k) is not None)
    msg = f"{owner}: the monitored key {key!r} is not in logs; available: {known}."
    found = catalog.metric(key)
    if found is not None and found.producer.startswith("tfgenopt.callbacks."):
        msg += (f" {key!r} is written by {found.producer}, which must come BEFORE this "
                "callback in the `callbacks` list (and evaluate this epoch).")
    elif key.startswith("val_"):
        msg += " `val_*` keys need `validation_data` in fit()."
    return msg


def warn_missing(owner, key, logs):
    """Warn (once per caller decision) that ``key`` is missing from ``logs``."""
    warnings.warn(missing_key_message(owner, key, logs), UserWarning, stacklevel=3)


def is_finite(value):
    """True for a finite float (``None`` counts as finite: nothing to check)."""
    return value is None or math.isfinite(value)


class MonitorCallback(keras.callbacks.Callback):
    """Base of the callbacks that watch a ``logs`` key (or their own measurement) and act.

    Subclasses call ``super().__init__(monitor, mode, min_delta, verbose)`` and
    ``super().on_train_begin(logs)``, compare values with :meth:`_is_improvement` only, read
    the monitored value with :meth:`_monitored_value`, stop with :meth:`_stop` and keep weights
    with :meth:`_snapshot` / :meth:`_restore`. ``monitor=None`` is a monitor of its own
    measurements (``CollapseMonitor``, ``QualityMonitor``: their common base is
    ``tfgenopt.callbacks._sample_monitor.SampleMonitor``): no key, no direction, no order
    check.

    ``min_delta`` follows Keras: its absolute value is used, and a value improves on a
    reference only when it is better by MORE than ``min_delta`` (strictly).

    Order contract: at its first epoch (``on_epoch_begin``, or the first ``on_epoch_end`` when
    driven by hand) a monitor raises ``ValueError`` when its key is announced (through
    :func:`tfgenopt.models.protocol.announce_keys`) only by producers listed AFTER it in
    ``callbacks``: Keras calls callbacks in list order, so it would read ``logs`` before the
    key is written. A key nobody writes warns once at the first epoch end.

    Args:
        monitor: the ``logs`` key to watch, or None.
        mode: ``"auto"`` (from :func:`tfgenopt.catalog.direction`), ``"min"`` or ``"max"``.
        min_delta: the smallest change that counts as an improvement (sign ignored).
        verbose: 1 prints the reason when the callback stops the run.

    Example:
        >>> cb = MonitorCallback("val_kid", min_delta=-0.5)
        >>> cb.mode, cb.min_delta, cb._is_improvement(1.0, 2.0), cb._is_improvement(1.6, 2.0)
        ('min', 0.5, True, False)
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, verbose=0):
        super().__init__()
        if monitor is None:
            self.monitor, self.mode = None, None
        else:
            self.mode = resolve_mode(monitor, mode)
            self.monitor = monitor
        self.min_delta = abs(check_float("min_delta", min_delta))
        self.verbose = check_int("verbose", verbose, minimum=0)
        self._reset_monitor()

    def _reset_monitor(self):
        self.stopped_epoch = 0
        self.stopped_reason = None
        self._warned_missing = False
        self._order_mark = None  # announcements seen at on_train_begin (None: not begun)
        self._order_checked = False

    # -- the one improvement test --------------------------------------------------------------
    def _initial_best(self):
        """The worst possible value in this mode (``inf`` for min, ``-inf`` for max)."""
        return math.inf if self.mode == "min" else -math.inf

    def _is_improvement(self, value, reference):
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` (None: always)."""
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    # -- reading logs --------------------------------------------------------------------------
    def _monitored_value(self, logs):
        """The monitored value in ``logs`` as a float, or None when absent."""
        self._check_order()
        return read_value(logs, self.monitor)

    def _warn_missing_once(self, logs):
        if not self._warned_missing:
            self._warned_missing = True
            warn_missing(type(self).__name__, self.monitor, logs)

    def _is_carried(self):
        """True when this epoch's monitored value was carried from an earlier epoch."""
        return self.monitor in protocol.carried_keys(self.model)

    # -- the order contract --------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._reset_monitor()
        self._order_mark = protocol.announcement_mark(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._check_order()

    def _check_order(self):
        if self._order_checked or self._order_mark is None or self.monitor is None:
            return
        self._order_checked = True
        before = protocol.announced_keys(self.model, until=self._order_mark)
        after = protocol.announced_keys(self.model, since=self._order_mark)
        if self.monitor in after and self.monitor not in before:
            me, producer = type(self).__name__, after[self.monitor]
            raise ValueError(
                f"{producer} must come before {me}(monitor={self.monitor!r}) in `callbacks`: "
                f"{producer} writes {self.monitor!r}, and Keras calls callbacks in list order, "
                f"so {me}, listed earlier, would read the logs before {self.monitor!r} is "
                f"written. Put {producer} before {me}.")

    # -- acting --------------------------------------------------------------------------------
    def _stop(self, epoch, reason):
        """Stop the run now and record why (``stopped_reason``, ``model.stop_reason``)."""
        self.stopped_epoch = epoch
        self.stopped_reason = reason
        self.model.stop_training = True
        self.model.stop_reason = reason
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: {type(self).__name__} stops the run: {reason}")

    def _snapshot(self):
        """``{network name: weights}`` of every network of the model."""
        return protocol.snapshot_networks(self.model)

    def _restore(self, weights):
        """Set every network back to ``weights`` (from :meth:`_snapshot`)."""
        protocol.restore_networks(self.model, weights)

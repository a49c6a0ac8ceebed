"""What monitoring callbacks share: the direction of a metric, reading it from ``logs``."""

from __future__ import annotations

import math
import warnings

import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import check_choice

__all__ = ["infer_mode", "resolve_mode", "read_value", "missing_key_message"]


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
    if found is not None and found.producer == "tfgenopt.callbacks.QualityMonitor":
        msg += (" Quality keys are written by tfgenopt.callbacks.QualityMonitor, which must come "
                "BEFORE this callback in the `callbacks` list (and evaluate this epoch).")
    elif key.startswith("val_"):
        msg += " `val_*` keys need `validation_data` in fit()."
    return msg


def warn_missing(owner, key, logs):
    """Warn (once per caller decision) that ``key`` is missing from ``logs``."""
    warnings.warn(missing_key_message(owner, key, logs), UserWarning, stacklevel=3)


def is_finite(value):
    """True for a finite float (``None`` counts as finite: nothing to check)."""
    return value is None or math.isfinite(value)

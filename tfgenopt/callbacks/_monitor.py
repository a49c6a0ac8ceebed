"""What monitoring callbacks share: the direction of a metric, reading it from ``logs``."""

from __future__ import annotations

import math
import warnings

import numpy as np

from tfgenopt._validation import check_choice

__all__ = ["infer_mode", "resolve_mode", "read_value", "missing_key_message"]

# Substrings of names where lower is better / higher is better (after dropping "val_").
_MIN_TOKENS = ("loss", "fid", "kid", "divergence", "kl", "error", "mse", "mae", "distance",
               "perplexity", "gp", "r1")
_MAX_TOKENS = ("coverage", "precision", "recall", "accuracy", "acc", "density", "auc",
               "diversity", "psnr", "ssim", "confidence")
_QUALITY_TOKENS = ("fid", "kid", "coverage", "precision", "recall", "density", "class_kl",
                   "confidence")


def infer_mode(monitor):
    """``"min"`` or ``"max"``: the direction of improvement of a logged metric, from its name.

    Losses, FID, KID and divergence-like names (``kl``, ``error``, ``mse``, ...) are minimized;
    coverage, precision, recall, accuracy, density and diversity are maximized. A name holding
    ``loss`` is always minimized. Unknown names raise.

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
    name = monitor.lower()
    name = name[4:] if name.startswith("val_") else name
    if "loss" in name:
        return "min"
    parts = set(name.replace("-", "_").split("_"))
    for token in _MAX_TOKENS:
        if token in parts or (len(token) > 3 and token in name):
            return "max"
    for token in _MIN_TOKENS:
        if token in parts or (len(token) > 3 and token in name):
            return "min"
    raise ValueError(
        f"Cannot infer whether {monitor!r} should go up or down; pass `mode='min'` or "
        "`mode='max'` (received `mode='auto'`). Known directions: names with "
        f"{list(_MIN_TOKENS)} are minimized, names with {list(_MAX_TOKENS)} maximized."
    )


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
    base = key[4:] if key.startswith("val_") else key
    if any(token in base for token in _QUALITY_TOKENS):
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

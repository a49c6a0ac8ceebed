"""Argument checks shared by every public entry point.

Each check raises with the argument's name, the value received and what is allowed, so a
user mistake reads as one sentence instead of a traceback deep inside TensorFlow.
"""

from __future__ import annotations

import numbers

import numpy as np

from tfgenopt.catalog import VALUE_RANGES


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(map(str, choices))}; received {value!r}."
        )
    return value


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as ``int`` if it is an integer within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer; received {value!r} ({type(value).__name__}).")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}; received {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be <= {maximum}; received {value}.")
    return value


def check_float(name, value, minimum=None, maximum=None, min_inclusive=True, max_inclusive=True):
    """Return ``value`` as ``float`` if it is a finite real number within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number; received {value!r} ({type(value).__name__}).")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite; received {value}.")
    if minimum is not None and (value < minimum or (not min_inclusive and value == minimum)):
        op = ">=" if min_inclusive else ">"
        raise ValueError(f"`{name}` must be {op} {minimum}; received {value}.")
    if maximum is not None and (value > maximum or (not max_inclusive and value == maximum)):
        op = "<=" if max_inclusive else "<"
        raise ValueError(f"`{name}` must be {op} {maximum}; received {value}.")
    return value


def check_int_tuple(name, value, minimum=1, allow_empty=False):
    """Return ``value`` as a tuple of ints, each >= ``minimum`` (layer widths, filter counts)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"`{name}` must be a sequence of integers; received {value!r}.") from None
    if not items and not allow_empty:
        raise ValueError(f"`{name}` must not be empty.")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < minimum:
            raise ValueError(
                f"`{name}` must contain integers >= {minimum}; received {value!r}."
            )
    return tuple(int(i) for i in items)


def check_array(name, x, min_ndim=2, allow_empty=False):
    """Return ``x`` as a NumPy array after checking dtype, rank, emptiness and finiteness."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"`{name}` must be an array of numbers; received {type(x).__name__}.")
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"`{name}` must hold numbers; received dtype {arr.dtype}.")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"`{name}` must have at least {min_ndim} dimensions (batch first); "
            f"received shape {arr.shape}."
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); at least one sample is needed.")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"`{name}` contains {bad} NaN or infinite values.")
    return arr


def check_value_range(name, value, allowed=None):
    """Return ``value`` as a ``(low, high)`` pair of floats with ``high > low``.

    The one pixel-range check of the package: data loaders, augmentation, feature extractors
    and callbacks all call it, so a bad range reads the same everywhere.

    Args:
        name: the argument's name, for the message.
        value: a pair of numbers ``(low, high)``.
        allowed: None (any increasing pair) or the only pairs accepted, e.g.
            ``tfgenopt.catalog.VALUE_RANGES`` for the ranges the loaders scale to.

    Returns:
        ``(float(low), float(high))``.

    Raises:
        ValueError: ``value`` is not a pair of finite numbers, has ``high <= low``, or is
            not in ``allowed``; the message names ``name`` and quotes ``value``.

    Example:
        >>> check_value_range("value_range", [-1, 1])
        (-1.0, 1.0)
        >>> check_value_range("value_range", (0, 255), allowed=VALUE_RANGES)
        Traceback (most recent call last):
        ...
        ValueError: `value_range` must be one of ((0.0, 1.0), (-1.0, 1.0)); received (0, 255).
    """
    if allowed is not None:
        allowed = tuple((float(a), float(b)) for a, b in allowed)
    what = f"one of {allowed}" if allowed is not None else (
        f"a pair (low, high) such as {VALUE_RANGES}")
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be {what}; received {value!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"`{name}` must be finite; received {value!r}.")
    if not hi > lo:
        raise ValueError(f"`{name}` must have high > low; received {value!r}.")
    if allowed is not None and (lo, hi) not in allowed:
        raise ValueError(f"`{name}` must be {what}; received {value!r}.")
    return lo, hi

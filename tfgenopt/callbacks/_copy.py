"""Deep copies of callbacks that share their large read-only inputs (Keras Tuner copies them)."""

from __future__ import annotations

import copy

from tfgenopt._keras_adapter import CALLBACK_MODEL


def deepcopy_sharing(callback, memo, shared, dropped=(CALLBACK_MODEL,)):
    """A deep copy of ``callback`` whose attributes named in ``shared`` are the same objects.

    Keras Tuner deep-copies callbacks for every trial; real images and a feature extractor are
    read-only, so each copy shares them instead of duplicating them. Attributes in ``dropped``
    become None (by default ``_model``: a copy is attached to its own model by ``fit``).

    Args:
        callback: the callback being copied.
        memo: the ``copy.deepcopy`` memo dict.
        shared: attribute names to share, not copy.
        dropped: attribute names set to None in the copy (a writer, a model).

    Returns:
        The copy.

    Example:
        >>> class C:
        ...     def __deepcopy__(self, memo):
        ...         return deepcopy_sharing(self, memo, ("big",))
        >>> c = C(); c.big, c.small = [1], [2]
        >>> d = copy.deepcopy(c)
        >>> d.big is c.big, d.small is c.small
        (True, False)
    """
    clone = callback.__class__.__new__(callback.__class__)
    memo[id(callback)] = clone
    for key, value in callback.__dict__.items():
        if key in shared:
            clone.__dict__[key] = value
        elif key in dropped:
            clone.__dict__[key] = None
        else:
            clone.__dict__[key] = copy.deepcopy(value, memo)
    return clone

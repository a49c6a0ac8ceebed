"""Argument checks shared by the metric functions (feature matrices in, float64 out)."""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_array


def check_features(name, x, min_samples=2):
    """Return ``x`` as a ``(n, d)`` float64 array, checking rank, size and finiteness.

    Example:
        >>> check_features("a", np.zeros((3, 2))).dtype
        dtype('float64')
    """
    arr = check_array(name, x, min_ndim=2)
    if arr.ndim != 2:
        raise ValueError(
            f"`{name}` must be a 2-D array of feature vectors (n, d); received shape {arr.shape}. "
            "Extract features first with `tfgenopt.evaluation.extract_features`."
        )
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"`{name}` must hold at least {min_samples} feature vectors; received {arr.shape[0]}."
        )
    return arr.astype(np.float64, copy=False)


def check_same_dim(name_a, a, name_b, b):
    """Raise ``ValueError`` unless two feature matrices have the same feature dimension."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same feature dimension; received "
            f"{a.shape[1]} and {b.shape[1]}."
        )

"""Kernel Inception Distance (KID): unbiased MMD^2 with a cubic polynomial kernel, over subsets.

``k(x, y) = (x.y / d + 1)^3``; on each random subset pair (``m`` real, ``m`` generated, drawn
without replacement) the unbiased estimator is

``MMD^2 = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1)) - 2 mean k(x_i, y_j)``

and KID reports its mean and standard deviation over the subsets. The estimator is unbiased,
so two samples of one distribution give values scattered around 0 (small negatives happen).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tfgenopt._validation import check_int
from tfgenopt.evaluation._checks import check_features, check_same_dim

__all__ = ["kid", "KIDResult", "polynomial_mmd2"]


class KIDResult(NamedTuple):
    """KID mean and standard deviation over subsets (unpacks as ``mean, std = kid(a, b)``)."""

    mean: float
    std: float


def _kernel_sum(g, d, off_diagonal):
    """Sum of ``(g / d + 1)^3`` over a Gram matrix, in place; optionally without its diagonal."""
    g *= 1.0 / d
    g += 1.0
    diag = float(np.sum(np.diagonal(g) ** 3)) if off_diagonal else 0.0
    cube = g * g
    cube *= g
    return float(cube.sum()) - diag


def _kernel_sums(x, y):
    """Off-diagonal sums of k(x, x) and k(y, y) and the full sum of k(x, y), float64."""
    d = x.shape[1]
    # ``x @ x.T`` lets NumPy use the symmetric rank-k BLAS update (half the work of a GEMM).
    return (_kernel_sum(x @ x.T, d, True), _kernel_sum(y @ y.T, d, True),
            _kernel_sum(x @ y.T, d, False))


def polynomial_mmd2(x, y):
    """Return the unbiased MMD^2 between two equally sized samples, cubic polynomial kernel.

    Args:
        x: array ``(m, d)``.
        y: array ``(m, d)`` (the same ``m``).

    Returns:
        The unbiased MMD^2 estimate as a Python float (may be slightly negative).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> abs(polynomial_mmd2(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)))) < 0.1
        True
    """
    x = check_features("x", x)
    y = check_features("y", y)
    check_same_dim("x", x, "y", y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"`x` and `y` must hold the same number of samples; received {x.shape[0]} and "
            f"{y.shape[0]}."
        )
    m = x.shape[0]
    sxx, syy, sxy = _kernel_sums(x, y)
    return float((sxx + syy) / (m * (m - 1)) - 2.0 * sxy / (m * m))


def kid(features_a, features_b, subsets=100, subset_size=1000, seed=0):
    """Return the KID (mean and std of the unbiased polynomial MMD^2 over random subsets).

    Args:
        features_a: real features ``(n, d)``.
        features_b: generated features ``(m, d)``.
        subsets: number of random subset pairs.
        subset_size: samples per subset, capped at ``min(n, m)`` (at least 2 are needed).
        seed: seed of the subset draws (``np.random.default_rng``).

    Returns:
        ``KIDResult(mean, std)``; lower is better, ~0 for the same distribution.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> mean, std = kid(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)), subsets=10)
        >>> abs(mean) < 0.05
        True
    """
    a = check_features("features_a", features_a)
    b = check_features("features_b", features_b)
    check_same_dim("features_a", a, "features_b", b)
    subsets = check_int("subsets", subsets, minimum=1)
    subset_size = check_int("subset_size", subset_size, minimum=2)
    check_int("seed", seed)
    m = min(subset_size, a.shape[0], b.shape[0])
    rng = np.random.default_rng(seed)
    values = np.empty(subsets, dtype=np.float64)
    for i in range(subsets):
        x = a[rng.choice(a.shape[0], m, replace=False)]
        y = b[rng.choice(b.shape[0], m, replace=False)]
        sxx, syy, sxy = _kernel_sums(x, y)
        values[i] = (sxx + syy) / (m * (m - 1)) - 2.0 * sxy / (m * m)
    return KIDResult(float(values.mean()), float(values.std()))

"""k-NN manifold metrics of generated vs real features: precision, recall, density, coverage.

Each sample gets a ball whose radius is the distance to its ``k``-th nearest neighbour in its
own set (Kynkaanniemi et al., 2019; Naeem et al., 2020):

* precision: fraction of generated samples inside at least one real ball (fidelity);
* recall: fraction of real samples inside at least one generated ball (diversity);
* density: mean number of real balls containing a generated sample, divided by ``k``;
* coverage: fraction of real samples whose ball contains at least one generated sample.

Distances are computed in row blocks, so memory stays ``O(block * n)`` for large sets.
"""

from __future__ import annotations

import numpy as np

from tfgenopt._validation import check_int
from tfgenopt.evaluation._checks import check_features, check_same_dim

__all__ = ["precision_recall", "knn_radii"]

_BLOCK = 1024


def _sq_norms(x):
    return np.einsum("ij,ij->i", x, x)


def _sq_distances(a, b, b_norms):
    """Squared Euclidean distances ``(len(a), len(b))``, float64, clipped at 0."""
    d = _sq_norms(a)[:, None] + b_norms[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0, out=d)


def knn_radii(features, k=3):
    """Return each sample's distance to its ``k``-th nearest other sample in the same set.

    Args:
        features: array ``(n, d)`` with ``n > k``.
        k: neighbour rank (1 = nearest other sample).

    Returns:
        float64 array ``(n,)`` of Euclidean radii.

    Example:
        >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    x = check_features("features", features)
    k = check_int("k", k, minimum=1)
    if x.shape[0] <= k:
        raise ValueError(f"`k` must be smaller than the number of samples ({x.shape[0]}); "
                         f"received {k}.")
    norms = _sq_norms(x)
    radii = np.empty(x.shape[0], dtype=np.float64)
    for start in range(0, x.shape[0], _BLOCK):
        d = _sq_distances(x[start:start + _BLOCK], x, norms)
        # Column k of the sorted row: column 0 is the sample itself (distance 0).
        radii[start:start + _BLOCK] = np.partition(d, k, axis=1)[:, k]
    return np.sqrt(radii)


def precision_recall(real_features, fake_features, k=3):
    """Return the k-NN precision, recall, density and coverage of generated vs real features.

    Args:
        real_features: features of real samples ``(n, d)``, ``n > k``.
        fake_features: features of generated samples ``(m, d)``, ``m > k``.
        k: neighbour rank that sets each ball's radius (3 is the usual choice; 5 for density
            and coverage in Naeem et al.).

    Returns:
        dict with float ``precision``, ``recall``, ``density``, ``coverage``: all in ``[0, 1]``
        except density (about 1 when the two sets match, above 1 when generated samples
        crowd dense real regions). Identical sets give precision = recall = coverage = 1.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> r = precision_recall(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 5.0)
        >>> r["precision"], r["recall"]
        (0.0, 0.0)
    """
    real = check_features("real_features", real_features)
    fake = check_features("fake_features", fake_features)
    check_same_dim("real_features", real, "fake_features", fake)
    k = check_int("k", k, minimum=1)
    real_r2 = knn_radii(real, k) ** 2
    fake_r2 = knn_radii(fake, k) ** 2
    real_norms = _sq_norms(real)
    n, m = real.shape[0], fake.shape[0]
    precise = np.zeros(m, dtype=bool)
    density_hits = np.zeros(m, dtype=np.float64)
    recalled = np.zeros(n, dtype=bool)
    nearest_fake = np.full(n, np.inf)
    for start in range(0, m, _BLOCK):
        stop = min(start + _BLOCK, m)
        d = _sq_distances(fake[start:stop], real, real_norms)  # (block, n)
        inside_real = d <= real_r2[None, :]
        precise[start:stop] = inside_real.any(axis=1)
        density_hits[start:stop] = inside_real.sum(axis=1)
        recalled |= (d <= fake_r2[start:stop, None]).any(axis=0)
        np.minimum(nearest_fake, d.min(axis=0), out=nearest_fake)
    return {
        "precision": float(precise.mean()),
        "recall": float(recalled.mean()),
        "density": float(density_hits.sum() / (k * m)),
        "coverage": float((nearest_fake <= real_r2).mean()),
    }

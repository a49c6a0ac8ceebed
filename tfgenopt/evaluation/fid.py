"""Frechet Inception Distance (FID) between two sets of feature vectors, in float64.

The matrix square root is taken the numerically stable way: ``tr sqrt(S1 S2)`` equals the sum
of the square roots of the eigenvalues of the symmetric positive semi-definite matrix
``sqrt(S1) S2 sqrt(S1)``, so two symmetric eigendecompositions (``numpy.linalg.eigh``) replace
the general, complex-valued ``scipy.linalg.sqrtm``; tiny negative eigenvalues from round-off
are clipped to zero instead of producing imaginary parts. NumPy only; no SciPy at run time.
"""

from __future__ import annotations

import numpy as np

from tfgenopt.evaluation import extractors
from tfgenopt.evaluation._checks import check_features, check_same_dim

__all__ = ["fid", "fid_from_images", "feature_statistics", "frechet_distance"]


def feature_statistics(features):
    """Return the mean vector and the (unbiased, ``ddof=1``) covariance matrix of features.

    Args:
        features: array ``(n, d)`` with ``n >= 2``.

    Returns:
        ``(mu, sigma)``: float64 arrays of shapes ``(d,)`` and ``(d, d)``.

    Example:
        >>> mu, sigma = feature_statistics(np.eye(3))
        >>> mu.shape, sigma.shape
        ((3,), (3, 3))
    """
    x = check_features("features", features)
    mu = x.mean(axis=0)
    centered = x - mu
    sigma = centered.T @ centered / (x.shape[0] - 1)
    return mu, sigma


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix (eigh, clipped)."""
    w, v = np.linalg.eigh(matrix)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(sigma1, sigma2):
    """Return ``tr sqrt(sigma1 @ sigma2)`` for two covariance matrices, via symmetric eigh.

    Args:
        sigma1, sigma2: symmetric positive semi-definite matrices ``(d, d)``, float64.

    Returns:
        The trace as a Python float (eigenvalues below 0 from round-off count as 0).

    Example:
        >>> float(trace_sqrt_product(4 * np.eye(2), np.eye(2)))
        4.0
    """
    root = _sqrt_psd(sigma1)
    product = root @ sigma2 @ root
    product = 0.5 * (product + product.T)
    eig = np.linalg.eigvalsh(product)
    return float(np.sqrt(np.clip(eig, 0.0, None)).sum())


def _check_stats(mu1, sigma1, mu2, sigma2):
    out = []
    for name, mu, sigma in (("mu1", mu1, sigma1), ("mu2", mu2, sigma2)):
        mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
        sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
        if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
            sname = "sigma" + name[-1]
            raise ValueError(
                f"`{name}` must be a vector (d,) and `{sname}` a matrix (d, d); received shapes "
                f"{mu.shape} and {sigma.shape}."
            )
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
            raise ValueError(f"`{name}` and its covariance must be finite.")
        out += [mu, sigma]
    if out[0].shape != out[2].shape:
        raise ValueError(
            f"`mu1` and `mu2` must have the same dimension; received {out[0].shape[0]} and "
            f"{out[2].shape[0]}."
        )
    return out


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Return the Frechet distance between the Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``d^2 = |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr sqrt(sigma1 sigma2)``, in float64.

    Args:
        mu1, mu2: mean vectors ``(d,)``.
        sigma1, sigma2: covariance matrices ``(d, d)`` (symmetric positive semi-definite).

    Returns:
        The squared Frechet distance as a Python float (``>= 0`` up to round-off; clipped at 0).

    Example:
        >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
        2.0
    """
    mu1, sigma1, mu2, sigma2 = _check_stats(mu1, sigma1, mu2, sigma2)
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2.0 * trace_sqrt_product(sigma1, sigma2))
    return float(max(value, 0.0))


def fid(features_a, features_b):
    """Return the Frechet distance (FID) between two sets of feature vectors.

    Each set is summarised by its mean and unbiased covariance (:func:`feature_statistics`),
    then compared with :func:`frechet_distance`. Lower is better; a set against itself gives 0.
    Needs a few more samples than feature dimensions for a stable covariance.

    Args:
        features_a: real features ``(n, d)``.
        features_b: generated features ``(m, d)``.

    Returns:
        FID as a Python float.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(500, 4))
        >>> round(fid(a, a), 6)
        0.0
    """
    a = check_features("features_a", features_a)
    b = check_features("features_b", features_b)
    check_same_dim("features_a", a, "features_b", b)
    return frechet_distance(*feature_statistics(a), *feature_statistics(b))


def fid_from_images(images_a, images_b, extractor=None, batch_size=256, verbose=0,
                    value_range=None):
    """Return the FID between two image sets, using a feature extractor (the digits CNN by default).

    Args:
        images_a: real images (any digit size or value range the package uses, or flat vectors).
        images_b: generated images, same conventions.
        extractor: ``None``/``"digits"``/``"mnist"`` (the cached domain classifier),
            ``"domain"`` (an extractor trained on ``images_a``, cached), ``"inception"`` or a
            local InceptionV3 weights path, any ``keras.Model``, or a ``FeatureExtractor``.
        batch_size: images per forward pass.
        verbose: 1 shows a progress bar.
        value_range: pixel range of both sets, e.g. ``(-1, 1)``; ``None`` infers it per set.

    Returns:
        FID as a Python float.

    Example:
        Not run as a doctest: it trains the digits classifier on first use (about a minute).

        >>> x_train, x_val = tfgenopt.data.load_digits()  # doctest: +SKIP
        >>> fid_from_images(x_train, x_val)  # doctest: +SKIP
    """
    ext = extractors.get(extractor, real=images_a)
    fa = ext.features(images_a, batch_size=batch_size, verbose=verbose, value_range=value_range)
    fb = ext.features(images_b, batch_size=batch_size, verbose=verbose, value_range=value_range)
    return fid(fa, fb)

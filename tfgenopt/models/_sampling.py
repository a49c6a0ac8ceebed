"""The one batched sampling loop that every model's ``generate`` runs.

A generator (GAN), a decoder (VAE) and a diffusion sampler all map starting noise (and labels)
to samples; :func:`in_batches` runs such a map over ``n`` rows ``batch_size`` at a time and
returns one float32 NumPy array, so memory stays bounded by the batch and the noise is drawn
once, up front, from one seed (the same samples whatever the batch size).
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt._validation import check_int

__all__ = ["draw_noise", "in_batches"]


def draw_noise(n, shape, seed):
    """Standard normal noise of shape ``(n,) + shape`` as a float32 NumPy array.

    Args:
        n: rows.
        shape: the shape of one row.
        seed: an int, a ``keras.random.SeedGenerator`` or None.

    Example:
        >>> draw_noise(2, (3,), seed=0).shape
        (2, 3)
    """
    z = keras.random.normal((int(n),) + tuple(shape), seed=seed)
    return np.asarray(keras.ops.convert_to_numpy(z), dtype="float32")


def in_batches(fn, noise, labels=None, batch_size=256):
    """``fn(noise_batch, labels_batch)`` over ``noise`` in batches, concatenated as float32.

    Args:
        fn: a callable ``(noise, labels_or_None) -> samples`` for one batch.
        noise: the starting noise of all ``n`` samples, ``(n, ...)``.
        labels: ``n`` labels or None.
        batch_size: rows per call of ``fn`` (at least 1).

    Returns:
        A float32 ``np.ndarray`` with ``n`` rows.

    Example:
        >>> in_batches(lambda z, y: z * 2, np.ones((5, 2), "float32"), batch_size=2).shape
        (5, 2)
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    out = []
    for i in range(0, len(noise), batch_size):
        y = None if labels is None else labels[i:i + batch_size]
        out.append(np.asarray(keras.ops.convert_to_numpy(fn(noise[i:i + batch_size], y))))
    return np.concatenate(out).astype("float32", copy=False)

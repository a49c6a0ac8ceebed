"""Directions in weight space: filter-normalized random ones, trajectory PCA, A -> B.

A direction is a list of NumPy arrays, one per probed variable (see
:func:`tfgenopt.landscape.probe_variables`), so it can be added to the weights directly.
Filter normalization (Li et al. 2018, "Visualizing the loss landscape of neural nets")
rescales every filter of a random direction to the norm of the matching filter of the
weights, which makes slices of differently scaled networks comparable.
"""

from __future__ import annotations

from collections import namedtuple

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_int
from tfgenopt.landscape.objectives import probe_variables
from tfgenopt.models import protocol

__all__ = [
    "get_weights",
    "random_direction",
    "random_directions",
    "normalize_direction",
    "direction_between",
    "trajectory_pca",
    "TrajectoryPCA",
]

NORMALIZATIONS = ("filter", "layer", "none")
BIAS_MODES = ("zero", "keep")

TrajectoryPCA = namedtuple("TrajectoryPCA", ["directions", "explained_variance_ratio",
                                             "coords", "origin"])
TrajectoryPCA.__doc__ = """Result of :func:`trajectory_pca`.

Attributes:
    directions: the principal directions, each a list of arrays (unit norm overall).
    explained_variance_ratio: fraction of the trajectory's variance along each direction.
    coords: ``(T, n_components)`` coordinates of every trajectory point in that basis.
    origin: the weights the coordinates are measured from (the last point by default).
"""

_TRANSPOSED = tuple(getattr(keras.layers, n) for n in
                    ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
                    if hasattr(keras.layers, n))


def _walk(layer, seen):
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield layer
    for sub in getattr(layer, "layers", None) or ():
        yield from _walk(sub, seen)


def _filter_axes(model, variables):
    """Axis that indexes filters for each variable: last, or -2 for transposed-conv kernels."""
    transposed = set()
    if not isinstance(model, (list, tuple)):
        seen = set()
        roots = protocol.networks(model).values() if isinstance(model, keras.Model) else ()
        for root in roots:
            for layer in _walk(root, seen):
                if isinstance(layer, _TRANSPOSED):
                    transposed.add(id(layer.kernel))
    return [-2 if id(v) in transposed else -1 for v in variables]


def _variables(model, player):
    if isinstance(model, (list, tuple)):
        return list(model)
    return probe_variables(model, player)


def get_weights(model, player=None):
    """A copy of the probed weights of ``model`` (the origin of slices) as NumPy arrays.

    Args:
        model: a model, GAN (with ``player``), VAE or Objective.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.

    Returns:
        A list of arrays, one per probed variable.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> [w.shape for w in get_weights(m)]
        [(3, 2), (2,)]
    """
    return [np.array(keras.ops.convert_to_numpy(v.value), copy=True)
            for v in _variables(model, player)]


def _columns(a, axis):
    """View ``a`` as ``(-1, n_filters)`` with filters along ``axis``; returns (matrix, undo)."""
    moved = np.moveaxis(a, axis, -1)
    shape = moved.shape

    def undo(m):
        return np.moveaxis(m.reshape(shape), -1, axis)

    return moved.reshape(-1, shape[-1]), undo


def _groups(w, axis, normalization, bias):
    """How to split one variable into normalization groups: 'zero', 'columns' or 'whole'."""
    if w.ndim <= 1:
        if bias == "zero" and normalization != "none":
            return "zero"
        return "whole"
    return "columns" if normalization == "filter" else "whole"


def _normalize(d_list, weights, axes, normalization, bias, previous=()):
    """Orthogonalize each group of ``d`` against ``previous`` directions, then rescale it."""
    out = []
    for i, (d, w, axis) in enumerate(zip(d_list, weights, axes)):
        mode = _groups(w, axis, normalization, bias)
        if mode == "zero":
            out.append(np.zeros_like(w))
            continue
        if mode == "columns":
            dm, undo = _columns(d.astype(np.float64), axis)
            wm, _ = _columns(w.astype(np.float64), axis)
            prev = [_columns(p[i].astype(np.float64), axis)[0] for p in previous]
        else:
            dm, wm = d.astype(np.float64).reshape(-1, 1), w.astype(np.float64).reshape(-1, 1)
            prev = [p[i].astype(np.float64).reshape(-1, 1) for p in previous]

            def undo(m, shape=w.shape):
                return m.reshape(shape)

        for p in prev:  # Gram-Schmidt inside every group keeps the group norms exact
            pn = np.sum(p * p, axis=0)
            coef = np.divide(np.sum(dm * p, axis=0), pn, out=np.zeros_like(pn), where=pn > 0)
            dm = dm - coef * p
        if normalization != "none":
            dn = np.linalg.norm(dm, axis=0)
            wn = np.linalg.norm(wm, axis=0)
            dm = dm * np.divide(wn, dn, out=np.zeros_like(dn), where=dn > 0)
        out.append(undo(dm).astype(w.dtype))
    return out


def normalize_direction(direction, weights, normalization="filter", bias="zero", axes=None):
    """Rescale ``direction`` to the scale of ``weights``, per filter or per layer.

    Args:
        direction: list of arrays (one per variable).
        weights: list of arrays of the same shapes (the point the direction starts from).
        normalization: ``"filter"`` (each filter, i.e. each slice along the last axis of a
            kernel, gets the norm of the same filter of the weights), ``"layer"`` (each tensor
            gets the norm of its weights) or ``"none"``.
        bias: ``"zero"`` zeroes 1-D variables (biases, normalization scales and offsets) or
            ``"keep"`` normalizes each of them as one group.
        axes: the filter axis of each variable (default: the last).

    Returns:
        A new list of arrays.

    Example:
        >>> import numpy as np
        >>> d = normalize_direction([np.ones((2, 3))], [np.full((2, 3), 3.0)])
        >>> np.linalg.norm(d[0][:, 0]).round(6), np.linalg.norm(3.0 * np.ones(2)).round(6)
        (np.float64(4.242641), np.float64(4.242641))
    """
    check_choice("normalization", normalization, NORMALIZATIONS)
    check_choice("bias", bias, BIAS_MODES)
    direction, weights = list(direction), list(weights)
    if len(direction) != len(weights):
        raise ValueError(f"`direction` has {len(direction)} arrays but `weights` has "
                         f"{len(weights)}.")
    axes = axes or [-1] * len(weights)
    return _normalize([np.asarray(d) for d in direction], [np.asarray(w) for w in weights],
                      axes, normalization, bias)


def random_directions(model, n=2, player=None, seed=None, normalization="filter", bias="zero",
                      orthogonal=True, weights=None):
    """``n`` random Gaussian directions, normalized and (by default) mutually orthogonal.

    Orthogonalization is done inside every normalization group (filter or layer), so the
    directions are orthogonal overall *and* keep the exact group norms.

    Args:
        model: a model, GAN (with ``player``), VAE, Objective, or a list of variables.
        n: number of directions.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        seed: seed of ``np.random.default_rng``.
        normalization: ``"filter"``, ``"layer"`` or ``"none"`` (see
            :func:`normalize_direction`).
        bias: ``"zero"`` or ``"keep"`` for 1-D variables.
        orthogonal: orthogonalize each direction against the previous ones.
        weights: the weights to normalize against (default: the current ones).

    Returns:
        A list of ``n`` directions (each a list of arrays).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
        >>> d1, d2 = random_directions(m, seed=0)
        >>> abs(float(sum((a * b).sum() for a, b in zip(d1, d2)))) < 1e-6
        True
    """
    n = check_int("n", n, minimum=1)
    check_choice("normalization", normalization, NORMALIZATIONS)
    check_choice("bias", bias, BIAS_MODES)
    variables = _variables(model, player)
    weights = [np.asarray(w) for w in (weights if weights is not None else
                                       get_weights(variables))]
    axes = _filter_axes(model, variables)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        raw = [rng.standard_normal(w.shape) for w in weights]
        out.append(_normalize(raw, weights, axes, normalization, bias,
                              previous=out if orthogonal else ()))
    return out


def random_direction(model, player=None, seed=None, normalization="filter", bias="zero",
                     weights=None):
    """One random Gaussian direction, filter-normalized by default.

    Args:
        model: a model, GAN (with ``player``), VAE, Objective, or a list of variables.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        seed: seed of ``np.random.default_rng``.
        normalization: ``"filter"``, ``"layer"`` or ``"none"``.
        bias: ``"zero"`` or ``"keep"`` for 1-D variables.
        weights: the weights to normalize against (default: the current ones).

    Returns:
        A list of arrays, one per probed variable.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
        >>> [d.shape for d in random_direction(m, seed=0)]
        [(3, 4), (4,)]
    """
    return random_directions(model, 1, player, seed, normalization, bias, False, weights)[0]


def direction_between(weights_a, weights_b):
    """The direction ``weights_b - weights_a`` (e.g. init -> trained, checkpoint A -> B).

    Args:
        weights_a: list of arrays.
        weights_b: list of arrays of the same shapes.

    Returns:
        A list of arrays.

    Example:
        >>> import numpy as np
        >>> direction_between([np.zeros(2)], [np.ones(2)])[0].tolist()
        [1.0, 1.0]
    """
    weights_a, weights_b = list(weights_a), list(weights_b)
    if len(weights_a) != len(weights_b):
        raise ValueError(f"`weights_a` has {len(weights_a)} arrays, `weights_b` "
                         f"{len(weights_b)}; they must describe the same variables.")
    out = []
    for a, b in zip(weights_a, weights_b):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise ValueError(f"`weights_a` and `weights_b` disagree on a shape: {a.shape} vs "
                             f"{b.shape}.")
        out.append(b - a)
    return out


def trajectory_pca(trajectory, n_components=None, origin=None):
    """Principal directions of a weight trajectory (a list of weight snapshots).

    Args:
        trajectory: list of ``T >= 2`` snapshots, each a list of arrays (e.g. from
            :func:`get_weights` after every epoch).
        n_components: number of directions (at most ``T - 1``); default ``min(2, T - 1)``:
            the plane of :func:`~tfgenopt.landscape.trajectory_surface`, or the one direction
            two snapshots define.
        origin: snapshot the coordinates are measured from (default: the last one).

    Returns:
        A :class:`TrajectoryPCA`.

    Example:
        >>> import numpy as np
        >>> traj = [[np.array([t, 2.0 * t, 0.0])] for t in range(4)]
        >>> trajectory_pca(traj, n_components=1).explained_variance_ratio.round(6).tolist()
        [1.0]
        >>> len(trajectory_pca(traj[:2]).directions)  # two snapshots: one direction
        1
    """
    trajectory = [list(s) for s in trajectory]
    if len(trajectory) < 2:
        raise ValueError(f"`trajectory` needs at least 2 snapshots; received {len(trajectory)}.")
    if n_components is None:
        n_components = min(2, len(trajectory) - 1)
    n_components = check_int("n_components", n_components, minimum=1,
                             maximum=len(trajectory) - 1)
    shapes = [np.shape(a) for a in trajectory[0]]
    flat = np.stack([np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in s])
                     for s in trajectory])
    origin = trajectory[-1] if origin is None else list(origin)
    center = np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in origin])
    diffs = flat - center
    centered = diffs - diffs.mean(axis=0)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    var = s ** 2
    ratio = var[:n_components] / var.sum() if var.sum() > 0 else np.zeros(n_components)
    directions = []
    for k in range(n_components):
        parts, start = [], 0
        for shape, ref in zip(shapes, trajectory[0]):
            size = int(np.prod(shape, dtype=np.int64))
            parts.append(vt[k, start:start + size].reshape(shape).astype(np.asarray(ref).dtype))
            start += size
        directions.append(parts)
    coords = diffs @ vt[:n_components].T
    return TrajectoryPCA(directions, ratio, coords, [np.asarray(a) for a in origin])

"""Loss along lines and planes in weight space: 1-D slices, 2-D surfaces, interpolation.

Every point is evaluated by one compiled loop that substitutes ``origin + a * d1 (+ b * d2)``
for the weights in a ``keras.StatelessScope``: the model's weights, optimizer state,
BatchNorm statistics and seed states are never written, so they are bitwise unchanged
afterwards, also after an error or ``KeyboardInterrupt``.
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt._validation import check_float, check_int
from tfgenopt.landscape import _engine
from tfgenopt.landscape.directions import direction_between, random_directions, trajectory_pca
from tfgenopt.landscape.objectives import objective

__all__ = ["slice_1d", "surface_2d", "interpolate", "trajectory_surface"]


def _alphas(name, alphas, default_lo, default_hi, default_n=21):
    if alphas is None:
        alphas = default_n
    if isinstance(alphas, (int, np.integer)) and not isinstance(alphas, bool):
        n = check_int(name, int(alphas), minimum=2)
        return np.linspace(default_lo, default_hi, n)
    arr = np.asarray(alphas, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be an int >= 2 or a non-empty 1-D array of finite "
                         f"numbers; received {alphas!r}.")
    return arr


def _random(model, obj, player, n, seed, origin):
    """Default filter-normalized directions (the model's layers tell transposed kernels)."""
    if isinstance(model, keras.Model):
        return random_directions(model, n, player=player, seed=seed, weights=origin)
    return random_directions(obj.variables, n, seed=seed, weights=origin)


# Points evaluated together are vectorized: bound the samples one call holds in memory.
MAX_SAMPLES_PER_CALL = 16384


def _run(obj, coefficients, directions, origin, chunk, verbose, label):
    """Evaluate ``obj`` at every coefficient row, ``chunk`` rows per compiled call."""
    if obj.strategy not in _engine.LOOPS:  # vectorized points hold all their activations
        chunk = max(1, min(chunk, MAX_SAMPLES_PER_CALL // obj.num_samples))
    origin = obj.point_tensors(origin, "origin")  # converted once, not per chunk
    directions = [obj.point_tensors(d, "direction") for d in directions]
    basis = obj.basis(directions, origin)  # the first layer's share of the plane, once
    results = {}
    bar = keras.utils.Progbar(len(coefficients), verbose=1 if verbose else 0,
                              unit_name=label) if verbose else None
    for start in range(0, len(coefficients), chunk):
        out = obj.evaluate_points(coefficients[start:start + chunk], directions, origin, basis)
        for k, v in out.items():
            results.setdefault(k, []).append(v)
        if bar is not None:
            bar.update(min(start + chunk, len(coefficients)))
    return {k: np.concatenate(v) for k, v in results.items()}


def slice_1d(model, data=None, direction=None, alphas=None, origin=None, player=None,
             metrics=None, batch_size=None, seed=None, verbose=0):
    """The loss (and metrics) at ``origin + alpha * direction`` for every ``alpha``.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set (see :func:`tfgenopt.landscape.objective`).
        direction: list of arrays; default a filter-normalized random direction (``seed``).
        alphas: an int (that many points in ``[-1, 1]``) or an array of coefficients.
        origin: the center (list of arrays); default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        metrics: extra metrics of a plain model, e.g. ``["accuracy"]``.
        batch_size: evaluate the probe set in chunks of this size.
        seed: seed of the default random direction.
        verbose: 1 shows a progress bar.

    Returns:
        ``{"alphas": (n,), "loss": (n,), <metric>: (n,), ...}`` NumPy arrays.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
        >>> m.compile("sgd", "mse")
        >>> s = slice_1d(m, np.ones((8, 4), "float32"), alphas=5, seed=0)
        >>> s["loss"].shape
        (5,)
    """
    alphas = _alphas("alphas", alphas, -1.0, 1.0)
    obj = objective(model, data, player=player, metrics=metrics, batch_size=batch_size)
    origin = obj.check_weights("origin", origin)
    if direction is None:
        direction = _random(model, obj, player, 1, seed, origin)[0]
    direction = obj.check_weights("direction", direction)
    out = _run(obj, alphas[:, None], [direction], origin, max(1, len(alphas)), verbose, "point")
    return {"alphas": alphas, **out}


def surface_2d(model, data=None, d1=None, d2=None, grid=21, span=1.0, origin=None, player=None,
               metrics=None, batch_size=None, seed=None, verbose=0):
    """The loss on the plane ``origin + a * d1 + b * d2`` over a grid of ``(a, b)``.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        d1, d2: directions (lists of arrays); default a filter-normalized orthogonal random
            pair (``seed``).
        grid: an int (``grid`` x ``grid`` points on ``[-span, span]^2``) or a pair of
            coefficient arrays ``(alphas, betas)``.
        span: half-width of the default grid.
        origin: the center (list of arrays); default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        metrics: extra metrics of a plain model.
        batch_size: evaluate the probe set in chunks of this size.
        seed: seed of the default directions.
        verbose: 1 shows a progress bar (one step per grid row).

    Returns:
        ``{"alphas": (na,), "betas": (nb,), "loss": (nb, na), ...}``: row ``i`` is
        ``betas[i]``, column ``j`` is ``alphas[j]`` (the layout of ``plt.contour``).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
        >>> m.compile("sgd", "mse")
        >>> surface_2d(m, np.ones((8, 4), "float32"), grid=3, seed=0)["loss"].shape
        (3, 3)
    """
    span = check_float("span", span, minimum=0.0, min_inclusive=False)
    if isinstance(grid, (tuple, list)) and len(grid) == 2:
        alphas = _alphas("grid[0]", grid[0], -span, span)
        betas = _alphas("grid[1]", grid[1], -span, span)
    else:
        alphas = betas = _alphas("grid", grid, -span, span)
    obj = objective(model, data, player=player, metrics=metrics, batch_size=batch_size)
    origin = obj.check_weights("origin", origin)
    if d1 is None or d2 is None:
        r1, r2 = _random(model, obj, player, 2, seed, origin)
        d1 = r1 if d1 is None else d1
        d2 = r2 if d2 is None else d2
    d1, d2 = obj.check_weights("d1", d1), obj.check_weights("d2", d2)
    aa, bb = np.meshgrid(alphas, betas)
    coeffs = np.stack([aa.ravel(), bb.ravel()], axis=1)
    out = _run(obj, coeffs, [d1, d2], origin, len(alphas), verbose, "point")
    shape = (len(betas), len(alphas))
    return {"alphas": alphas, "betas": betas, **{k: v.reshape(shape) for k, v in out.items()}}


def interpolate(model, data=None, weights_a=None, weights_b=None, alphas=None, player=None,
                metrics=None, batch_size=None, verbose=0):
    """The loss along the straight line ``(1 - alpha) * weights_a + alpha * weights_b``.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        weights_a: start (list of arrays, e.g. the initial weights).
        weights_b: end (list of arrays); default the current weights.
        alphas: an int (that many points in ``[0, 1]``) or an array (values outside
            ``[0, 1]`` extrapolate).
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        metrics: extra metrics of a plain model.
        batch_size: evaluate the probe set in chunks of this size.
        verbose: 1 shows a progress bar.

    Returns:
        ``{"alphas": (n,), "loss": (n,), ...}`` NumPy arrays.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
        >>> m.compile("sgd", "mse")
        >>> w0 = [w * 0 for w in m.get_weights()]
        >>> interpolate(m, np.ones((8, 4), "float32"), w0, alphas=3)["alphas"].tolist()
        [0.0, 0.5, 1.0]
    """
    if weights_a is None:
        raise ValueError("`weights_a` is required (a list of arrays, e.g. the initial "
                         "weights from `tfgenopt.landscape.get_weights`).")
    alphas = _alphas("alphas", alphas, 0.0, 1.0)
    obj = objective(model, data, player=player, metrics=metrics, batch_size=batch_size)
    weights_a = obj.check_weights("weights_a", weights_a)
    weights_b = obj.check_weights("weights_b", weights_b)
    direction = direction_between(weights_a, weights_b)
    out = _run(obj, alphas[:, None], [direction], weights_a, max(1, len(alphas)), verbose,
               "point")
    return {"alphas": alphas, **out}


def trajectory_surface(model, data=None, trajectory=None, grid=21, margin=0.25, player=None,
                       batch_size=None, verbose=0):
    """The loss surface on the PCA plane of a weight trajectory, with the projected path.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        trajectory: list of ``T >= 3`` weight snapshots (lists of arrays), e.g. one per epoch.
        grid: points per axis.
        margin: the grid covers the projected path plus this fraction of its extent.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        batch_size: evaluate the probe set in chunks of this size.
        verbose: 1 shows a progress bar.

    Returns:
        A ``surface_2d`` result centered on the last snapshot, plus ``"trajectory"`` (the
        ``(T, 2)`` path coordinates) and ``"explained_variance_ratio"``.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile("sgd", "mse")
        >>> traj = [[w + 0.1 * t * (1 + w) for w in m.get_weights()] for t in (0, 1, 3)]
        >>> s = trajectory_surface(m, np.ones((4, 2), "float32"), traj, grid=3)
        >>> s["loss"].shape, s["trajectory"].shape
        ((3, 3), (3, 2))
    """
    if trajectory is None or len(trajectory) < 3:
        raise ValueError("`trajectory` needs at least 3 weight snapshots for a PCA plane; "
                         f"received {0 if trajectory is None else len(trajectory)}.")
    margin = check_float("margin", margin, minimum=0.0)
    pca = trajectory_pca(trajectory, n_components=2)
    lo, hi = pca.coords.min(axis=0), pca.coords.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-8)
    n = check_int("grid", grid, minimum=2)
    alphas = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    betas = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    out = surface_2d(model, data, pca.directions[0], pca.directions[1], grid=(alphas, betas),
                     origin=pca.origin, player=player, batch_size=batch_size, verbose=verbose)
    out["trajectory"] = pca.coords
    out["explained_variance_ratio"] = pca.explained_variance_ratio
    return out

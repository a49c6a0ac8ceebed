"""Curvature of the loss: Hessian-vector products, top eigenvalues, trace, sharpness, noise scale.

All of it is built on compiled Hessian-vector products (double backprop by default, or
forward-over-reverse) of an :class:`~tfgenopt.landscape.Objective`, evaluated at a point
substituted for the weights: the model's state is never written.
"""

from __future__ import annotations

from statistics import NormalDist

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.landscape.objectives import objective
from tfgenopt.landscape.spectrum import lanczos_basis

__all__ = ["hvp", "hessian_eigenvalues", "hessian_trace", "gradient_norm", "sharpness",
           "gradient_noise_scale"]


def _flat_vector(obj, vector):
    if isinstance(vector, (list, tuple)):
        return obj.flatten(obj.check_weights("vector", vector))
    vector = np.asarray(vector, dtype=np.float64)
    if vector.shape != (obj.num_params,):
        raise ValueError(f"`vector` must be a list of arrays shaped like the variables or a "
                         f"flat vector of length {obj.num_params}; received shape "
                         f"{vector.shape}.")
    return vector


def hvp(model, data=None, vector=None, point=None, player=None, method="reverse",
        batch_size=None):
    """The Hessian-vector product ``H @ vector`` of the loss at ``point``.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        vector: a direction (list of arrays) or a flat vector.
        point: where the Hessian is taken (list of arrays); default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        method: ``"reverse"`` (double backprop) or ``"forward"`` (forward-over-reverse).
        batch_size: evaluate the probe set in chunks of this size.

    Returns:
        A list of arrays shaped like the variables (a flat vector if ``vector`` was flat).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse")
        >>> x = np.eye(2, dtype="float32"); y = np.zeros((2, 1), "float32")
        >>> hvp(m, (x, y), np.array([1.0, 0.0])).round(4).tolist()
        [1.0, 0.0]
    """
    check_choice("method", method, ("reverse", "forward"))
    if vector is None:
        raise ValueError("`vector` is required (a list of arrays or a flat vector).")
    obj = objective(model, data, player=player, batch_size=batch_size)
    flat = _flat_vector(obj, vector)
    out = obj.hvp(flat, point, method)
    return out if not isinstance(vector, (list, tuple)) else obj.unflatten(out)


def _lanczos(matvec, n, k, steps, rng):
    """Top-``k`` eigenpairs of a symmetric operator by Lanczos with full reorthogonalization."""
    alphas, betas, basis = lanczos_basis(matvec, rng.standard_normal(n), min(steps, n))
    m = len(alphas)
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    evals, evecs = np.linalg.eigh(t)
    order = np.argsort(evals)[::-1][:k]
    vectors = np.stack(basis[:m], axis=1) @ evecs[:, order]
    return evals[order], vectors.T


def _power(matvec, n, k, iterations, tol, rng):
    """Top-``k`` eigenpairs (by magnitude) by power iteration with deflation."""
    values, vectors = [], []
    for _ in range(k):
        v = rng.standard_normal(n)
        v /= np.linalg.norm(v)
        value = 0.0
        for _ in range(iterations):
            w = matvec(v)
            for lam, u in zip(values, vectors):
                w -= lam * (u @ v) * u
            new = float(v @ w)
            norm = np.linalg.norm(w)
            if norm == 0:
                value = 0.0
                break
            v = w / norm
            converged = abs(new - value) <= tol * max(abs(new), 1e-12)
            value = new
            if converged:
                break
        values.append(value)
        vectors.append(v)
    return np.asarray(values), np.stack(vectors)


def hessian_eigenvalues(model, data=None, k=1, method="lanczos", iterations=None, tol=1e-4,
                        point=None, player=None, seed=None, return_vectors=False,
                        batch_size=None, hvp_method="reverse", verbose=0):
    """The top-``k`` eigenvalues of the Hessian of the loss (largest first).

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        k: how many eigenvalues.
        method: ``"lanczos"`` (largest algebraic values, full reorthogonalization) or
            ``"power"`` (largest magnitudes, power iteration with deflation).
        iterations: Lanczos steps (default ``max(30, 3k)``) or power iterations per
            eigenvalue (default 100).
        tol: relative tolerance of power iteration.
        point: where the Hessian is taken; default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        seed: seed of the start vector.
        return_vectors: also return the eigenvectors (a ``(k, num_params)`` array).
        batch_size: evaluate the probe set in chunks of this size.
        hvp_method: ``"reverse"`` or ``"forward"`` (see :func:`hvp`).
        verbose: 1 shows a progress bar (one step per Hessian-vector product).

    Returns:
        A ``(k,)`` array, or ``(values, vectors)`` when ``return_vectors``.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse")
        >>> x = np.diag([1.0, 2.0]).astype("float32"); y = np.zeros((2, 1), "float32")
        >>> hessian_eigenvalues(m, (x, y), k=2).round(3).tolist()
        [4.0, 1.0]
    """
    check_choice("method", method, ("lanczos", "power"))
    check_choice("hvp_method", hvp_method, ("reverse", "forward"))
    tol = check_float("tol", tol, minimum=0.0)
    obj = objective(model, data, player=player, batch_size=batch_size)
    k = check_int("k", k, minimum=1, maximum=obj.num_params)
    default = max(30, 3 * k) if method == "lanczos" else 100
    iterations = check_int("iterations", default if iterations is None else iterations,
                           minimum=k)
    origin = obj.point_tensors(point)
    total = iterations * (1 if method == "lanczos" else k)
    bar = keras.utils.Progbar(total, unit_name="hvp") if verbose else None
    count = [0]

    def matvec(v):
        count[0] += 1
        if bar is not None:
            bar.update(min(count[0], total))
        return obj.hvp(v, origin, hvp_method)

    rng = np.random.default_rng(seed)
    if method == "lanczos":
        values, vectors = _lanczos(matvec, obj.num_params, k, iterations, rng)
    else:
        values, vectors = _power(matvec, obj.num_params, k, iterations, tol, rng)
    return (values, vectors) if return_vectors else values


def hessian_trace(model, data=None, samples=32, confidence=0.95, point=None, player=None,
                  seed=None, batch_size=None, hvp_method="reverse", verbose=0):
    """Hutchinson's estimate of the Hessian trace, with a normal confidence interval.

    ``trace(H) = E[v^T H v]`` for Rademacher ``v``; the estimate is the mean over ``samples``
    vectors and the interval is ``mean +- z * std / sqrt(samples)``.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        samples: number of Rademacher vectors (>= 2).
        confidence: level of the interval, in (0, 1).
        point: where the Hessian is taken; default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        seed: seed of the Rademacher vectors.
        batch_size: evaluate the probe set in chunks of this size.
        hvp_method: ``"reverse"`` or ``"forward"``.
        verbose: 1 shows a progress bar.

    Returns:
        ``{"trace", "std_error", "ci_low", "ci_high", "samples"}`` (floats, int).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse")
        >>> x = np.diag([1.0, 2.0]).astype("float32"); y = np.zeros((2, 1), "float32")
        >>> round(hessian_trace(m, (x, y), samples=4, seed=0)["trace"], 4)
        5.0
    """
    samples = check_int("samples", samples, minimum=2)
    confidence = check_float("confidence", confidence, 0.0, 1.0, min_inclusive=False,
                             max_inclusive=False)
    check_choice("hvp_method", hvp_method, ("reverse", "forward"))
    obj = objective(model, data, player=player, batch_size=batch_size)
    origin = obj.point_tensors(point)
    rng = np.random.default_rng(seed)
    bar = keras.utils.Progbar(samples, unit_name="hvp") if verbose else None
    values = np.empty(samples)
    for i in range(samples):
        v = rng.choice(np.array([-1.0, 1.0]), size=obj.num_params)
        values[i] = float(v @ obj.hvp(v, origin, hvp_method))
        if bar is not None:
            bar.update(i + 1)
    mean = float(values.mean())
    std_error = float(values.std(ddof=1) / np.sqrt(samples))
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    return {"trace": mean, "std_error": std_error, "ci_low": mean - z * std_error,
            "ci_high": mean + z * std_error, "samples": samples}


def gradient_norm(model, data=None, point=None, player=None, batch_size=None):
    """The Euclidean norm of the gradient of the loss over the whole probe set.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        point: where the gradient is taken; default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        batch_size: evaluate the probe set in chunks of this size.

    Returns:
        A float.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse"); m.set_weights([np.ones((1, 1), "float32")])
        >>> gradient_norm(m, (np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")))
        2.0
    """
    obj = objective(model, data, player=player, batch_size=batch_size)
    _, grads = obj.gradient(point)
    return float(np.linalg.norm(obj.flatten(grads)))


def sharpness(model, data=None, radius=0.05, steps=1, point=None, player=None,
              batch_size=None):
    """SAM-style sharpness: the largest loss increase found in an L2 ball of ``radius``.

    The first step moves to ``radius * g / ||g||`` (the SAM perturbation); further steps do
    normalized gradient ascent projected on the ball. The reported value is the largest
    increase over the visited points, a lower bound of the true maximum.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        radius: the ball's radius (> 0).
        steps: ascent steps (>= 1).
        point: the ball's center; default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        batch_size: evaluate the probe set in chunks of this size.

    Returns:
        ``{"sharpness", "relative_sharpness", "loss", "perturbed_loss", "radius"}``;
        ``relative_sharpness = sharpness / (1 + loss)`` (Keskar et al. 2017).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse"); m.set_weights([np.ones((1, 1), "float32")])
        >>> d = (np.ones((1, 1), "float32"), np.zeros((1, 1), "float32"))
        >>> round(sharpness(m, d, radius=0.5)["sharpness"], 4)  # (1.5^2 - 1)
        1.25
    """
    radius = check_float("radius", radius, minimum=0.0, min_inclusive=False)
    steps = check_int("steps", steps, minimum=1)
    obj = objective(model, data, player=player, batch_size=batch_size)
    center = obj.check_weights("point", point)
    w0 = obj.flatten(center)
    loss0, _ = obj.gradient(center)
    delta = np.zeros_like(w0)
    best = loss0
    for _ in range(steps):
        _, grads = obj.gradient(obj.unflatten(w0 + delta))
        g = obj.flatten(grads)
        gn = np.linalg.norm(g)
        if gn == 0:
            break
        delta = delta + radius * g / gn
        dn = np.linalg.norm(delta)
        if dn > radius:
            delta *= radius / dn
        best = max(best, obj.evaluate(obj.unflatten(w0 + delta))["loss"])
    return {"sharpness": best - loss0, "relative_sharpness": (best - loss0) / (1.0 + loss0),
            "loss": loss0, "perturbed_loss": best, "radius": radius}


def gradient_noise_scale(model, data=None, batch_size=None, point=None, player=None, seed=None):
    """The simple gradient noise scale ``B_noise = tr(Sigma) / |G|^2`` (McCandlish et al. 2018).

    Unbiased estimates of ``|G|^2`` and ``tr(Sigma)`` come from the squared gradient norms
    at two batch sizes: the whole probe set (``B = n``) and disjoint small batches of
    ``batch_size`` taken in the order of ``np.random.default_rng(seed).permutation(n)``
    (their squared norms averaged)::

        |G|^2    = (B |G_B|^2 - b |G_b|^2) / (B - b)
        tr(Sigma) = (|G_b|^2 - |G_B|^2) / (1/b - 1/B)

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        batch_size: the small batch size ``b`` (default ``n // 8``, at least 1); ``b < n``.
        point: where the gradients are taken; default the current weights.
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        seed: seed of the permutation.

    Returns:
        ``{"noise_scale", "grad_norm_sq", "trace_cov", "small_batch", "large_batch"}``;
        ``noise_scale`` is ``inf`` when the ``|G|^2`` estimate is not positive (noise
        dominates the signal at this probe-set size).

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse")
        >>> d = (np.ones((8, 1), "float32"), np.linspace(-1, 1, 8, dtype="float32")[:, None])
        >>> gradient_noise_scale(m, d, batch_size=2, seed=0)["small_batch"]
        2
    """
    obj = objective(model, data, player=player)
    n = obj.num_samples
    if n < 2:
        raise ValueError(f"`data` needs at least 2 samples for a noise scale; received {n}.")
    b = check_int("batch_size", max(1, n // 8) if batch_size is None else batch_size,
                  minimum=1, maximum=n - 1)
    center = obj.point_tensors(point)
    _, grads = obj.gradient(center)
    big = float(np.sum(obj.flatten(grads) ** 2))
    order = np.random.default_rng(seed).permutation(n)
    small = []
    for start in range(0, n - b + 1, b):
        _, grads = obj.gradient(center, obj.subset(order[start:start + b]))
        small.append(float(np.sum(obj.flatten(grads) ** 2)))
    small = float(np.mean(small))
    g2 = (n * big - b * small) / (n - b)
    s = (small - big) / (1.0 / b - 1.0 / n)
    scale = s / g2 if g2 > 0 else float("inf")
    return {"noise_scale": float(scale), "grad_norm_sq": float(g2), "trace_cov": float(s),
            "small_batch": b, "large_batch": n}

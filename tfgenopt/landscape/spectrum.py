"""The Hessian's eigenvalue spectral density (ESD) by stochastic Lanczos quadrature (SLQ).

Each run starts Lanczos from a random unit vector ``v`` and keeps the Ritz values ``theta_i``
of its tridiagonal matrix with the weights ``tau_i = (e_1 . u_i)^2`` (the squared first
components of its eigenvectors): ``sum_i tau_i f(theta_i)`` estimates ``v^T f(H) v`` (exact for
polynomials of degree < 2 * steps), whose mean over random ``v`` is ``tr f(H) / n``. The density
is the runs' mean of ``sum_i tau_i N(x; theta_i, sigma^2)`` on a grid (Ghorbani et al. 2019;
PyHessian's ``density``). The start vectors are Rademacher vectors orthogonalized against the
earlier runs' starts (sampling without replacement): ``runs = n`` makes the moments exact.
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.landscape.objectives import objective

__all__ = ["hessian_spectrum", "lanczos_tridiagonal"]

DEFAULT_STEPS = 30  # Lanczos steps per run when the model has at least this many weights


def lanczos_tridiagonal(matvec, start, steps):
    """The Lanczos tridiagonal matrix of ``matvec`` from ``start`` (full reorthogonalization).

    Args:
        matvec: ``v -> H @ v`` for a symmetric ``H`` (flat float64 vectors).
        start: the start vector (normalized here).
        steps: Lanczos steps (the size of the matrix; fewer when the Krylov space closes).

    Returns:
        ``(alphas, betas)``: the diagonal and the off-diagonal.

    Example:
        >>> a, b = lanczos_tridiagonal(lambda v: np.array([1.0, 3.0]) * v, np.ones(2), 2)
        >>> np.linalg.eigvalsh(np.diag(a) + np.diag(b, 1) + np.diag(b, -1)).round(6).tolist()
        [1.0, 3.0]
    """
    alphas, betas, _ = lanczos_basis(matvec, start, steps)
    return alphas, betas


def lanczos_basis(matvec, start, steps):
    """Lanczos with full reorthogonalization: ``(alphas, betas, basis)`` (the basis as a list).

    The one Lanczos loop of the package: :func:`lanczos_tridiagonal` and the top-``k``
    eigenvalues of ``tfgenopt.landscape.curvature`` both run it.
    """
    q = np.asarray(start, dtype=np.float64)
    q = q / np.linalg.norm(q)
    basis, alphas, betas = [q], [], []
    for j in range(steps):
        w = matvec(basis[j])
        alpha = float(w @ basis[j])
        alphas.append(alpha)
        q_mat = np.stack(basis)
        for _ in range(2):  # twice is enough (Kahan): keeps the basis orthogonal
            w = w - q_mat.T @ (q_mat @ w)
        beta = float(np.linalg.norm(w))
        if j == steps - 1 or beta < 1e-10 * max(1.0, abs(alpha)):
            break
        betas.append(beta)
        basis.append(w / beta)
    return np.asarray(alphas), np.asarray(betas[:len(alphas) - 1]), basis[:len(alphas)]


def _starts(n, runs, rng):
    """``runs`` Rademacher vectors, each orthogonalized against the earlier ones (if runs <= n)."""
    out = []
    for _ in range(runs):
        v = rng.choice(np.array([-1.0, 1.0]), size=n)
        if len(out) < n:
            for _ in range(2):
                for u in out[:n - 1]:
                    v = v - (u @ v) * u
        out.append(v / np.linalg.norm(v))
    return out


def hessian_spectrum(model, data=None, steps=None, runs=4, player=None, grid=1000, sigma=None,
                     point=None, seed=None, batch_size=None, hvp_method="reverse", verbose=0):
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature.

    Args:
        model: a compiled model, GAN (with ``player``), VAE or an ``Objective``.
        data: the probe set.
        steps: Lanczos steps per run (``1 <= steps <= num_params``); ``2 * steps - 1`` moments
            are exact per start vector. Default ``min(30, num_params)``: 30 steps, or as many
            as the model has weights (then the quadrature is exact: every moment matches).
        runs: random start vectors averaged (>= 1).
        player: for a GAN, ``"discriminator"`` or ``"generator"``.
        grid: points of the density's grid.
        sigma: width of the Gaussian kernel; default 1% of the Ritz values' range (at least
            ``1e-6``).
        point: where the Hessian is taken; default the current weights.
        seed: seed of the start vectors.
        batch_size: evaluate the probe set in chunks of this size.
        hvp_method: ``"reverse"`` or ``"forward"`` (see :func:`~tfgenopt.landscape.hvp`).
        verbose: 1 shows a progress bar (one step per Hessian-vector product).

    Returns:
        ``{"grid", "density", "ritz_values", "ritz_weights", "sigma", "moments",
        "num_params"}``: the density on ``grid`` (integrates to 1), the ``(runs, steps)`` Ritz
        values and weights (NaN-padded when a Krylov space closes early), and the quadrature's
        first three moments ``mean(lambda^k)``, ``k = 1, 2, 3``.

    Example:
        >>> import keras, numpy as np
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        >>> m.compile("sgd", "mse")
        >>> x = np.diag([1.0, 2.0]).astype("float32"); y = np.zeros((2, 1), "float32")
        >>> s = hessian_spectrum(m, (x, y), runs=2, seed=0)  # 2 weights: steps=2
        >>> s["moments"].round(3).tolist()  # eigenvalues 1 and 4
        [2.5, 8.5, 32.5]
    """
    check_choice("hvp_method", hvp_method, ("reverse", "forward"))
    obj = objective(model, data, player=player, batch_size=batch_size)
    n = obj.num_params
    steps = check_int("steps", min(DEFAULT_STEPS, n) if steps is None else steps, minimum=1)
    if steps > n:
        raise ValueError(f"`steps` must be at most the number of parameters probed ({n}); "
                         f"received steps={steps}.")
    runs = check_int("runs", runs, minimum=1)
    grid = check_int("grid", grid, minimum=2)
    if sigma is not None:
        sigma = check_float("sigma", sigma, minimum=0.0, min_inclusive=False)
    origin = obj.point_tensors(point)
    bar = keras.utils.Progbar(runs * steps, unit_name="hvp") if verbose else None
    count = [0]

    def matvec(v):
        count[0] += 1
        if bar is not None:
            bar.update(count[0])
        return obj.hvp(v, origin, hvp_method)

    rng = np.random.default_rng(seed)
    values = np.full((runs, steps), np.nan)
    weights = np.full((runs, steps), np.nan)
    for r, start in enumerate(_starts(n, runs, rng)):
        alphas, betas = lanczos_tridiagonal(matvec, start, steps)
        theta, u = np.linalg.eigh(np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1))
        values[r, :len(theta)], weights[r, :len(theta)] = theta, u[0] ** 2
    return _density(values, weights, grid, sigma, n)


def _density(values, weights, grid, sigma, n):
    finite = np.isfinite(values)
    theta, tau = values[finite], weights[finite] / values.shape[0]
    lo, hi = float(theta.min()), float(theta.max())
    if sigma is None:
        sigma = max(0.01 * (hi - lo), 1e-6 * max(1.0, abs(hi)))
    x = np.linspace(lo - 5 * sigma, hi + 5 * sigma, grid)
    density = np.zeros(grid)
    for start in range(0, theta.size, 256):  # bounded memory: grid x 256 at a time
        t, w = theta[start:start + 256], tau[start:start + 256]
        density += (w * np.exp(-0.5 * ((x[:, None] - t) / sigma) ** 2)).sum(axis=1)
    density /= np.trapezoid(density, x)
    moments = np.array([float(np.sum(tau * theta ** k)) for k in (1, 2, 3)])
    return {"grid": x, "density": density, "ritz_values": values, "ritz_weights": weights,
            "sigma": float(sigma), "moments": moments, "num_params": int(n)}

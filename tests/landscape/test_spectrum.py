"""hessian_spectrum: stochastic Lanczos quadrature against a Hessian computed with NumPy."""

import keras
import numpy as np
import pytest

from tfgenopt import landscape as L


def softmax_regression(seed=0, n=64, d=6, c=4):
    """Softmax regression (no bias) and its exact Hessian ``1/n sum (x x^T) kron (diag p - p p^T)``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.eye(c)[rng.integers(0, c, n)]
    model = keras.Sequential([keras.Input((d,), dtype="float64"),
                              keras.layers.Dense(c, activation="softmax", use_bias=False,
                                                 dtype="float64")])
    model.compile("sgd", "categorical_crossentropy")
    w = rng.normal(size=(d, c)) * 0.5
    model.set_weights([w])
    logits = x @ w
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    hessian = sum(np.kron(np.outer(xi, xi), np.diag(pi) - np.outer(pi, pi))
                  for xi, pi in zip(x, p)) / n
    return model, (x, y), np.linalg.eigvalsh(hessian)


@pytest.fixture(scope="module")
def problem():
    return softmax_regression()


class TestAgainstExactEigenvalues:
    def test_first_three_moments_within_two_percent(self, problem):
        model, data, eigenvalues = problem
        n = eigenvalues.size  # one orthogonal start per dimension: Hutchinson's error vanishes
        out = L.hessian_spectrum(model, data, steps=3, runs=n, seed=0)  # exact to degree 5
        grid, density = out["grid"], out["density"]
        for k in (1, 2, 3):
            exact = np.mean(eigenvalues ** k)
            assert np.trapezoid(density * grid ** k, grid) == pytest.approx(exact, rel=0.02)
            assert out["moments"][k - 1] == pytest.approx(exact, rel=1e-6)  # no smoothing

    def test_support_covers_the_extreme_eigenvalues_and_density_integrates_to_one(self, problem):
        model, data, eigenvalues = problem
        out = L.hessian_spectrum(model, data, steps=10, runs=3, seed=1)
        grid, density = out["grid"], out["density"]
        assert grid[0] <= eigenvalues.min() and grid[-1] >= eigenvalues.max()
        top = np.nanmax(out["ritz_values"])
        assert top == pytest.approx(eigenvalues.max(), rel=1e-4)  # Lanczos finds the extreme
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-9)
        assert np.all(density >= 0)
        np.testing.assert_allclose(np.nansum(out["ritz_weights"], axis=1), 1.0, atol=1e-9)
        assert out["ritz_values"].shape == (3, 10)


class TestBadInput:
    def test_steps_larger_than_parameter_count_is_refused(self, problem):
        model, data, eigenvalues = problem
        with pytest.raises(ValueError, match=r"`steps`.*\(24\).*steps=25"):
            L.hessian_spectrum(model, data, steps=25)

    def test_model_without_a_loss_is_refused(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile("sgd")
        with pytest.raises(ValueError, match="`model`.*without a loss"):
            L.hessian_spectrum(model, np.ones((4, 2), "float32"), steps=2)


def least_squares(seed=0, n=96, d=24):
    """A 24-weight linear least-squares model (float64) and its exact Hessian ``2/n X^T X``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * np.linspace(0.3, 2.0, d)
    y = rng.normal(size=(n, 1))
    model = keras.Sequential([keras.Input((d,), dtype="float64"),
                              keras.layers.Dense(1, use_bias=False, dtype="float64")])
    model.compile("sgd", "mse")
    return model, (x, y), np.linalg.eigvalsh(2.0 * x.T @ x / n)


class TestDefaultStepsOnSmallModels:
    """``steps`` defaults to ``min(30, num_params)``: a model with fewer than 30 weights works."""

    def test_a_24_weight_model_runs_with_the_defaults_and_each_run_is_the_exact_spectrum(self):
        model, data, eigenvalues = least_squares()
        out = L.hessian_spectrum(model, data, seed=0)
        assert out["num_params"] == 24 and out["ritz_values"].shape == (4, 24)
        # 24 Lanczos steps on 24 weights: every run's Ritz values are the eigenvalues.
        for run in out["ritz_values"]:
            np.testing.assert_allclose(np.sort(run), eigenvalues, rtol=1e-6)

    def test_moments_match_the_exact_spectrum_within_1e_5(self):
        model, data, eigenvalues = least_squares()
        out = L.hessian_spectrum(model, data, runs=24, seed=0)  # orthogonal starts: exact
        exact = [np.mean(eigenvalues ** k) for k in (1, 2, 3)]
        np.testing.assert_allclose(out["moments"], exact, rtol=1e-5)

    def test_a_two_weight_model_gets_two_steps(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
        model.compile("sgd", "mse")
        x, y = np.diag([1.0, 2.0]).astype("float32"), np.zeros((2, 1), "float32")
        out = L.hessian_spectrum(model, (x, y), runs=1, seed=0)
        assert out["ritz_values"].shape == (1, 2)
        np.testing.assert_allclose(np.sort(out["ritz_values"][0]), [1.0, 4.0], rtol=1e-4)

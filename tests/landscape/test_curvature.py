import keras
import numpy as np
import pytest

from tests.landscape._models import (
    assert_state_equal,
    full_hessian,
    linear_regression,
    state_snapshot,
    tiny_mlp,
)
from tfgenopt import landscape as L


class TestQuadraticExact:
    def test_top_eigenvalues_match_eigvalsh(self, rng):
        model, data, hessian = linear_regression(rng)
        expected = np.sort(np.linalg.eigvalsh(hessian))[::-1][:3]
        got = L.hessian_eigenvalues(model, data, k=3, seed=0)
        np.testing.assert_allclose(got, expected, rtol=1e-4)

    def test_power_iteration_with_deflation_matches(self, rng):
        model, data, hessian = linear_regression(rng)
        expected = np.sort(np.linalg.eigvalsh(hessian))[::-1][:2]
        got = L.hessian_eigenvalues(model, data, k=2, method="power", iterations=500,
                                    tol=1e-9, seed=0)
        np.testing.assert_allclose(got, expected, rtol=1e-3)

    def test_eigenvectors_satisfy_hv_equals_lambda_v(self, rng):
        model, data, hessian = linear_regression(rng)
        values, vectors = L.hessian_eigenvalues(model, data, k=1, seed=0, return_vectors=True)
        np.testing.assert_allclose(hessian @ vectors[0], values[0] * vectors[0], atol=1e-4)

    def test_trace_is_exact_for_a_diagonal_hessian(self):
        x = np.diag([1.0, 2.0, 3.0]).astype("float32")
        model, _, _ = linear_regression(np.random.default_rng(0), n=3, d=3)
        out = L.hessian_trace(model, (x, np.zeros((3, 1), "float32")), samples=4, seed=0)
        assert out["trace"] == pytest.approx(2.0 / 3.0 * 14.0, rel=1e-6)
        assert out["std_error"] == pytest.approx(0.0, abs=1e-6)

    def test_trace_interval_covers_the_exact_trace(self, rng):
        model, data, hessian = linear_regression(rng)
        out = L.hessian_trace(model, data, samples=200, seed=1, confidence=0.999)
        assert out["ci_low"] <= np.trace(hessian) <= out["ci_high"]
        assert out["ci_high"] - out["ci_low"] < 0.5 * np.trace(hessian)

    def test_one_step_sharpness_matches_closed_form(self, rng):
        model, (x, y), hessian = linear_regression(rng)
        w = model.get_weights()[0][:, 0].astype(np.float64)
        g = 2.0 / len(x) * x.T.astype(np.float64) @ (x.astype(np.float64) @ w - y[:, 0])
        radius = 0.1
        gh = g / np.linalg.norm(g)
        expected = radius * np.linalg.norm(g) + 0.5 * radius**2 * gh @ hessian @ gh
        out = L.sharpness(model, (x, y), radius=radius)
        assert out["sharpness"] == pytest.approx(expected, rel=1e-3)

    def test_more_ascent_steps_never_decrease_sharpness(self, rng):
        model, data, _ = linear_regression(rng)
        one = L.sharpness(model, data, radius=0.2, steps=1)["sharpness"]
        five = L.sharpness(model, data, radius=0.2, steps=5)["sharpness"]
        assert five >= one - 1e-6


@pytest.fixture
def float64():
    """Keras losses compute in `floatx`; float64 makes finite differences exact enough."""
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx("float32")


@pytest.mark.usefixtures("float64")
class TestTinyMLP:
    def test_hvp_matches_finite_differences_of_the_gradient(self, rng):
        model, data = tiny_mlp(rng)
        obj = L.objective(model, data)
        v = rng.normal(size=obj.num_params)
        w = obj.flatten(obj.weights())
        eps = 1e-5
        _, gp = obj.gradient(obj.unflatten(w + eps * v))
        _, gm = obj.gradient(obj.unflatten(w - eps * v))
        fd = (obj.flatten(gp) - obj.flatten(gm)) / (2 * eps)
        np.testing.assert_allclose(L.hvp(model, data, v), fd, rtol=1e-5, atol=1e-8)

    def test_forward_over_reverse_equals_double_backprop(self, rng):
        model, data = tiny_mlp(rng)
        v = rng.normal(size=L.objective(model, data).num_params)
        np.testing.assert_allclose(L.hvp(model, data, v, method="forward"),
                                   L.hvp(model, data, v, method="reverse"), rtol=1e-10)

    def test_top_eigenvalue_matches_the_explicit_hessian(self, rng):
        model, data = tiny_mlp(rng)
        expected = np.linalg.eigvalsh(full_hessian(model, data))[-1]
        got = L.hessian_eigenvalues(model, data, k=1, seed=0)[0]
        assert got == pytest.approx(expected, rel=1e-8)

    def test_hvp_accepts_a_list_and_returns_a_list(self, rng):
        model, data = tiny_mlp(rng)
        direction = L.random_direction(model, seed=0, normalization="none")
        out = L.hvp(model, data, direction)
        assert [o.shape for o in out] == [d.shape for d in direction]


class TestGradientStatistics:
    def test_gradient_norm_matches_closed_form(self, rng):
        model, (x, y), _ = linear_regression(rng)
        w = model.get_weights()[0][:, 0].astype(np.float64)
        g = 2.0 / len(x) * x.T.astype(np.float64) @ (x.astype(np.float64) @ w - y[:, 0])
        assert L.gradient_norm(model, (x, y)) == pytest.approx(np.linalg.norm(g), rel=1e-5)

    def test_noise_scale_matches_numpy_reference(self, rng):
        model, (x, y), _ = linear_regression(rng, n=32)
        w = model.get_weights()[0][:, 0].astype(np.float64)
        xd, yd = x.astype(np.float64), y[:, 0].astype(np.float64)

        def sq(idx):
            g = 2.0 / len(idx) * xd[idx].T @ (xd[idx] @ w - yd[idx])
            return g @ g

        order = np.random.default_rng(3).permutation(32)
        small = np.mean([sq(order[i:i + 4]) for i in range(0, 32, 4)])
        big = sq(np.arange(32))
        g2 = (32 * big - 4 * small) / 28
        s = (small - big) / (1 / 4 - 1 / 32)
        out = L.gradient_noise_scale(model, (x, y), batch_size=4, seed=3)
        assert out["grad_norm_sq"] == pytest.approx(g2, rel=1e-4)
        assert out["noise_scale"] == pytest.approx(s / g2, rel=1e-4)


class TestStateUntouched:
    def test_curvature_probes_leave_state_bitwise_unchanged(self, rng):
        from tests.landscape._models import bn_model

        model, data = bn_model(rng)
        before = state_snapshot(model)
        L.hessian_eigenvalues(model, data, k=2, iterations=5, seed=0)
        L.hessian_trace(model, data, samples=2, seed=0)
        L.sharpness(model, data, steps=2)
        L.gradient_noise_scale(model, data, batch_size=16, seed=0)
        assert_state_equal(before, state_snapshot(model))


class TestValidation:
    def test_unknown_method_lists_choices(self, rng):
        model, data, _ = linear_regression(rng)
        with pytest.raises(ValueError, match="method.*lanczos"):
            L.hessian_eigenvalues(model, data, method="arnoldi")

    def test_k_larger_than_parameters_is_rejected(self, rng):
        model, data, _ = linear_regression(rng, d=3)
        with pytest.raises(ValueError, match="`k` must be <= 3"):
            L.hessian_eigenvalues(model, data, k=4)

    def test_wrong_vector_length_is_rejected(self, rng):
        model, data, _ = linear_regression(rng, d=3)
        with pytest.raises(ValueError, match="length 3"):
            L.hvp(model, data, np.ones(5))

    def test_noise_scale_batch_must_be_smaller_than_probe_set(self, rng):
        model, data, _ = linear_regression(rng, n=8)
        with pytest.raises(ValueError, match="batch_size"):
            L.gradient_noise_scale(model, data, batch_size=8)

    def test_uncompiled_model_is_rejected(self):
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        with pytest.raises(ValueError, match="compiled"):
            L.hessian_trace(model, np.ones((4, 2), "float32"))

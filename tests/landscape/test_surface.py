import keras
import numpy as np
import pytest

from tests.landscape._models import assert_state_equal, bn_model, linear_regression, state_snapshot
from tfgenopt import landscape as L
from tfgenopt.landscape import _engine


@pytest.fixture(scope="module")
def trained():
    """One trained ``bn_model`` (and its data) for the tests that only probe or evaluate it.

    Probes leave every variable bitwise unchanged (TestStateUntouched checks that, each on a
    model of its own); the teardown checks it again over the whole module, so no test here can
    pass on a state (or data) another one left behind.
    """
    keras.utils.set_random_seed(0)
    model, data = bn_model(np.random.default_rng(0))  # the values of the `rng` fixture
    before = state_snapshot(model) + [a.copy() for a in data]
    yield model, data
    assert_state_equal(before, state_snapshot(model) + list(data))


class TestSlices:
    def test_slice_at_zero_equals_the_unperturbed_loss(self, trained):
        model, data = trained
        s = L.slice_1d(model, data, alphas=[-0.5, 0.0, 0.5], seed=0)
        expected = model.evaluate(*data, batch_size=64, verbose=0)
        assert s["loss"][1] == pytest.approx(expected, rel=1e-6)

    def test_slice_of_a_quadratic_is_the_exact_parabola(self, rng):
        model, (x, y), hessian = linear_regression(rng)
        d = L.random_direction(model, seed=1, normalization="none")
        alphas = np.linspace(-1, 1, 5)
        s = L.slice_1d(model, (x, y), d, alphas)
        w = model.get_weights()[0][:, 0].astype(np.float64)
        dv = d[0][:, 0].astype(np.float64)
        expected = [np.mean((x @ (w + a * dv) - y[:, 0]) ** 2) for a in alphas]
        np.testing.assert_allclose(s["loss"], expected, rtol=1e-5)

    def test_extra_metrics_are_reported(self, rng):
        x = rng.normal(size=(32, 4)).astype("float32")
        y = (x[:, :1] > 0).astype("float32")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile("sgd", "binary_crossentropy")
        s = L.slice_1d(model, (x, y), alphas=[0.0], metrics=["binary_accuracy"], seed=0)
        expected = np.mean((model.predict(x, verbose=0) > 0.5) == y)
        assert s["binary_accuracy"][0] == pytest.approx(expected)

    def test_surface_center_equals_the_loss_and_shape_is_rows_by_columns(self, trained):
        model, data = trained
        s = L.surface_2d(model, data, grid=([-1, 0, 1, 2], [-1, 0, 1]), seed=0)
        assert s["loss"].shape == (3, 4)
        assert s["loss"][1, 1] == pytest.approx(model.evaluate(*data, verbose=0), rel=1e-6)

    def test_surface_of_a_quadratic_matches_numpy(self, rng):
        model, (x, y), _ = linear_regression(rng)
        d1, d2 = L.random_directions(model, 2, seed=2, normalization="none")
        s = L.surface_2d(model, (x, y), d1, d2, grid=3, span=0.5)
        w = model.get_weights()[0][:, 0]
        a, b = 0.5, -0.5  # row 0 is beta=-0.5, column 2 is alpha=0.5
        wp = w + a * d1[0][:, 0] + b * d2[0][:, 0]
        assert s["loss"][0, 2] == pytest.approx(np.mean((x @ wp - y[:, 0]) ** 2), rel=1e-5)

    def test_interpolation_endpoints_are_the_two_losses(self, trained):
        model, data = trained
        w_b = L.get_weights(model)
        w_a = [w * 0.5 for w in w_b]
        s = L.interpolate(model, data, w_a, w_b, alphas=[0.0, 1.0])
        assert s["loss"][1] == pytest.approx(model.evaluate(*data, verbose=0), rel=1e-6)
        at_a = L.slice_1d(model, data, [w * 0 for w in w_b], alphas=[0.0], origin=w_a)
        assert s["loss"][0] == pytest.approx(at_a["loss"][0], rel=1e-6)

    def test_batched_evaluation_equals_one_chunk(self, trained):
        model, data = trained
        a = L.slice_1d(model, data, alphas=[0.3], seed=0)["loss"]
        b = L.slice_1d(model, data, alphas=[0.3], seed=0, batch_size=16)["loss"]
        np.testing.assert_allclose(a, b, rtol=1e-5)


class TestStateUntouched:
    def test_slices_leave_weights_optimizer_bn_and_rng_bitwise_unchanged(self, rng):
        model, data = bn_model(rng)
        before = state_snapshot(model)
        L.slice_1d(model, data, alphas=5, seed=0)
        L.surface_2d(model, data, grid=3, seed=0)
        L.interpolate(model, data, [w * 0 for w in L.get_weights(model)], alphas=3)
        assert_state_equal(before, state_snapshot(model))

    def test_state_is_unchanged_after_keyboard_interrupt(self, rng, monkeypatch):
        model, data = bn_model(rng)
        before = state_snapshot(model)

        def interrupt(self, *args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(keras.utils.Progbar, "update", interrupt)
        with pytest.raises(KeyboardInterrupt):
            L.surface_2d(model, data, grid=3, seed=0, verbose=1)
        assert_state_equal(before, state_snapshot(model))

    def test_state_is_unchanged_after_an_error_inside_the_loss(self, rng):
        model, data = bn_model(rng)
        before = state_snapshot(model)

        def bad_metric(y_true, y_pred):
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            L.slice_1d(model, data, alphas=3, metrics=[bad_metric], seed=0)
        assert_state_equal(before, state_snapshot(model))


class TestValidation:
    def test_direction_of_the_wrong_shape_is_rejected(self, trained):
        model, data = trained
        with pytest.raises(ValueError, match="direction"):
            L.slice_1d(model, data, [np.ones(3)], alphas=3)

    def test_alphas_must_be_finite(self, trained):
        model, data = trained
        with pytest.raises(ValueError, match="alphas"):
            L.slice_1d(model, data, alphas=[0.0, np.nan])

    def test_data_with_nan_is_rejected(self, trained):
        model, (x, y) = trained
        x = x.copy()  # the shared data stays clean
        x[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            L.slice_1d(model, (x, y), alphas=3)

    def test_player_is_rejected_for_a_plain_model(self, trained):
        model, data = trained
        with pytest.raises(ValueError, match="only for GANs"):
            L.slice_1d(model, data, alphas=3, player="generator")


class TestTrajectorySurface:
    def test_last_snapshot_is_the_origin_and_its_loss_is_on_the_grid(self, rng):
        model, data, _ = linear_regression(rng)
        w = model.get_weights()[0]
        traj = [[w + t * rng.normal(size=w.shape).astype("float32") * 0.1] for t in (3, 2, 1)]
        traj.append([w])
        s = L.trajectory_surface(model, data, traj, grid=5)
        np.testing.assert_allclose(s["trajectory"][-1], [0.0, 0.0], atol=1e-12)
        assert s["loss"].shape == (5, 5)
        assert s["alphas"].min() < s["trajectory"][:, 0].min()

    def test_needs_three_snapshots(self, rng):
        model, data, _ = linear_regression(rng)
        with pytest.raises(ValueError, match="at least 3"):
            L.trajectory_surface(model, data, [L.get_weights(model)] * 2)


class TestStrategies:
    def test_loop_vectorize_and_auto_give_the_same_surface(self, trained, monkeypatch):
        monkeypatch.setattr(_engine, "AUTO_AFTER_POINTS", 1)  # "auto" times on the first call
        model, data = trained
        d1, d2 = L.random_directions(model, 2, seed=0)
        out = {}
        for strategy in ("loop", "vectorize", "auto"):
            obj = L.objective(model, data)
            obj.strategy = strategy
            out[strategy] = L.surface_2d(obj, d1=d1, d2=d2, grid=4)["loss"]
            if strategy == "auto":
                assert obj._compiled[("strategy", 2)] in ("loop", "loop_xla", "vectorize")
        np.testing.assert_allclose(out["vectorize"], out["loop"], rtol=1e-5)
        np.testing.assert_allclose(out["auto"], out["loop"], rtol=1e-5)

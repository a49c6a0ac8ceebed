"""The XLA-compiled loop (``strategy="loop_xla"``): the loop's values, nothing written."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.landscape._models import assert_state_equal, bn_model, state_snapshot, tiny_mlp
from tests.landscape.test_linear_head import autoencoder, bn_after_linear, conv_classifier
from tfgenopt import landscape as L
from tfgenopt.landscape import _engine


def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


@pytest.fixture(scope="module")
def shared():
    """``shared(build)``: ``(model, data, state as built)`` of one builder, made once per module.

    Built as a test's own ``build(rng)`` would be (global seed 0, ``rng`` seed 0). The tests
    here only probe a model, and probes leave its state bitwise unchanged: TestStateUntouched
    checks the state after its probes (and after any earlier test's) against the snapshot
    taken when the model was built.
    """
    cache = {}

    def get(build):
        if build not in cache:
            keras.utils.set_random_seed(0)
            model, data = build(np.random.default_rng(0))
            cache[build] = (model, data, state_snapshot(model))
        return cache[build]

    return get


def surfaces(model, data, strategies, linear_head=True, **kwargs):
    d1, d2 = L.random_directions(model, 2, seed=0)
    out = {}
    for strategy in strategies:
        obj = L.objective(model, data, **kwargs)
        obj.strategy = strategy
        if not linear_head:
            obj.linear_head = None
        out[strategy] = L.surface_2d(obj, d1=d1, d2=d2, grid=4)
    return out


class TestSameValues:
    @pytest.mark.parametrize("build, linear_head", [  # ~2-3 s each; half in make bench
        (bn_model, True), (bn_after_linear, False), (conv_classifier, True),
        (conv_classifier, False), slow(bn_model, False), slow(bn_after_linear, True),
        slow(autoencoder, True), slow(autoencoder, False)])
    def test_surface_equals_the_loop(self, shared, build, linear_head):
        model, data, _ = shared(build)
        out = surfaces(model, data, ("loop", "loop_xla"), linear_head=linear_head)
        a, b = out["loop_xla"]["loss"], out["loop"]["loss"]
        np.testing.assert_allclose(a, b, rtol=1e-5)
        assert a[0, 0] != pytest.approx(a[-1, -1])  # the plane is not flat: points differ

    def test_metrics_chunks_and_a_float64_model_equal_the_loop(self, shared, rng):
        model, data, _ = shared(autoencoder)
        out = surfaces(model, data, ("loop", "loop_xla"), metrics=["mse"], batch_size=20)
        assert sorted(out["loop_xla"]) == sorted(out["loop"]) and len(out["loop"]) == 4
        for key in out["loop"]:
            np.testing.assert_allclose(out["loop_xla"][key], out["loop"][key], rtol=1e-5)
        model, data = tiny_mlp(rng)
        out = surfaces(model, data, ("loop", "loop_xla"))
        np.testing.assert_allclose(out["loop_xla"]["loss"], out["loop"]["loss"], rtol=1e-5)  # a float64 model

    def test_slice_and_interpolation_equal_the_loop(self, shared):
        model, data, _ = shared(autoencoder)
        d = L.random_direction(model, seed=3)
        w0 = [w * 0.5 for w in L.get_weights(model)]
        objs = {}
        for strategy in ("loop", "loop_xla"):
            objs[strategy] = L.objective(model, data)
            objs[strategy].strategy = strategy
        for fn in (lambda o: L.slice_1d(o, direction=d, alphas=5)["loss"],
                   lambda o: L.interpolate(o, weights_a=w0, alphas=4)["loss"]):
            np.testing.assert_allclose(fn(objs["loop_xla"]), fn(objs["loop"]), rtol=1e-5)


class TestStateUntouched:
    @pytest.mark.parametrize("build", [slow(bn_model), bn_after_linear])
    def test_weights_optimizer_bn_and_rng_are_bitwise_unchanged(self, shared, build):
        model, data, before = shared(build)  # the state as built, before any test's probes
        obj = L.objective(model, data)
        obj.strategy = "loop_xla"
        L.surface_2d(obj, grid=3, seed=0)
        L.slice_1d(obj, alphas=3, seed=0)
        L.interpolate(obj, weights_a=[w * 0 for w in L.get_weights(model)], alphas=3)
        assert_state_equal(before, state_snapshot(model))


class TestAuto:
    def test_auto_picks_xla_when_it_is_fastest_and_gives_the_loops_values(self, shared,
                                                                          monkeypatch):
        model, data, _ = shared(autoencoder)
        obj = L.objective(model, data)
        obj.strategy = "auto"
        d1, d2 = L.random_directions(model, 2, seed=0)
        expected = surfaces(model, data, ("loop",))["loop"]["loss"]
        times = {"vectorize": 3.0, "loop": 2.0, "loop_xla": 1.0}
        real_points_fn = _engine.points_fn
        state = {}

        def points_fn(o, k, strategy="loop"):
            state["name"] = strategy
            state["t"] = 0.0
            return real_points_fn(o, k, strategy)

        def perf_counter():
            state["t"] += times[state["name"]]  # start, stop: one step of that strategy's time
            return state["t"]

        monkeypatch.setattr(_engine, "points_fn", points_fn)
        monkeypatch.setattr(_engine.time, "perf_counter", perf_counter)
        monkeypatch.setattr(_engine, "AUTO_AFTER_POINTS", 1)  # time on the first call
        L.surface_2d(obj, d1=d1, d2=d2, grid=4)
        monkeypatch.undo()
        assert obj._compiled[("strategy", 2)] == "loop_xla"
        np.testing.assert_allclose(L.surface_2d(obj, d1=d1, d2=d2, grid=4)["loss"], expected,
                                   rtol=1e-5)

    def test_auto_skips_xla_where_it_cannot_compile(self, rng, monkeypatch):
        monkeypatch.setattr(_engine, "AUTO_AFTER_POINTS", 1)  # time on the first call
        w = keras.Variable(np.ones(3, "float32"))
        x = rng.normal(size=(8, 3)).astype("float32")

        def fn(data):  # tf.py_function has no XLA kernel
            scale = tf.py_function(lambda: tf.constant(2.0), [], tf.float32)
            return keras.ops.mean(keras.ops.sum(w * w * data, axis=1)) * scale

        obj = L.Objective(fn, [w], x, strategy="auto")
        d = [np.ones(3, "float32")]
        s = L.slice_1d(obj, direction=d, alphas=[-1.0, 0.0, 0.5, 1.0])
        assert obj._compiled[("strategy", 1)] in ("loop", "vectorize")
        expected = [2 * np.mean(x @ ((1 + a) ** 2 * np.ones(3))) for a in (-1.0, 0.0, 0.5, 1.0)]
        np.testing.assert_allclose(s["loss"], expected, rtol=1e-5, atol=1e-6)
        with pytest.raises(tf.errors.OpError):
            obj.strategy = "loop_xla"
            L.slice_1d(obj, direction=d, alphas=[0.0])

    def test_auto_runs_the_loop_until_64_points_then_times_once(self, rng, monkeypatch):
        w = keras.Variable(np.ones(3, "float32"))
        x = rng.normal(size=(8, 3)).astype("float32")
        obj = L.Objective(lambda data: keras.ops.mean(keras.ops.sum(w * w * data, axis=1)),
                          [w], x, strategy="auto")
        ran, timed = [], []
        real_points_fn, real_choose = _engine.points_fn, _engine.choose_strategy
        monkeypatch.setattr(_engine, "points_fn",
                            lambda o, k, strategy="loop": ran.append(strategy)
                            or real_points_fn(o, k, strategy))
        monkeypatch.setattr(_engine, "choose_strategy",
                            lambda o, k, args: timed.append(int(args[0].shape[0]))
                            or real_choose(o, k, args))
        d = [np.ones(3, "float32")]
        alphas = np.linspace(-1.0, 1.0, 9)
        for _ in range(7):  # 63 points: below the threshold, the plain loop every time
            s = L.slice_1d(obj, direction=d, alphas=alphas)
        assert timed == [] and set(ran) == {"loop"} and ("strategy", 1) not in obj._compiled
        np.testing.assert_allclose(s["loss"], [np.mean(x @ ((1 + a) ** 2 * np.ones(3)))
                                               for a in alphas], rtol=1e-5, atol=1e-6)
        L.slice_1d(obj, direction=d, alphas=alphas)  # 72 in all: time the three, once
        L.slice_1d(obj, direction=d, alphas=alphas)
        assert timed == [9]
        assert obj._compiled[("strategy", 1)] in ("loop", "loop_xla", "vectorize")
        fresh = L.Objective(obj.fn, [w], x, strategy="auto")  # one call of 64 points: at once
        L.slice_1d(fresh, direction=d, alphas=np.linspace(-1.0, 1.0, 64))
        assert timed == [9, 64] and ("strategy", 1) in fresh._compiled

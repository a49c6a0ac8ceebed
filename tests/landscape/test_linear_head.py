"""The linear-first-layer fast path: same values as the plain path, taken only where exact."""

import keras
import numpy as np
import pytest

from tests.landscape._models import assert_state_equal, linear_regression, state_snapshot
from tfgenopt import landscape as L


def autoencoder(rng, n=48, d=12):
    """A small 'dense autoencoder': linear Dense, ReLU, sigmoid Dense, BCE."""
    x = rng.uniform(size=(n, d)).astype("float32")
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(5),
                              keras.layers.Activation("relu"),
                              keras.layers.Dense(d, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    return model, (x, x)


def conv_classifier(rng, n=16):
    x = rng.normal(size=(n, 8, 8, 2)).astype("float32")
    y = (np.arange(n) % 2).astype("float32")[:, None]
    inputs = keras.Input((8, 8, 2))
    h = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    h = keras.layers.LeakyReLU(0.2)(h)
    out = keras.layers.Dense(1)(keras.layers.Flatten()(h))
    model = keras.Model(inputs, out)
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    return model, (x, y)


def bn_after_linear(rng):
    """A trained model whose linear first layer is followed by BatchNorm and Dropout."""
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8),
                              keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
                              keras.layers.Dropout(0.3, seed=1), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, (x, y)


def fast_and_plain(model, data, **kwargs):
    fast = L.objective(model, data, **kwargs)
    plain = L.objective(model, data, **kwargs)
    plain.linear_head = None
    assert fast.linear_head is not None
    return fast, plain



def slow(*values):
    """A parametrize case that runs in ``make bench`` only (the other cases run in make test)."""
    return pytest.param(*values, marks=pytest.mark.slow)


class TestSameValues:
    @pytest.mark.parametrize("build, strategy", [  # ~1-2.5 s each; half in make bench
        (bn_after_linear, "loop"), (conv_classifier, "loop"), (conv_classifier, "vectorize"),
        slow(bn_after_linear, "vectorize"), slow(autoencoder, "loop"),
        slow(autoencoder, "vectorize")])
    def test_surface_equals_the_plain_path(self, rng, build, strategy):
        model, data = build(rng)
        fast, plain = fast_and_plain(model, data)
        fast.strategy = strategy
        d1, d2 = L.random_directions(model, 2, seed=0)
        a = L.surface_2d(fast, d1=d1, d2=d2, grid=4)["loss"]
        b = L.surface_2d(plain, d1=d1, d2=d2, grid=4)["loss"]
        np.testing.assert_allclose(a, b, rtol=1e-5)
        assert a[0, 0] != pytest.approx(a[-1, -1])  # the plane is not flat: points differ

    def test_slices_interpolation_metrics_and_chunks_equal_the_plain_path(self, rng):
        model, data = autoencoder(rng)
        w0 = [w * 0.5 for w in L.get_weights(model)]
        d = L.random_direction(model, seed=3)
        for kwargs in ({}, {"batch_size": 20}):
            fast, plain = fast_and_plain(model, data, metrics=["mse"], **kwargs)
            for fn in (lambda o: L.slice_1d(o, direction=d, alphas=5),
                       lambda o: L.interpolate(o, weights_a=w0, alphas=4)):
                a, b = fn(fast), fn(plain)
                assert sorted(a) == sorted(b) and len(a) == 3  # alphas, loss and the metric
                for key in a:
                    np.testing.assert_allclose(a[key], b[key], rtol=1e-5)

    def test_center_of_the_grid_is_the_models_own_loss(self, rng):
        model, data = autoencoder(rng)
        s = L.surface_2d(model, data, grid=3, seed=0)
        assert s["loss"][1, 1] == pytest.approx(model.evaluate(*data, verbose=0), rel=1e-5)

    def test_a_model_that_is_one_linear_layer_matches_numpy(self, rng):
        model, (x, y), _ = linear_regression(rng)
        assert L.objective(model, (x, y)).linear_head.layer is model.layers[0]
        d1, d2 = L.random_directions(model, 2, seed=2, normalization="none")
        s = L.surface_2d(model, (x, y), d1, d2, grid=3, span=0.5)
        wp = model.get_weights()[0][:, 0] + 0.5 * d1[0][:, 0] - 0.5 * d2[0][:, 0]
        assert s["loss"][0, 2] == pytest.approx(np.mean((x @ wp - y[:, 0]) ** 2), rel=1e-5)


class TestStateUntouched:
    def test_weights_optimizer_bn_and_rng_are_bitwise_unchanged(self, rng):
        model, data = bn_after_linear(rng)
        assert L.objective(model, data).linear_head is not None
        before = state_snapshot(model)
        L.surface_2d(model, data, grid=3, seed=0)
        L.slice_1d(model, data, alphas=3, seed=0)
        assert_state_equal(before, state_snapshot(model))


class TestFallback:
    def test_first_layer_with_an_activation_takes_the_plain_path(self, rng):
        x = rng.normal(size=(8, 3)).astype("float32")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        assert L.objective(model, (x, x[:, :1])).linear_head is None

    def test_input_read_past_the_first_layer_takes_the_plain_path(self, rng):
        x = rng.normal(size=(8, 3)).astype("float32")
        inputs = keras.Input((3,))
        h = keras.layers.Dense(4)(inputs)
        out = keras.layers.Dense(1)(keras.layers.Concatenate()([inputs, h]))
        model = keras.Model(inputs, out)
        model.compile("sgd", "mse")
        assert L.objective(model, (x, x[:, :1])).linear_head is None

    def test_first_layer_not_linear_in_its_weights_takes_the_plain_path(self, rng):
        x = rng.normal(size=(8, 3)).astype("float32")
        model = keras.Sequential([keras.Input((3,)), keras.layers.LayerNormalization(),
                                  keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        assert L.objective(model, (x, x[:, :1])).linear_head is None

    def test_frozen_first_layer_takes_the_plain_path(self, rng):
        model, data = autoencoder(rng)
        model.layers[0].trainable = False
        model.compile("adam", "binary_crossentropy")
        assert L.objective(model, data).linear_head is None

    def test_subclassed_call_takes_the_plain_path(self, rng):
        class Scaled(keras.Sequential):
            def call(self, inputs, training=None, mask=None):
                return 2.0 * super().call(inputs, training=training, mask=mask)

        x = rng.normal(size=(8, 3)).astype("float32")
        model = Scaled([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        assert L.objective(model, (x, x[:, :1])).linear_head is None

"""Tiny models with known answers shared by the landscape tests."""

import keras
import numpy as np


def linear_regression(rng, n=32, d=5, dtype="float32"):
    """``y = x @ W`` with MSE: a quadratic loss whose Hessian is ``2/n X^T X``."""
    x = rng.normal(size=(n, d)).astype(dtype)
    y = rng.normal(size=(n, 1)).astype(dtype)
    model = keras.Sequential([keras.Input((d,), dtype=dtype),
                              keras.layers.Dense(1, use_bias=False, dtype=dtype)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    hessian = 2.0 / n * x.astype(np.float64).T @ x.astype(np.float64)
    return model, (x, y), hessian


def tiny_mlp(rng, dtype="float64"):
    """A 3-4-2 tanh MLP in float64 (exact enough for finite differences)."""
    x = rng.normal(size=(16, 3)).astype(dtype)
    y = rng.normal(size=(16, 2)).astype(dtype)
    model = keras.Sequential([keras.Input((3,), dtype=dtype),
                              keras.layers.Dense(4, activation="tanh", dtype=dtype),
                              keras.layers.Dense(2, dtype=dtype)])
    model.compile("sgd", "mse")
    return model, (x, y)


def bn_model(rng):
    """A trained model with BatchNorm and Dropout (state that probes must not touch)."""
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dropout(0.3, seed=1),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    return model, (x, y)


def state_snapshot(model):
    """Every model variable (weights, BN statistics, seed states) and optimizer variable."""
    values = [np.array(v.numpy(), copy=True) for v in model.variables]
    values += [np.array(v.numpy(), copy=True) for v in model.optimizer.variables]
    return values


def assert_state_equal(before, after):
    assert len(before) == len(after)
    for a, b in zip(before, after):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def full_hessian(model, data):
    """The explicit Hessian of ``model``'s loss by ``tape.jacobian`` (independent reference)."""
    import tensorflow as tf

    x, y = data
    variables = model.trainable_variables
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = keras.losses.mean_squared_error(y, model(x, training=False))
            loss = tf.reduce_mean(loss)
        grads = inner.gradient(loss, variables)
        flat = tf.concat([tf.reshape(g, [-1]) for g in grads], 0)
    jac = outer.jacobian(flat, variables)
    return np.concatenate([np.reshape(j.numpy(), (flat.shape[0], -1)) for j in jac], axis=1)

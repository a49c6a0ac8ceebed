"""Tests for tfgenopt.models.ema: the clone and the moving-average update."""

import keras
import numpy as np

from tfgenopt.models.ema import clone_for_ema, update_ema


def net(normalization=False):
    layers = [keras.Input((3,)), keras.layers.Dense(2)]
    if normalization:
        layers.append(keras.layers.BatchNormalization())
    return keras.Sequential(layers)


class TestCloneForEMA:
    def test_clone_copies_weights_into_separate_non_trainable_variables(self):
        g = net()
        e = clone_for_ema(g)
        for a, b in zip(e.get_weights(), g.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert not e.trainable_variables
        g.set_weights([w + 1 for w in g.get_weights()])
        assert not np.allclose(e.get_weights()[0], g.get_weights()[0])


class TestUpdateEMA:
    def test_update_is_decay_times_old_plus_one_minus_decay_times_new(self, rng):
        g = net(normalization=True)
        e = clone_for_ema(g)
        old = e.get_weights()
        new = [rng.normal(size=w.shape).astype("float32") for w in old]
        g.set_weights(new)
        update_ema(e, g, 0.9)
        for got, a, b in zip(e.get_weights(), old, new):  # BatchNorm statistics too
            np.testing.assert_allclose(got, 0.9 * a + 0.1 * b, atol=1e-6)

    def test_repeated_updates_converge_geometrically(self):
        g = net()
        e = clone_for_ema(g)
        start = e.get_weights()[0]
        g.set_weights([w + 1.0 for w in g.get_weights()])
        for _ in range(3):
            update_ema(e, g, 0.5)
        np.testing.assert_allclose(e.get_weights()[0], start + 1.0 - 0.5**3, atol=1e-6)

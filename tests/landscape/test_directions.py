import keras
import numpy as np
import pytest

from tfgenopt import landscape as L


def _conv_model():
    return keras.Sequential([keras.Input((8, 8, 1)),
                             keras.layers.Conv2D(3, 3, name="conv"),
                             keras.layers.BatchNormalization(),
                             keras.layers.Conv2DTranspose(2, 3, name="deconv"),
                             keras.layers.Flatten(), keras.layers.Dense(4, name="dense")])


class TestFilterNormalization:
    def test_every_filter_has_the_norm_of_its_weight_filter(self):
        model = _conv_model()
        d = L.random_direction(model, seed=0)
        for var, w, di in zip(model.trainable_variables, L.get_weights(model), d):
            if w.ndim < 2:
                continue
            axis = -2 if "deconv/" in var.path else -1
            other = tuple(i for i in range(w.ndim) if i != w.ndim + axis)
            np.testing.assert_allclose(np.sqrt(np.sum(di.astype(np.float64) ** 2, axis=other)),
                                       np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=other)),
                                       rtol=1e-5)

    def test_biases_and_norm_parameters_are_zeroed_by_default(self):
        model = _conv_model()
        d = L.random_direction(model, seed=0)
        assert all(np.all(di == 0) for di in d if di.ndim == 1)

    def test_keep_bias_gives_biases_the_norm_of_their_weights(self):
        model = _conv_model()
        d = L.random_direction(model, seed=0, bias="keep")
        gamma = [(w, di) for w, di in zip(L.get_weights(model), d) if w.ndim == 1][0]
        assert np.linalg.norm(gamma[1]) == pytest.approx(np.linalg.norm(gamma[0]), rel=1e-5)

    def test_layer_normalization_matches_tensor_norms(self):
        model = _conv_model()
        d = L.random_direction(model, seed=0, normalization="layer")
        for w, di in zip(L.get_weights(model), d):
            if w.ndim >= 2:
                assert np.linalg.norm(di) == pytest.approx(np.linalg.norm(w), rel=1e-5)

    def test_pairs_are_orthogonal_and_keep_filter_norms(self):
        model = _conv_model()
        d1, d2 = L.random_directions(model, 2, seed=0)
        dot = sum(float(np.sum(a.astype(np.float64) * b)) for a, b in zip(d1, d2))
        n1 = np.sqrt(sum(float(np.sum(a.astype(np.float64) ** 2)) for a in d1))
        assert abs(dot) / n1**2 < 1e-6
        w = L.get_weights(model)[-2]  # dense kernel
        np.testing.assert_allclose(np.linalg.norm(d2[-2], axis=0), np.linalg.norm(w, axis=0),
                                   rtol=1e-5)

    def test_same_seed_gives_the_same_direction(self):
        model = _conv_model()
        a, b = L.random_direction(model, seed=3), L.random_direction(model, seed=3)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))

    def test_unknown_normalization_lists_choices(self):
        with pytest.raises(ValueError, match="normalization.*filter"):
            L.random_direction(_conv_model(), normalization="batch")


class TestOtherDirections:
    def test_direction_between_is_the_difference(self):
        d = L.direction_between([np.ones(3)], [np.arange(3.0)])
        np.testing.assert_array_equal(d[0], [-1.0, 0.0, 1.0])

    def test_direction_between_rejects_shape_mismatch(self):
        with pytest.raises(ValueError, match="shape"):
            L.direction_between([np.ones(3)], [np.ones(4)])

    def test_trajectory_pca_recovers_a_planar_trajectory(self, rng):
        e1, e2 = np.eye(6)[0], np.eye(6)[3]
        ts = np.linspace(0, 1, 8)
        traj = [[(3 * t * e1 + np.sin(3 * t) * 0.5 * e2).reshape(2, 3)] for t in ts]
        pca = L.trajectory_pca(traj, n_components=2)
        assert pca.explained_variance_ratio.sum() == pytest.approx(1.0, abs=1e-9)
        basis = np.stack([d[0].ravel() for d in pca.directions])
        # the two directions span {e1, e2}
        np.testing.assert_allclose(np.linalg.norm(basis[:, [0, 3]], axis=1), 1.0, atol=1e-9)
        # coordinates reconstruct the trajectory relative to its last point
        recon = pca.coords @ basis
        expected = np.stack([s[0].ravel() - traj[-1][0].ravel() for s in traj])
        np.testing.assert_allclose(recon, expected, atol=1e-9)

    def test_trajectory_pca_default_on_two_snapshots_is_their_one_direction(self):
        a, b = [np.zeros(3)], [np.array([3.0, 4.0, 0.0])]
        pca = L.trajectory_pca([a, b])  # default n_components = min(2, T - 1) = 1
        assert len(pca.directions) == 1
        np.testing.assert_allclose(np.abs(pca.directions[0][0]), [0.6, 0.8, 0.0], atol=1e-9)
        assert pca.explained_variance_ratio.tolist() == pytest.approx([1.0])

    def test_trajectory_pca_default_on_three_snapshots_is_a_plane(self):
        traj = [[np.array([t, t * t, 0.0])] for t in (0.0, 1.0, 2.0)]
        assert len(L.trajectory_pca(traj).directions) == 2

    def test_trajectory_pca_needs_two_snapshots(self):
        with pytest.raises(ValueError, match="at least 2"):
            L.trajectory_pca([[np.ones(2)]])

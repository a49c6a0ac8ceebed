import copy
import os

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, tiny_autoencoder, tiny_gan
from tfgenopt.callbacks import LossLandscape


def _autoencoder(rng):
    x = rng.uniform(size=(48, 16)).astype("float32")
    ae = tiny_autoencoder(hidden=(6, 3), optimizer=keras.optimizers.Adam(1e-2))
    return ae, x


class TestLogs:
    def test_scalar_probes_are_written_into_history(self, rng):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind=("hessian", "trace", "noise_scale", "sharpness"),
                           k=2, iterations=6, trace_samples=3, verbose=0)
        h = ae.fit(x, x, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
        for key in ("hessian_top", "hessian_top_2", "hessian_trace", "hessian_trace_std",
                    "grad_noise_scale", "sharpness"):
            assert len(h.history[key]) == 2, key
        assert h.history["hessian_top"][1] >= h.history["hessian_top_2"][1]

    def test_logged_top_eigenvalue_equals_the_function(self, rng):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind="hessian", iterations=10, seed=4, verbose=0)
        h = ae.fit(x, x, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
        expected = tg.landscape.hessian_eigenvalues(ae, x[:32], iterations=10, seed=4)[0]
        assert h.history["hessian_top"][0] == pytest.approx(expected, rel=1e-6)

    def test_every_skips_epochs_and_keeps_history(self, rng):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], every=2, kind=("1d",), grid=5, verbose=0)
        ae.fit(x, x, epochs=4, batch_size=16, verbose=0, callbacks=[cb])
        assert [r["epoch"] for r in cb.history] == [2, 4]
        assert cb.history[0]["slices"]["model"]["loss"].shape == (5,)

    def test_strategy_picks_one_evaluation_and_keeps_the_values(self, rng):
        ae, x = _autoencoder(rng)
        w = ae.get_weights()
        slices = {}
        for strategy in ("loop", "auto"):
            ae.set_weights(w)
            cb = LossLandscape(x[:32], kind=("1d",), grid=7, strategy=strategy, verbose=0)
            cb.set_model(ae)
            cb.on_train_begin()
            cb.on_epoch_end(0, {})
            slices[strategy] = cb.history[0]["slices"]["model"]["loss"]
            obj = cb._objectives[None]
            assert obj.strategy == strategy
        # "auto": the plain loop for the first 63 points, then the three timed once (the 10th
        # probe of 7 points), and the chosen one kept
        assert ("strategy", 1) not in obj._compiled
        for epoch in range(1, 10):
            cb.on_epoch_end(epoch, {})
        assert obj._compiled[("strategy", 1)] in ("loop", "loop_xla", "vectorize")
        np.testing.assert_allclose(slices["auto"], slices["loop"], rtol=1e-5)
        np.testing.assert_allclose(cb.history[-1]["slices"]["model"]["loss"], slices["loop"],
                                   rtol=1e-5)

    def test_unknown_strategy_lists_known_ones(self):
        with pytest.raises(ValueError, match="`strategy`.*loop_xla.*'fastest'"):
            LossLandscape(np.zeros((4, 2), "float32"), strategy="fastest")

    @pytest.mark.slow  # ~7 s; tests/landscape/test_game.py checks the per-player probes in make test
    def test_gan_probes_are_per_player_with_rotation(self, rng):
        gan = tiny_gan(net_seeds=(0, 0))
        x = rng.uniform(size=(32, 16)).astype("float32")
        cb = LossLandscape(x, kind=("hessian", "rotation"), iterations=4, verbose=0)
        h = gan.fit(x, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
        assert {"d_hessian_top", "g_hessian_top", "rotation_index"} <= set(h.history)
        assert 0.0 <= h.history["rotation_index"][0] <= 1.0

    def test_path_angle_between_consecutive_probes(self, rng, tmp_path):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind="path_angle", grid=4, out_dir=tmp_path, verbose=0)
        ae.fit(x, x, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
        assert cb.history[0]["path_angle"] is None  # nothing to compare with yet
        out = cb.history[1]["path_angle"]
        assert out["cosine"].shape == (4,) and np.all(np.abs(out["cosine"]) <= 1.0)
        assert out["cosine"][0] < 0  # training descended: the gradient opposes the path
        assert (tmp_path / "path_angle_epoch002.png").exists()


class TestStateAndCopies:
    def test_probes_do_not_change_training(self, rng):
        ae, x = _autoencoder(rng)
        ae2 = keras.models.clone_model(ae)
        ae2.set_weights(ae.get_weights())
        ae2.compile(keras.optimizers.Adam(1e-2), "mse")
        cb = LossLandscape(x[:32], kind=("hessian", "1d"), grid=3, iterations=3, verbose=0)
        ae.fit(x, x, epochs=2, batch_size=16, shuffle=False, verbose=0, callbacks=[cb])
        ae2.fit(x, x, epochs=2, batch_size=16, shuffle=False, verbose=0)
        for a, b in zip(ae.get_weights(), ae2.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_survives_deepcopy_and_resets_on_train_begin(self, rng):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind="hessian", iterations=3, verbose=0)
        ae.fit(x, x, epochs=1, verbose=0, callbacks=[cb])
        clone = copy.deepcopy(cb)
        assert clone.get_config()["kind"] == ["hessian"]
        ae.fit(x, x, epochs=1, verbose=0, callbacks=[clone])
        assert len(clone.history) == 1

    def test_config_round_trip(self, rng):
        cb = LossLandscape(rng.uniform(size=(4, 3)).astype("float32"), every=3, kind=("2d",),
                           grid=7, seed=2, verbose=0)
        clone = check_config_roundtrip(cb)
        assert clone.every == 3 and clone.probe_data.shape == (4, 3)


class TestFigures:
    def test_figures_are_saved_to_out_dir(self, rng, tmp_path):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind=("1d", "2d", "trace"), grid=3, trace_samples=2,
                           out_dir=tmp_path, verbose=0)
        ae.fit(x, x, epochs=1, verbose=0, callbacks=[cb])
        names = sorted(os.listdir(tmp_path))
        assert names == ["curvature.png", "slices.png", "surface_model_epoch001.png"]


class TestValidation:
    def test_unknown_kind_lists_known_ones(self):
        with pytest.raises(ValueError, match="kind.*hessian"):
            LossLandscape(np.zeros((4, 2)), kind=("curvy",))

    def test_every_must_be_positive(self):
        with pytest.raises(ValueError, match="every"):
            LossLandscape(np.zeros((4, 2)), every=0)

    def test_iterations_below_k_is_rejected(self):
        with pytest.raises(ValueError, match="iterations"):
            LossLandscape(np.zeros((4, 2)), k=5, iterations=3)


class TestTrajectory:
    def test_trajectory_surface_and_figure_at_train_end(self, rng, tmp_path):
        ae, x = _autoencoder(rng)
        cb = LossLandscape(x[:32], kind=("hessian",), iterations=2, grid=3, trajectory=True,
                           out_dir=tmp_path, verbose=0)
        ae.fit(x, x, epochs=2, batch_size=16, verbose=0, callbacks=[cb])
        s = cb.trajectory_surfaces["model"]
        assert s["trajectory"].shape == (3, 2) and s["loss"].shape == (3, 3)
        assert (tmp_path / "trajectory_model.png").exists()

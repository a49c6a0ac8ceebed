"""Tests of tfgenopt/tuning/generative.py: VAE and GAN HyperModels build, fit and search."""

import keras_tuner
import numpy as np
import pytest

pytest.importorskip("tfgenopt.models.gan")
pytest.importorskip("tfgenopt.models.vae")

from tfgenopt import tuning  # noqa: E402
from tfgenopt.tuning.search import default_callbacks  # noqa: E402


def _sampled_hps(hm, n, seed=0):
    base = keras_tuner.HyperParameters()
    hm.build(base)
    out = []
    for i in range(n):
        hp = base.copy()
        for p in base.space:
            hp.values[p.name] = p.random_sample(seed + 100 * i + len(hp.values))
        out.append(hp)
    return out


@pytest.fixture(scope="module")
def flat8():
    import tfgenopt as tg

    xt, xv = tg.data.load_digits(image_size=8, flatten=True)
    return xt[:256], xv[:64]


class TestVAEHyperModel:
    def test_builds_vaes_for_sampled_hyperparameters(self, flat8):
        hm = tuning.VAEHyperModel(64, seed=0)
        for hp in _sampled_hps(hm, 3):
            vae = hm.build(hp)
            assert vae.encoder.outputs[0].shape[-1] == hp.get("latent_dim")
            assert float(vae.beta.numpy()) == pytest.approx(hp.get("beta"), rel=1e-6)
            assert vae.optimizer.__class__.__name__.lower() == hp.get("optimizer")
            assert vae.reconstruct(flat8[1][:4]).shape == (4, 64)

    def test_fit_uses_the_tuned_batch_size_and_logs_the_elbo(self, flat8):
        hm = tuning.VAEHyperModel(64, overrides={"batch_size": 64, "epochs": 1,
                                                 "optimizer": "adam", "learning_rate": 1e-3},
                                  seed=0)
        hp = keras_tuner.HyperParameters()
        vae = hm.build(hp)
        history = hm.fit(hp, vae, flat8[0], validation_data=flat8[1])
        assert int(vae.optimizer.iterations.numpy()) == 256 // 64
        assert {"loss", "kl_loss", "val_loss"} <= set(history.history)

    def test_small_search_completes(self, flat8, tmp_path):
        hm = tuning.VAEHyperModel(64, overrides={"batch_size": 64, "epochs": 1, "units": 32,
                                                 "depth": 1, "optimizer": "adam"}, seed=0)
        result = tuning.search(hm, flat8[0], flat8[1], max_trials=2, directory=tmp_path,
                               seed=0, verbose=0)
        assert result.objective == "val_loss"
        assert set(result.statuses().values()) == {"COMPLETED"}


class TestGANHyperModel:
    def test_builds_gans_for_sampled_hyperparameters(self):
        hm = tuning.GANHyperModel(64, seed=0)
        for hp in _sampled_hps(hm, 3):
            gan = hm.build(hp)
            assert gan.latent_dim == hp.get("latent_dim")
            assert (gan.ema_generator is not None) == (hp.get("ema") > 0)
            d_lr = float(gan.d_optimizer.learning_rate.numpy())
            g_lr = float(gan.g_optimizer.learning_rate.numpy())
            assert d_lr == pytest.approx(hp.get("d_learning_rate"), rel=1e-6)
            assert g_lr == pytest.approx(hp.get("g_learning_rate"), rel=1e-6)
            assert gan.generate(3, seed=0).shape == (3, 64)

    def test_dcgan_networks_for_image_shapes(self):
        hm = tuning.GANHyperModel((8, 8, 1), overrides={"units": 8}, seed=0)
        gan = hm.build(keras_tuner.HyperParameters())
        assert gan.generator.output_shape == (None, 8, 8, 1)

    def test_fit_uses_the_tuned_batch_size_and_d_steps(self, flat8):
        hm = tuning.GANHyperModel(64, overrides={"batch_size": 32, "epochs": 1, "d_steps": 1,
                                                 "ema": 0.0, "gradient_penalty": 0.0},
                                  seed=0)
        hp = keras_tuner.HyperParameters()
        gan = hm.build(hp)
        history = hm.fit(hp, gan, flat8[0])
        assert int(gan.g_optimizer.iterations.numpy()) == 256 // 32
        assert {"d_loss", "g_loss"} <= set(history.history)

    def test_unknown_loss_lists_the_known_ones(self):
        with pytest.raises(ValueError, match="`loss` must be one of .*hinge"):
            tuning.GANHyperModel(64, overrides={"loss": "relativistic_xyz"})

    def test_default_objective_adds_quality_before_early_stopping(self, flat8):
        hm = tuning.GANHyperModel(64)
        objective = tuning.resolve_objective(None, hm)
        assert (objective.name, objective.direction) == ("val_kid", "min")
        cbs = default_callbacks(hm, objective, flat8[1], None, early_stopping=True, patience=2)
        assert [type(cb).__name__ for cb in cbs] == ["QualityMonitor", "EarlyStopping"]
        assert cbs[0].metrics == ("kid",) and cbs[1].monitor == "val_kid"
        np.testing.assert_array_equal(cbs[0]._real_x, flat8[1])

    @pytest.mark.slow  # ~4 s; tests/tuning/test_search.py checks a custom objective in make test
    def test_search_with_a_custom_objective_completes(self, flat8, tmp_path):
        hm = tuning.GANHyperModel(64, overrides={"batch_size": 64, "epochs": 1, "units": 16,
                                                 "depth": 1, "d_steps": 1}, seed=0)
        result = tuning.search(hm, flat8[0], flat8[1], max_trials=2, directory=tmp_path,
                               objective=keras_tuner.Objective("val_d_loss", "min"), seed=0,
                               verbose=0)
        assert set(result.statuses().values()) == {"COMPLETED"}, result.failed()
        assert len(result.trials) == 2

    def test_default_search_optimizes_val_kid(self, flat8, tmp_path):
        hm = tuning.GANHyperModel(64, overrides={"batch_size": 64, "epochs": 1, "units": 16,
                                                 "depth": 1, "d_steps": 1}, seed=0)
        result = tuning.search(hm, flat8[0], flat8[1][:64], max_trials=1, directory=tmp_path,
                               seed=0, verbose=0)
        assert set(result.statuses().values()) == {"COMPLETED"}, result.failed()
        assert result.objective == "val_kid"
        hist = result.histories()[result.best_trial_id]
        assert result.best_score == pytest.approx(min(hist["val_kid"]))

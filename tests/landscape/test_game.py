import keras
import numpy as np
import pytest

from tests.helpers import tiny_gan, tiny_vae
from tests.landscape._models import linear_regression
from tfgenopt import landscape as L


def _bilinear(x0=1.0, y0=0.5):
    """min_x max_y x*y: the purely rotational game."""
    x, y = keras.Variable(x0), keras.Variable(y0)
    data = np.zeros((1, 1), "float32")
    return L.Game({"x": L.Objective(lambda _: x * y, [x], data),
                   "y": L.Objective(lambda _: -x * y, [y], data)})


def _tiny_gan(seed=0):
    return tiny_gan(seed=seed, net_seeds=(seed, seed))


@pytest.fixture(scope="module")
def bilinear():
    """One bilinear game for the probes that only read it (its traced Jacobian is reused)."""
    return _bilinear()


@pytest.fixture(scope="module")
def gan():
    """One never-fitted tiny GAN for the probes that only read it (the state check fits its own)."""
    return _tiny_gan()


class TestRotation:
    def test_bilinear_game_is_pure_rotation(self, bilinear):
        assert L.rotation_index(bilinear, samples=3, seed=0)["rotation"] == pytest.approx(1.0)

    def test_a_single_loss_has_no_rotation(self, rng):
        model, data, _ = linear_regression(rng)
        out = L.rotation_index(model, data, samples=2, seed=0)
        assert out["rotation"] == pytest.approx(0.0, abs=1e-10)
        assert out["symmetric_norm"] > 0

    def test_jacobian_products_match_the_bilinear_jacobian(self, bilinear):
        ju, jtu = bilinear.jacobian_products(np.array([1.0, 2.0]))
        np.testing.assert_allclose(ju, [2.0, -1.0])   # J = [[0, 1], [-1, 0]]
        np.testing.assert_allclose(jtu, [-2.0, 1.0])


class TestPathAngle:
    def test_minimization_flips_from_minus_one_to_one_at_the_optimum(self, rng):
        model, data, hessian = linear_regression(rng)
        w_star = np.linalg.solve(hessian, 2.0 / len(data[0]) * data[0].T @ data[1])
        g = L.game(model, data)
        out = L.path_angle(g, weights_a=g.weights(), weights_b=[[w_star.astype("float32")]],
                           alphas=[0.5, 1.5])
        delta = w_star[:, 0] - g.weights()[0][0][:, 0]
        c = delta @ hessian @ delta / (np.linalg.norm(hessian @ delta) * np.linalg.norm(delta))
        np.testing.assert_allclose(out["cosine"], [-c, c], rtol=1e-3)  # F = (alpha-1) H delta

    def test_rotation_gives_a_zero_cosine_towards_the_equilibrium(self):
        game = _bilinear(1.0, 0.0)
        out = L.path_angle(game, weights_a=game.weights(),
                           weights_b=[[np.float32(0.0)], [np.float32(0.0)]], alphas=3)
        np.testing.assert_allclose(out["cosine"][:-1], 0.0, atol=1e-7)

    def test_equal_checkpoints_are_rejected(self, bilinear):
        game = bilinear
        with pytest.raises(ValueError, match="equal"):
            L.path_angle(game, weights_a=game.weights(), weights_b=game.weights())


class TestGAN:
    def test_each_player_probes_its_own_variables(self, gan, rng):
        x = rng.uniform(-1, 1, size=(16, 16)).astype("float32")
        d_obj = L.objective(gan, x, player="d")
        g_obj = L.objective(gan, x, player="generator")
        assert d_obj.variables == gan.discriminator.trainable_variables
        assert g_obj.variables == gan.generator.trainable_variables
        z = gan.sample_noise(16, seed=0)
        assert d_obj.evaluate()["loss"] == pytest.approx(
            float(gan.discriminator_loss(x, z)), rel=1e-6)
        assert g_obj.evaluate()["loss"] == pytest.approx(float(gan.generator_loss(z)), rel=1e-6)

    def test_player_hessians_and_rotation_leave_state_unchanged(self, rng):
        gan = _tiny_gan()
        x = rng.uniform(size=(32, 16)).astype("float32")
        gan.fit(x, epochs=1, batch_size=16, verbose=0)
        before = [v.numpy().copy() for v in gan.variables]
        before += [v.numpy().copy() for o in (gan.d_optimizer, gan.g_optimizer)
                   for v in o.variables]
        top_d = L.hessian_eigenvalues(gan, x, player="discriminator", iterations=8, seed=0)
        top_g = L.hessian_eigenvalues(gan, x, player="generator", iterations=8, seed=0)
        rot = L.rotation_index(gan, x, samples=1, seed=0)["rotation"]
        after = [v.numpy() for v in gan.variables]
        after += [v.numpy() for o in (gan.d_optimizer, gan.g_optimizer) for v in o.variables]
        assert all(np.array_equal(a, b) for a, b in zip(before, after))
        assert np.isfinite(top_d[0]) and np.isfinite(top_g[0]) and 0.0 <= rot <= 1.0

    def test_gan_requires_a_player(self, gan, rng):
        with pytest.raises(ValueError, match="player"):
            L.slice_1d(gan, np.zeros((4, 16), "float32"))


class TestVAE:
    def test_vae_objective_is_the_deterministic_elbo(self, rng):
        vae = tiny_vae(seed=None, beta=0.5, optimizer="adam")
        x = rng.uniform(0, 1, size=(16, 16)).astype("float32")
        s = L.slice_1d(vae, x, alphas=[0.0], seed=0)
        assert s["loss"][0] == pytest.approx(float(vae.elbo_terms(x)["loss"]), rel=1e-6)
        assert s["kl_loss"][0] == pytest.approx(float(vae.elbo_terms(x)["kl_loss"]), rel=1e-6)


class TestConditionalGAN:
    def test_labels_reach_both_player_losses(self, rng):
        gan = tiny_gan(net_seeds=(0, 0), num_classes=3)
        x = rng.uniform(-1, 1, size=(12, 16)).astype("float32")
        y = np.arange(12) % 3
        z, yt = gan.sample_noise(12, seed=5), keras.ops.convert_to_tensor(y)
        d_obj = L.objective(gan, (x, y), player="d", seed=5)
        g_obj = L.objective(gan, (x, y), player="g", seed=5)
        assert d_obj.evaluate()["loss"] == pytest.approx(
            float(gan.discriminator_loss(keras.ops.convert_to_tensor(x), z, yt)), rel=1e-6)
        assert g_obj.evaluate()["loss"] == pytest.approx(float(gan.generator_loss(z, yt)),
                                                         rel=1e-6)

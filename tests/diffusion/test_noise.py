"""Schedules, SNR and target conversions against their closed forms."""

import numpy as np
import pytest

from tfgenopt.diffusion import formulations, noise


def _np(x):
    return np.asarray(x, dtype="float64")


T = np.linspace(0.0, 1.0, 11)


class TestSchedules:
    def test_cosine_angles_match_keras_io_formula(self):
        alpha, sigma = noise.CosineSchedule(0.02, 0.95)(T)
        start, end = np.arccos(0.95), np.arccos(0.02)
        np.testing.assert_allclose(_np(alpha), np.cos(start + T * (end - start)), atol=1e-12)
        np.testing.assert_allclose(_np(sigma), np.sin(start + T * (end - start)), atol=1e-12)

    @pytest.mark.parametrize("schedule", ["cosine", "linear"])
    def test_variance_preserving(self, schedule):
        alpha, sigma = noise.get_schedule(schedule)(T)
        np.testing.assert_allclose(_np(alpha) ** 2 + _np(sigma) ** 2, 1.0, atol=1e-12)

    def test_linear_matches_the_integral_of_beta(self):
        # alpha(t)^2 = exp(-int_0^t beta(u) du), beta(u) = 0.1 + u (20 - 0.1): trapezoid reference
        u = np.linspace(0.0, 1.0, 100001)
        beta = 0.1 + u * 19.9
        integral = np.concatenate([[0.0], np.cumsum((beta[1:] + beta[:-1]) / 2 * np.diff(u))])
        alpha, _ = noise.LinearSchedule()(T)
        np.testing.assert_allclose(_np(alpha) ** 2, np.exp(-integral[::10000]), rtol=1e-6)

    def test_linear_matches_discrete_ddpm(self):
        # DDPM: 1000 betas from 1e-4 to 0.02; alpha_bar_T = prod(1 - beta_i) ~ alpha(1)^2
        betas = np.linspace(1e-4, 0.02, 1000)
        alpha_bar = np.cumprod(1.0 - betas)
        alpha, _ = noise.LinearSchedule()(np.array([0.25, 0.5, 1.0]))
        np.testing.assert_allclose(np.log(_np(alpha) ** 2), np.log(alpha_bar[[249, 499, 999]]),
                                   rtol=0.01)

    @pytest.mark.parametrize("schedule", ["cosine", "linear"])
    def test_marginal_mean_variance_and_snr(self, schedule):
        rng = np.random.default_rng(0)
        x0 = rng.normal(1.5, 0.7, size=400000)
        eps = rng.normal(size=x0.shape)
        for t in (0.1, 0.5, 0.9):
            alpha, sigma = (float(v) for v in noise.get_schedule(schedule)(np.float64(t)))
            x_t = alpha * x0 + sigma * eps
            assert x_t.mean() == pytest.approx(alpha * 1.5, abs=4e-3)
            assert x_t.var() == pytest.approx(alpha ** 2 * 0.49 + sigma ** 2, rel=1e-2)
            assert float(noise.snr(alpha, sigma)) == pytest.approx(alpha ** 2 / sigma ** 2)

    def test_flow_marginal(self):
        flow = formulations.Flow()
        rng = np.random.default_rng(1)
        x0, eps = rng.normal(-0.5, 0.3, size=400000), rng.normal(size=400000)
        for t in (0.2, 0.7):
            a, b = (float(v) for v in flow.scales(np.float64(t / (1 - t))))
            assert (a, b) == pytest.approx((1 - t, t))
            x_t = a * x0 + b * eps
            assert x_t.mean() == pytest.approx((1 - t) * -0.5, abs=4e-3)
            assert x_t.var() == pytest.approx((1 - t) ** 2 * 0.09 + t ** 2, rel=1e-2)

    def test_unknown_schedule_lists_known(self):
        with pytest.raises(ValueError, match=r"'quadratic'.*\['cosine', 'linear'\]"):
            noise.get_schedule("quadratic")


class TestConversions:
    rng = np.random.default_rng(2)
    x0 = rng.normal(size=(64, 3)).astype("float32")
    eps = rng.normal(size=(64, 3)).astype("float32")
    s = np.exp(rng.uniform(-3, 3, size=(64, 1))).astype("float32")

    def test_eps_x0_v_invert_each_other(self):
        alpha, sigma = (_np(v) for v in noise.vp_scales(_np(self.s)))
        x_t = alpha * self.x0 + sigma * self.eps
        v = _np(noise.v_target(self.x0, self.eps, alpha, sigma))
        np.testing.assert_allclose(_np(noise.eps_to_x0(x_t, self.eps, alpha, sigma)), self.x0,
                                   atol=1e-9)
        np.testing.assert_allclose(_np(noise.x0_to_eps(x_t, self.x0, alpha, sigma)), self.eps,
                                   atol=1e-9)
        np.testing.assert_allclose(_np(noise.v_to_x0(x_t, v, alpha, sigma)), self.x0, atol=1e-9)
        np.testing.assert_allclose(_np(noise.v_to_eps(x_t, v, alpha, sigma)), self.eps, atol=1e-9)

    def test_velocity_inverts(self):
        t = _np(self.s) / (1 + _np(self.s))
        x_t = (1 - t) * self.x0 + t * self.eps
        u = _np(noise.velocity_target(self.x0, self.eps))
        # u is float32 (from float32 x0, eps): float32 precision
        np.testing.assert_allclose(_np(noise.velocity_to_x0(x_t, u, t)), self.x0, atol=1e-6)
        np.testing.assert_allclose(_np(noise.velocity_to_eps(x_t, u, t)), self.eps, atol=1e-6)

    @pytest.mark.parametrize("formulation", [
        formulations.VP(target="eps"), formulations.VP(target="v"), formulations.VP(target="x0"),
        formulations.VP("linear", "v"), formulations.EDM(), formulations.Flow()])
    def test_formulation_target_round_trips_in_float32(self, formulation):
        a, b = formulation.scales(self.s)
        x_t = a * self.x0 + b * self.eps
        target, _ = formulation.target_and_weight(self.x0, self.eps, x_t, self.s)
        back = _np(formulation.to_x0(target, x_t, self.s))
        # float32 round off, amplified by at most 1/alpha at the noisiest levels
        np.testing.assert_allclose(back, self.x0, atol=2e-4 * float(np.max(self.s)) + 1e-5)


class TestWeights:
    @pytest.mark.parametrize("target", ["eps", "v", "x0"])
    def test_min_snr_weights_the_x0_error_by_min_snr_gamma(self, target):
        # A target-space error delta is an x0-space error; the weighted loss must equal
        # min(snr, gamma) ||x0 error||^2 for every target (the v formula is not the eps one).
        vp = formulations.VP(target=target, weighting="min_snr")
        x0, eps = np.float64(0.4), np.float64(-0.9)
        for s in (0.1, 0.45, 1.0, 3.0):
            s = np.float64(s)
            a, b = (float(v) for v in vp.scales(s))
            x_t = a * x0 + b * eps
            target_value, weight = vp.target_and_weight(x0, eps, x_t, s)
            delta = 1e-3
            x0_error = float(vp.to_x0(_np(target_value) + delta, x_t, s)) - 0.4
            snr = a * a / (b * b)
            assert float(weight) * delta ** 2 == pytest.approx(min(snr, 5.0) * x0_error ** 2,
                                                               rel=1e-6)

    def test_edm_weight_is_one_over_c_out_squared(self):
        for s in (0.01, 0.5, 20.0):
            _, c_out, _, _ = noise.edm_preconditioning(np.float64(s))
            assert float(noise.edm_loss_weight(np.float64(s)) * c_out ** 2) == pytest.approx(1.0)

    def test_karras_grid_ends(self):
        grid = noise.karras_sigmas(18)
        assert grid[0] == pytest.approx(80.0) and grid[-2] == pytest.approx(0.002)
        assert grid[-1] == 0.0 and all(b < a for a, b in zip(grid, grid[1:]))


class TestFormulationArguments:
    @pytest.mark.parametrize("kwargs, name", [
        ({"target": "noise"}, "target"), ({"weighting": "snr"}, "weighting"),
        ({"schedule": "quadratic"}, "schedule"), ({"min_snr_gamma": 0}, "min_snr_gamma")])
    def test_vp_rejects(self, kwargs, name):
        with pytest.raises(ValueError, match=name):
            formulations.VP(**kwargs)

    def test_unknown_formulation_lists_known(self):
        with pytest.raises(ValueError, match=r"'ddpm'.*\['edm', 'flow', 'vp'\]"):
            formulations.get("ddpm")

    def test_config_round_trip(self):
        for f in (formulations.VP("linear", "v", "min_snr"), formulations.EDM(sigma_data=0.6),
                  formulations.Flow(shift=3.0)):
            assert formulations.get(f.get_config()).get_config() == f.get_config()

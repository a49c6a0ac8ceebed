"""Samplers against oracles: exact denoisers of Gaussian and mixture data, exact ODE solutions."""

import numpy as np
import pytest

from tfgenopt.diffusion import formulations, noise, samplers

MU = np.array([0.5, -1.0])
COV = np.array([[0.5, 0.3], [0.3, 0.8]])


def gaussian_denoiser(mu=MU, cov=COV):
    """E[x0 | x0 + s eps] for x0 ~ N(mu, cov): mu + cov (cov + s^2 I)^-1 (x - mu)."""
    def denoise(x, s):
        x = np.asarray(x, "float64")
        gain = cov @ np.linalg.inv(cov + s * s * np.eye(len(mu)))
        return mu + (x - mu) @ gain.T
    return denoise


MIX_MU = np.array([[-2.0, 0.0], [1.5, 1.0]])
MIX_STD = np.array([0.4, 0.6])
MIX_PI = np.array([0.3, 0.7])


def mixture_denoiser(x, s):
    """E[x0 | x] for a two-component isotropic Gaussian mixture (closed form)."""
    x = np.asarray(x, "float64")
    var = MIX_STD ** 2 + s * s                               # (k,)
    d2 = ((x[:, None, :] - MIX_MU[None]) ** 2).sum(-1)       # (n, k)
    logw = np.log(MIX_PI) - d2 / (2 * var) - np.log(var)     # 2-D: normaliser var^(d/2) = var
    w = np.exp(logw - logw.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    means = MIX_MU[None] + (MIX_STD ** 2 / var)[None, :, None] * (x[:, None, :] - MIX_MU[None])
    return (w[:, :, None] * means).sum(1)


def mixture_moments():
    mean = (MIX_PI[:, None] * MIX_MU).sum(0)
    second = sum(p * (np.outer(m, m) + s * s * np.eye(2)) for p, m, s in
                 zip(MIX_PI, MIX_MU, MIX_STD))
    return mean, second - np.outer(mean, mean)


def start(formulation, sigmas, n=4000, seed=0):
    z = np.random.default_rng(seed).normal(size=(n, 2))
    return z * float(formulation.prior_scale(np.float64(sigmas[0])))


# keras.io's cosine bounds stop at s = 0.33 (the last step returns E[x0 | x] there, whose
# covariance is shrunk); the oracle checks use a VP cosine schedule that reaches s = 0.045.
FORMS = {"vp": formulations.VP({"name": "cosine", "max_signal_rate": 0.999}),
         "edm": formulations.EDM(), "flow": formulations.Flow()}
STEPS = {"ddim": 100, "ddpm": 200, "euler": 100, "heun": 20, "dpmpp_2m": 20}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("sampler", samplers.SAMPLERS)
class TestOracleSamples:
    def test_gaussian_mean_and_covariance(self, sampler, form):
        f = FORMS[form]
        sigmas = f.sigma_grid(STEPS[sampler], samplers.default_spacing(sampler, form))
        out = np.asarray(samplers.sample(gaussian_denoiser(), start(f, sigmas), sigmas,
                                         sampler=sampler, seed=1, flow=form == "flow"))
        # 4,000 samples: the sample mean's std is ~0.014, the covariance entries' ~0.02
        np.testing.assert_allclose(out.mean(0), MU, atol=0.06)
        np.testing.assert_allclose(np.cov(out.T), COV, atol=0.08)

    def test_mixture_mean_covariance_and_weights(self, sampler, form):
        f = FORMS[form]
        sigmas = f.sigma_grid(STEPS[sampler], samplers.default_spacing(sampler, form))
        out = np.asarray(samplers.sample(mixture_denoiser, start(f, sigmas), sigmas,
                                         sampler=sampler, seed=1, flow=form == "flow"))
        mean, cov = mixture_moments()
        np.testing.assert_allclose(out.mean(0), mean, atol=0.1)
        np.testing.assert_allclose(np.cov(out.T), cov, atol=0.2)
        share = np.mean(out[:, 0] > -0.25)            # the right-hand component's weight
        assert share == pytest.approx(0.7, abs=0.04)


def _ode_error(sampler, steps, s_max=10.0, s_min=0.05, var=0.5):
    """|x(s_min) - exact| for 1-D N(0.3, var) data, exact denoiser, EDM spacing without the 0."""
    sigmas = noise.karras_sigmas(steps, s_min, s_max)[:-1]
    x = np.linspace(-3, 3, 7)[:, None] * s_max
    denoise = lambda x, s: 0.3 + var / (var + s * s) * (np.asarray(x) - 0.3)  # noqa: E731
    out = np.asarray(samplers.sample(denoise, x, sigmas, sampler=sampler))
    # dx/ds = (x - D)/s = s (x - mu)/(var + s^2)  =>  x - mu grows as sqrt(var + s^2)
    exact = 0.3 + (x - 0.3) * np.sqrt(var + s_min ** 2) / np.sqrt(var + s_max ** 2)
    return float(np.max(np.abs(out - exact)))


class TestOrder:
    @pytest.mark.parametrize("sampler, order", [("euler", 1), ("ddim", 1), ("heun", 2),
                                                ("dpmpp_2m", 2)])
    def test_halving_the_step_cuts_the_error_by_two_to_the_order(self, sampler, order):
        errors = [_ode_error(sampler, n) for n in (16, 32, 64)]
        ratios = [a / b for a, b in zip(errors, errors[1:])]
        for r in ratios:
            assert 2 ** order * 0.75 < r < 2 ** order * 1.35, (errors, ratios)

    def test_flow_euler_is_euler_in_t_with_the_exact_velocity(self):
        # Rectified flow: x_t = (1-t) x0 + t eps; exact velocity u = (x_t - E[x0|x_t]) / t,
        # integrated in t directly, must equal the sampler's Euler run in s = t / (1 - t).
        flow = formulations.Flow()
        sigmas = flow.sigma_grid(25, "uniform")
        times = [s / (1 + s) for s in sigmas]
        x_t = np.random.default_rng(3).normal(size=(500, 2))
        denoise = gaussian_denoiser()

        def expected_x0(x_t, t):                  # E[x0 | x_t] = D(x_t / (1-t), t / (1-t))
            return denoise(x_t / (1 - t), t / (1 - t))

        x = x_t.copy()
        for t, t_next in zip(times, times[1:]):
            u = (x - expected_x0(x, t)) / t
            x = x + (t_next - t) * u
        ours = samplers.sample(denoise, x_t * float(flow.prior_scale(np.float64(sigmas[0]))),
                               sigmas, sampler="euler")
        np.testing.assert_allclose(np.asarray(ours), x, atol=1e-9)

    def test_ddim_matches_the_vp_ddim_update(self):
        # The keras.io / DDIM step on x_t: x' = a' x0_hat + b' eps_hat, with the exact denoiser.
        vp = formulations.VP()
        sigmas = vp.sigma_grid(10)
        denoise = gaussian_denoiser()
        x_t = np.random.default_rng(4).normal(size=(300, 2))
        x = x_t.copy()
        for s, s_next in zip(sigmas, sigmas[1:]):
            a, b = (float(v) for v in vp.scales(np.float64(s)))
            x0 = denoise(x / a, s)
            eps = (x - a * x0) / b
            a2, b2 = (float(v) for v in vp.scales(np.float64(s_next)))
            x = a2 * x0 + b2 * eps
        ours = samplers.sample(denoise, x_t / float(vp.scales(np.float64(sigmas[0]))[0]), sigmas)
        np.testing.assert_allclose(np.asarray(ours), x, atol=1e-9)


class TestArguments:
    def test_unknown_sampler_lists_known(self):
        with pytest.raises(ValueError, match="sampler.*'dpm'"):
            samplers.sample(lambda x, s: x, np.zeros((1, 1)), [1.0, 0.0], sampler="dpm")

    def test_sigmas_must_decrease(self):
        with pytest.raises(ValueError, match="sigmas"):
            samplers.sample(lambda x, s: x, np.zeros((1, 1)), [1.0, 2.0])

    def test_eta_only_for_ddim(self):
        with pytest.raises(ValueError, match="eta"):
            samplers.sample(lambda x, s: x, np.zeros((1, 1)), [1.0, 0.0], sampler="heun", eta=0.5)

    def test_seeded_ddpm_is_reproducible(self):
        denoise = gaussian_denoiser()
        x = np.ones((3, 2))
        a = samplers.sample(denoise, x, [5.0, 1.0, 0.0], sampler="ddpm", seed=7)
        b = samplers.sample(denoise, x, [5.0, 1.0, 0.0], sampler="ddpm", seed=7)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def test_evaluations(self):
        assert samplers.evaluations("heun", 18) == 35
        with pytest.raises(ValueError, match="steps"):
            samplers.evaluations("ddim", 0)

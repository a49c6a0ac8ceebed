"""Diffusion formulations: how a clean sample is noised, what the network predicts, and back.

A formulation is a small object of pure tensor functions (no Keras model inside). Every one
writes a noisy sample as ``x_t = a * x0 + b * eps`` and names its noise level by the scale-free
``s = b / a``, so that one sampling loop (``tfgenopt.diffusion.samplers``) serves them all:

* :class:`VP`: variance preserving (DDPM / DDIM, keras.io): ``a = alpha``, ``b = sigma`` of a
  cosine or linear schedule; the network predicts ``eps``, ``v`` or ``x0`` and sees the noise
  variance ``sigma**2`` (keras.io's input); optional Min-SNR-gamma weighting.
* :class:`EDM`: Karras et al. (2022): ``a = 1``, ``b = sigma``, log-normal training levels,
  preconditioning ``c_skip, c_out, c_in, c_noise``; the network sees ``c_in x`` and ``c_noise``.
* :class:`Flow`: flow matching / rectified flow: ``x_t = (1 - t) x0 + t eps`` (``s = t/(1-t)``),
  the network predicts the velocity ``eps - x0`` and sees ``t``; logit-normal training times.

Methods (``s`` must broadcast against ``x``):

* ``sigma_from_quantile(q)``: the training distribution of ``s`` through its quantile function
  (training draws ``q ~ U(0, 1)``; validation uses a fixed grid of ``q``).
* ``scales(s)``: ``(a, b)``.
* ``network_inputs(x_t, s)``: ``(x_in, noise_in)`` for the network.
* ``target_and_weight(x0, eps, x_t, s)``: the regression target and its per-sample weight.
* ``to_x0(output, x_t, s)``: the denoised sample from the network's output.
* ``sigma_grid(steps, spacing)``: ``steps`` decreasing levels then 0, for the samplers.
* ``prior_scale(s)``: the std of ``x_t / a`` at the start of sampling.
"""

from __future__ import annotations

import math

from keras import ops

from tfgenopt._registry import Registry
from tfgenopt._validation import check_choice, check_float
from tfgenopt.diffusion import noise

__all__ = ["VP", "EDM", "Flow", "FORMULATIONS", "get", "SPACINGS"]

SPACINGS = ("uniform", "karras")
_Q_EPS = 1e-5


def _normal_quantile(q):
    q = ops.clip(q, _Q_EPS, 1.0 - _Q_EPS)
    return math.sqrt(2.0) * ops.erfinv(2.0 * q - 1.0)


def _check_spacing(spacing):
    return check_choice("spacing", spacing, SPACINGS)


class _Base:
    name = ""

    def get_config(self):
        return {"formulation": self.name, **self._config()}

    def _config(self):
        return {}

    def sigma_range(self):
        """``(s_min, s_max)``: the levels sampling starts and ends at."""
        raise NotImplementedError

    def prior_scale(self, s):
        """The std of ``x_t / a`` for pure noise at level ``s`` (sampling starts there)."""
        a, _ = self.scales(s)
        return 1.0 / a

    def _times(self, steps):
        return [1.0 - i / steps for i in range(steps)]

    def sigma_grid(self, steps, spacing="uniform"):
        """``steps`` levels from ``s_max`` down, then 0: a list of Python floats.

        ``"uniform"``: uniform in the formulation's own time (keras.io's DDIM schedule for VP,
        uniform ``t`` for flows); ``"karras"``: EDM's rho=7 spacing between ``sigma_range()``.
        """
        _check_spacing(spacing)
        lo, hi = self.sigma_range()
        if spacing == "karras":
            return noise.karras_sigmas(steps, lo, hi)
        return [self._sigma_at(t) for t in self._times(steps)] + [0.0]

    def to_x0(self, output, x_t, s):
        raise NotImplementedError


FORMULATIONS = Registry("formulation")


@FORMULATIONS.register("vp")
class VP(_Base):
    """Variance preserving diffusion with a cosine or linear schedule (continuous time).

    Args:
        schedule: ``"cosine"`` (keras.io: signal rates 0.95 -> 0.02), ``"linear"``, a config
            dict (``{"name": "cosine", "max_signal_rate": 0.999}``) or a schedule. keras.io's
            0.95 leaves noise level ``s = 0.33`` at ``t = 0``: training never sees less noise,
            and sampling ends with the denoised estimate there (smoother samples).
        target: what the network predicts: ``"eps"``, ``"v"`` or ``"x0"``.
        weighting: ``"none"`` or ``"min_snr"`` (Min-SNR-gamma, target-corrected).
        min_snr_gamma: gamma of ``"min_snr"`` (5).
        t_min: the smallest diffusion time (linear schedule; the cosine one is bounded).

    Example:
        >>> import numpy as np
        >>> vp = VP(target="v")
        >>> x0, eps, s = np.float32(0.3), np.float32(-1.2), np.float32(0.8)
        >>> a, b = vp.scales(s)
        >>> x_t = a * x0 + b * eps
        >>> target, _ = vp.target_and_weight(x0, eps, x_t, s)
        >>> round(float(vp.to_x0(target, x_t, s)), 5)
        0.3
    """

    name = "vp"
    TARGETS = ("eps", "v", "x0")
    WEIGHTINGS = ("none", "min_snr")

    def __init__(self, schedule="cosine", target="eps", weighting="none", min_snr_gamma=5.0,
                 t_min=1e-3):
        self.schedule = noise.get_schedule(schedule)
        self.target = check_choice("target", target, self.TARGETS)
        self.weighting = check_choice("weighting", weighting, self.WEIGHTINGS)
        self.min_snr_gamma = check_float("min_snr_gamma", min_snr_gamma, 0.0, min_inclusive=False)
        self.t_min = check_float("t_min", t_min, 0.0, 1.0, max_inclusive=False)

    def _config(self):
        return {"schedule": self.schedule.get_config(), "target": self.target,
                "weighting": self.weighting, "min_snr_gamma": self.min_snr_gamma,
                "t_min": self.t_min}

    def _sigma_at(self, t):
        alpha, sigma = self.schedule(t)
        return float(ops.convert_to_numpy(sigma / alpha))

    def sigma_range(self):
        return self._sigma_at(self.t_min), self._sigma_at(1.0)

    def sigma_from_quantile(self, q):
        """``s`` at diffusion time ``t = t_min + q (1 - t_min)`` (uniform times)."""
        alpha, sigma = self.schedule(self.t_min + q * (1.0 - self.t_min))
        return sigma / alpha

    def scales(self, s):
        return noise.vp_scales(s)

    def network_inputs(self, x_t, s):
        _, sigma = self.scales(s)
        return x_t, ops.square(sigma)  # keras.io's input: the noise variance

    def target_and_weight(self, x0, eps, x_t, s):
        alpha, sigma = self.scales(s)
        target = {"eps": eps, "x0": x0}.get(self.target)
        if target is None:
            target = noise.v_target(x0, eps, alpha, sigma)
        weight = ops.ones_like(s)
        if self.weighting == "min_snr":
            weight = noise.min_snr_weight(noise.snr(alpha, sigma), self.min_snr_gamma,
                                          self.target)
        return target, weight

    def to_x0(self, output, x_t, s):
        alpha, sigma = self.scales(s)
        if self.target == "eps":
            return noise.eps_to_x0(x_t, output, alpha, sigma)
        if self.target == "v":
            return noise.v_to_x0(x_t, output, alpha, sigma)
        return output


@FORMULATIONS.register("edm")
class EDM(_Base):
    """EDM (Karras et al. 2022): preconditioned denoiser, log-normal noise levels.

    Args:
        sigma_data: the data's standard deviation (0.5).
        p_mean, p_std: ``ln sigma ~ N(p_mean, p_std**2)`` in training (-1.2, 1.2).
        sigma_min, sigma_max: the sampling range (0.002, 80).

    Example:
        >>> import numpy as np
        >>> edm = EDM()
        >>> x0, eps, s = np.float32(0.3), np.float32(-1.2), np.float32(2.0)
        >>> x_t = x0 + s * eps
        >>> target, weight = edm.target_and_weight(x0, eps, x_t, s)
        >>> round(float(edm.to_x0(target, x_t, s)), 5), float(weight)
        (0.3, 1.0)
    """

    name = "edm"

    def __init__(self, sigma_data=0.5, p_mean=-1.2, p_std=1.2, sigma_min=0.002, sigma_max=80.0):
        self.sigma_data = check_float("sigma_data", sigma_data, 0.0, min_inclusive=False)
        self.p_mean = check_float("p_mean", p_mean)
        self.p_std = check_float("p_std", p_std, 0.0, min_inclusive=False)
        self.sigma_min = check_float("sigma_min", sigma_min, 0.0, min_inclusive=False)
        self.sigma_max = check_float("sigma_max", sigma_max, 0.0, min_inclusive=False)
        if self.sigma_max <= self.sigma_min:
            raise ValueError(f"`sigma_max` ({sigma_max}) must exceed `sigma_min` ({sigma_min}).")

    def _config(self):
        return {"sigma_data": self.sigma_data, "p_mean": self.p_mean, "p_std": self.p_std,
                "sigma_min": self.sigma_min, "sigma_max": self.sigma_max}

    def sigma_range(self):
        return self.sigma_min, self.sigma_max

    def sigma_grid(self, steps, spacing="karras"):
        """EDM has no time of its own: both spacings give the rho=7 schedule."""
        _check_spacing(spacing)
        return noise.karras_sigmas(steps, self.sigma_min, self.sigma_max)

    def sigma_from_quantile(self, q):
        return ops.exp(self.p_mean + self.p_std * _normal_quantile(q))

    def scales(self, s):
        return ops.ones_like(s), s

    def prior_scale(self, s):
        return ops.sqrt(ops.square(s) + self.sigma_data ** 2)

    def network_inputs(self, x_t, s):
        _, _, c_in, c_noise = noise.edm_preconditioning(s, self.sigma_data)
        return c_in * x_t, c_noise

    def target_and_weight(self, x0, eps, x_t, s):
        # EDM's loss lambda(s) ||D - x0||^2 equals ||F - (x0 - c_skip x) / c_out||^2 (weight 1).
        c_skip, c_out, _, _ = noise.edm_preconditioning(s, self.sigma_data)
        return (x0 - c_skip * x_t) / c_out, ops.ones_like(s)

    def to_x0(self, output, x_t, s):
        c_skip, c_out, _, _ = noise.edm_preconditioning(s, self.sigma_data)
        return c_skip * x_t + c_out * output


@FORMULATIONS.register("flow")
class Flow(_Base):
    """Flow matching (rectified flow): ``x_t = (1 - t) x0 + t eps``, velocity ``eps - x0``.

    Args:
        time_sampling: ``"logit_normal"`` (SD3: ``t = sigmoid(N(0, 1))``) or ``"uniform"``.
        shift: sampling-time shift ``t' = shift t / (1 + (shift - 1) t)`` (1 = none; SD3 uses 3
            at high resolution).
        t_max: the time sampling starts at (``t = 1`` is pure noise, ``s`` infinite).

    Example:
        >>> import numpy as np
        >>> flow = Flow()
        >>> x0, eps, s = np.float32(0.3), np.float32(-1.2), np.float32(1.0)
        >>> a, b = flow.scales(s)
        >>> x_t = a * x0 + b * eps
        >>> target, _ = flow.target_and_weight(x0, eps, x_t, s)
        >>> round(float(target), 5), round(float(flow.to_x0(target, x_t, s)), 5)
        (-1.5, 0.3)
    """

    name = "flow"
    TIME_SAMPLINGS = ("logit_normal", "uniform")

    def __init__(self, time_sampling="logit_normal", shift=1.0, t_max=0.999):
        self.time_sampling = check_choice("time_sampling", time_sampling, self.TIME_SAMPLINGS)
        self.shift = check_float("shift", shift, 0.0, min_inclusive=False)
        self.t_max = check_float("t_max", t_max, 0.0, 1.0, min_inclusive=False,
                                 max_inclusive=False)

    def _config(self):
        return {"time_sampling": self.time_sampling, "shift": self.shift, "t_max": self.t_max}

    @staticmethod
    def _time(s):
        return s / (1.0 + s)

    def _sigma_at(self, t):
        t = t * self.t_max
        t = self.shift * t / (1.0 + (self.shift - 1.0) * t)
        return t / (1.0 - t)

    def sigma_range(self):
        return self._sigma_at(1.0 / 1000), self._sigma_at(1.0)

    def sigma_from_quantile(self, q):
        if self.time_sampling == "uniform":
            t = ops.clip(q, _Q_EPS, 1.0 - _Q_EPS)
        else:
            t = ops.sigmoid(_normal_quantile(q))
        return t / (1.0 - t)

    def scales(self, s):
        t = self._time(s)
        return 1.0 - t, t

    def network_inputs(self, x_t, s):
        return x_t, self._time(s)

    def target_and_weight(self, x0, eps, x_t, s):
        return noise.velocity_target(x0, eps), ops.ones_like(s)

    def to_x0(self, output, x_t, s):
        return noise.velocity_to_x0(x_t, output, self._time(s))


def get(identifier, **kwargs):
    """A formulation from its name (with ``kwargs``), its config dict, or an instance.

    Example:
        >>> get("vp", target="v").get_config()["target"]
        'v'
        >>> get({"formulation": "flow", "shift": 3.0}).shift
        3.0
    """
    return FORMULATIONS.build(identifier, "formulation", key="formulation", **kwargs)

"""Noise schedules, signal-to-noise ratios and the conversions between prediction targets.

Everything here is a pure function of tensors (``keras.ops``; NumPy arrays work too) in float32
or whatever float dtype comes in: no state, no models. Conventions, used throughout
``tfgenopt.diffusion``:

* a noisy sample is ``x_t = a * x0 + b * eps`` with ``eps ~ N(0, I)``; the variance-preserving
  (VP) family has ``a = alpha``, ``b = sigma`` with ``alpha**2 + sigma**2 = 1``;
* the scale-free noise level is ``s = b / a`` ("sigma" of EDM, Karras et al. 2022): every
  formulation is the same probability-flow ODE in ``x_t / a`` and ``s``, which is what the
  samplers integrate;
* ``snr = a**2 / b**2 = 1 / s**2``.

Example:
    >>> import numpy as np
    >>> alpha, sigma = CosineSchedule()(np.array([0.0, 1.0], "float32"))
    >>> np.round(np.asarray(alpha), 3).tolist()
    [0.95, 0.02]
"""

from __future__ import annotations

import math

from keras import ops

from tfgenopt._registry import Registry
from tfgenopt._validation import check_float

__all__ = ["CosineSchedule", "LinearSchedule", "SCHEDULES", "get_schedule", "snr",
           "eps_to_x0", "x0_to_eps", "v_target", "v_to_x0", "v_to_eps", "velocity_target",
           "velocity_to_x0", "velocity_to_eps", "min_snr_weight", "edm_preconditioning",
           "edm_loss_weight", "karras_sigmas", "vp_scales"]


SCHEDULES = Registry("schedule")


@SCHEDULES.register("cosine")
class CosineSchedule:
    """The keras.io DDIM schedule: ``alpha = cos(angle)``, the angle linear in ``t``.

    Args:
        min_signal_rate: ``alpha(1)`` (keras.io: 0.02).
        max_signal_rate: ``alpha(0)`` (keras.io: 0.95).

    Example:
        >>> import numpy as np
        >>> a, s = CosineSchedule()(np.float32(0.5))
        >>> round(float(a) ** 2 + float(s) ** 2, 6)
        1.0
    """

    name = "cosine"

    def __init__(self, min_signal_rate=0.02, max_signal_rate=0.95):
        self.min_signal_rate = check_float("min_signal_rate", min_signal_rate, 0.0, 1.0,
                                           min_inclusive=False, max_inclusive=False)
        self.max_signal_rate = check_float("max_signal_rate", max_signal_rate, 0.0, 1.0,
                                           min_inclusive=False, max_inclusive=False)
        if self.max_signal_rate <= self.min_signal_rate:
            raise ValueError(f"`max_signal_rate` ({max_signal_rate}) must exceed "
                             f"`min_signal_rate` ({min_signal_rate}).")

    def get_config(self):
        return {"name": self.name, "min_signal_rate": self.min_signal_rate,
                "max_signal_rate": self.max_signal_rate}

    def __call__(self, t):
        """``(alpha, sigma)`` at diffusion times ``t`` in [0, 1]."""
        start, end = math.acos(self.max_signal_rate), math.acos(self.min_signal_rate)
        angle = start + t * (end - start)
        return ops.cos(angle), ops.sin(angle)


@SCHEDULES.register("linear")
class LinearSchedule:
    """DDPM's linear betas in continuous time (the VP SDE of Song et al. 2021).

    ``log alpha(t) = -beta_min t / 2 - (beta_max - beta_min) t**2 / 4`` and
    ``sigma = sqrt(1 - alpha**2)``; with ``beta_min = 0.1``, ``beta_max = 20`` this is DDPM's
    ``beta`` from 1e-4 to 0.02 over 1000 steps.

    Example:
        >>> import numpy as np
        >>> a, _ = LinearSchedule()(np.float32(1.0))
        >>> round(float(a), 4)
        0.0066
    """

    name = "linear"

    def __init__(self, beta_min=0.1, beta_max=20.0):
        self.beta_min = check_float("beta_min", beta_min, 0.0, min_inclusive=False)
        self.beta_max = check_float("beta_max", beta_max, 0.0, min_inclusive=False)
        if self.beta_max <= self.beta_min:
            raise ValueError(f"`beta_max` ({beta_max}) must exceed `beta_min` ({beta_min}).")

    def get_config(self):
        return {"name": self.name, "beta_min": self.beta_min, "beta_max": self.beta_max}

    def __call__(self, t):
        """``(alpha, sigma)`` at diffusion times ``t`` in [0, 1]."""
        log_alpha = -0.5 * self.beta_min * t - 0.25 * (self.beta_max - self.beta_min) * t * t
        return ops.exp(log_alpha), ops.sqrt(-ops.expm1(2.0 * log_alpha))


def get_schedule(identifier):
    """A schedule from its name (``"cosine"``, ``"linear"``), its config, or an instance.

    Example:
        >>> get_schedule("linear").beta_max
        20.0
        >>> get_schedule({"name": "cosine", "max_signal_rate": 0.999}).max_signal_rate
        0.999
    """
    return SCHEDULES.build(identifier, "schedule")


def snr(alpha, sigma):
    """The signal-to-noise ratio ``alpha**2 / sigma**2``.

    Example:
        >>> float(snr(0.6, 0.8))
        0.5625
    """
    return ops.square(alpha) / ops.square(sigma)


def vp_scales(s):
    """``(alpha, sigma)`` of the VP sample whose scale-free noise level is ``s = sigma/alpha``.

    Example:
        >>> [round(float(v), 4) for v in vp_scales(0.75)]
        [0.8, 0.6]
    """
    alpha = 1.0 / ops.sqrt(1.0 + ops.square(s))
    return alpha, s * alpha


def eps_to_x0(x_t, eps, alpha, sigma):
    """The clean sample implied by a noise prediction: ``(x_t - sigma eps) / alpha``."""
    return (x_t - sigma * eps) / alpha


def x0_to_eps(x_t, x0, alpha, sigma):
    """The noise implied by a clean-sample prediction: ``(x_t - alpha x0) / sigma``."""
    return (x_t - alpha * x0) / sigma


def v_target(x0, eps, alpha, sigma):
    """The v-prediction target of Salimans & Ho (2022): ``alpha eps - sigma x0`` (VP only)."""
    return alpha * eps - sigma * x0


def v_to_x0(x_t, v, alpha, sigma):
    """The clean sample from a v prediction: ``alpha x_t - sigma v`` (VP: alpha²+sigma²=1)."""
    return alpha * x_t - sigma * v


def v_to_eps(x_t, v, alpha, sigma):
    """The noise from a v prediction: ``sigma x_t + alpha v`` (VP: alpha²+sigma²=1)."""
    return sigma * x_t + alpha * v


def velocity_target(x0, eps):
    """Rectified flow's velocity ``d x_t / dt = eps - x0`` for ``x_t = (1 - t) x0 + t eps``."""
    return eps - x0


def velocity_to_x0(x_t, u, t):
    """The clean sample from a velocity: ``x_t - t u``."""
    return x_t - t * u


def velocity_to_eps(x_t, u, t):
    """The noise from a velocity: ``x_t + (1 - t) u``."""
    return x_t + (1.0 - t) * u


_MIN_SNR_TARGETS = ("eps", "v", "x0")


def min_snr_weight(snr_value, gamma=5.0, target="eps"):
    """The Min-SNR-gamma loss weight (Hang et al. 2023) for a loss on ``target``.

    ``min(snr, gamma) / snr`` for an epsilon target, ``min(snr, gamma) / (snr + 1)`` for a v
    target (not the epsilon formula: diffusers#5654) and ``min(snr, gamma)`` for an x0 target:
    each is the weight that makes the loss ``min(snr, gamma) * ||x0_hat - x0||**2``.

    Example:
        >>> [round(float(min_snr_weight(10.0, 5.0, t)), 4) for t in ("eps", "v", "x0")]
        [0.5, 0.4545, 5.0]
    """
    if target not in _MIN_SNR_TARGETS:
        raise ValueError(f"`target` must be one of {list(_MIN_SNR_TARGETS)}; received {target!r}.")
    clipped = ops.minimum(snr_value, gamma)
    if target == "eps":
        return clipped / snr_value
    if target == "v":
        return clipped / (snr_value + 1.0)
    return clipped


def edm_preconditioning(sigma, sigma_data=0.5):
    """EDM's ``(c_skip, c_out, c_in, c_noise)`` at noise level ``sigma`` (Karras et al. 2022).

    Example:
        >>> [round(float(c), 4) for c in edm_preconditioning(0.5)]
        [0.5, 0.3536, 1.4142, -0.1733]
    """
    total = ops.square(sigma) + sigma_data ** 2
    return (sigma_data ** 2 / total, sigma * sigma_data / ops.sqrt(total),
            1.0 / ops.sqrt(total), ops.log(sigma) / 4.0)


def edm_loss_weight(sigma, sigma_data=0.5):
    """EDM's loss weight ``(sigma**2 + sigma_data**2) / (sigma sigma_data)**2`` (= 1 / c_out²).

    Example:
        >>> round(float(edm_loss_weight(0.5)), 4)
        8.0
    """
    return (ops.square(sigma) + sigma_data ** 2) / ops.square(sigma * sigma_data)


def karras_sigmas(steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """EDM's step schedule: ``steps`` noise levels from ``sigma_max`` to ``sigma_min``, then 0.

    Args:
        steps: number of levels before the final 0.
        sigma_min, sigma_max: the ends (EDM: 0.002 and 80).
        rho: the warping (EDM: 7).

    Returns:
        A list of ``steps + 1`` Python floats, decreasing, ending in 0.

    Example:
        >>> [round(s, 3) for s in karras_sigmas(3)]
        [80.0, 2.515, 0.002, 0.0]
    """
    if steps == 1:
        return [float(sigma_max), 0.0]
    lo, hi = sigma_min ** (1.0 / rho), sigma_max ** (1.0 / rho)
    out = [(hi + i / (steps - 1) * (lo - hi)) ** rho for i in range(steps)]
    return out + [0.0]

"""Samplers: integrate the probability-flow ODE (or its SDE) from noise to data.

Every sampler works on the scale-free state ``x = x_t / a`` at noise level ``s = b / a`` (see
``tfgenopt.diffusion.noise``) and needs only a denoiser ``denoise(x, s) -> x0_hat``; the
formulations turn a network into one. In these coordinates (Karras et al. 2022, sec. 3):

* ``"ddim"``: the DDIM update ``x' = x0_hat + s' eps_hat`` (with ``eta > 0`` part of the noise
  is fresh, as in DDIM's eta); deterministic DDIM is exactly Euler's method on the ODE
  ``dx/ds = (x - D(x, s)) / s``, and so is rectified flow's Euler step in ``t``.
* ``"ddpm"``: ancestral sampling, DDIM with ``eta = 1`` (DDPM's posterior variance for VP).
* ``"euler"``: Euler's method (first order) on EDM's step schedule by default.
* ``"heun"``: Heun's second-order method (EDM's Algorithm 1, deterministic); the step to
  ``s = 0`` is an Euler step.
* ``"dpmpp_2m"``: DPM-Solver++(2M) (Lu et al. 2022), second-order multistep in ``log s``.

Example:
    >>> import numpy as np
    >>> from tfgenopt.diffusion.noise import karras_sigmas
    >>> denoise = lambda x, s: x / (1.0 + s * s)          # data ~ N(0, 1): E[x0 | x]
    >>> x = np.random.default_rng(0).normal(size=(4000, 1)) * np.sqrt(1 + 80.0**2)
    >>> out = sample(denoise, x, karras_sigmas(18), sampler="heun")  # 35 evaluations
    >>> round(float(np.std(out)), 2)
    1.04
"""

from __future__ import annotations

import math

import keras
from keras import ops

from tfgenopt._validation import check_choice, check_float, check_int

__all__ = ["SAMPLERS", "sample", "evaluations", "default_spacing", "check_sampler"]

SAMPLERS = ("ddim", "ddpm", "euler", "heun", "dpmpp_2m")


def check_sampler(sampler):
    """``sampler`` if it is a known name; else a ``ValueError`` listing :data:`SAMPLERS`."""
    return check_choice("sampler", sampler, SAMPLERS)


def default_spacing(sampler, formulation="vp"):
    """The step spacing a sampler uses by default for a formulation.

    DDIM / DDPM step uniformly in the formulation's time (keras.io's DDIM); Euler, Heun and
    DPM-Solver++ use EDM's rho=7 schedule, except on flows, which step uniformly in ``t``.

    Example:
        >>> default_spacing("ddim"), default_spacing("heun"), default_spacing("heun", "flow")
        ('uniform', 'karras', 'uniform')
    """
    check_sampler(sampler)
    if sampler in ("ddim", "ddpm") or formulation == "flow":
        return "uniform"
    return "karras"


def evaluations(sampler, steps):
    """Network evaluations of ``steps`` steps ending at ``s = 0`` (Heun: ``2 steps - 1``).

    Example:
        >>> evaluations("ddim", 20), evaluations("heun", 18)
        (20, 35)
    """
    check_sampler(sampler)
    steps = check_int("steps", steps, minimum=1)
    return 2 * steps - 1 if sampler == "heun" else steps


def _ancestral(s, s_next, eta):
    """``(s_down, s_up)``: the deterministic and the fresh-noise parts of a step to ``s_next``."""
    if eta == 0.0 or s_next == 0.0:
        return s_next, 0.0
    up = min(s_next, eta * math.sqrt(s_next ** 2 * (s ** 2 - s_next ** 2) / s ** 2))
    return math.sqrt(s_next ** 2 - up ** 2), up


def sample(denoise, x, sigmas, sampler="ddim", eta=None, seed=None, flow=False):
    """Run ``sampler`` from ``x`` at ``sigmas[0]`` through every level in ``sigmas``.

    Args:
        denoise: ``denoise(x, s) -> x0_hat`` for a batch ``x`` and a Python float ``s``.
        x: the start, ``x_t / a`` at ``sigmas[0]`` (noise of std ``prior_scale``).
        sigmas: decreasing noise levels (Python floats); usually ending in 0.
        sampler: one of :data:`SAMPLERS`.
        eta: fresh-noise fraction of ``"ddim"`` (default 0; ``"ddpm"`` is 1).
        seed: seed of the fresh noise (``"ddim"`` with ``eta > 0``, ``"ddpm"``).
        flow: integrate in rectified-flow coordinates (``x_t``, ``t = s / (1 + s)``). Only
            Heun differs there (Euler / DDIM and DPM-Solver++ are the same in both), and on a
            flow it must: ``x_t / a`` grows as ``1 / (1 - t)`` near pure noise, where a Heun
            step in ``s`` is inaccurate. The ODE has the same form, ``dx/dt = (x - D) / t``.

    Returns:
        The state at ``sigmas[-1]`` (the samples when it is 0), as a tensor.

    Example:
        >>> import numpy as np
        >>> out = sample(lambda x, s: x * 0.0, np.ones((2, 3), "float32"), [1.0, 0.0])
        >>> np.asarray(out).tolist()
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    check_sampler(sampler)
    sigmas = [float(s) for s in sigmas]
    if len(sigmas) < 2 or any(b >= a for a, b in zip(sigmas, sigmas[1:])) or sigmas[-1] < 0:
        raise ValueError(f"`sigmas` must be at least two decreasing levels >= 0; received "
                         f"{sigmas}.")
    if eta is not None and sampler != "ddim":
        raise ValueError(f"`eta` applies to sampler='ddim' only; received eta={eta!r} with "
                         f"sampler={sampler!r}.")
    eta = 1.0 if sampler == "ddpm" else check_float("eta", 0.0 if eta is None else eta, 0.0)
    x = ops.convert_to_tensor(x)
    step = {"heun": _heun, "dpmpp_2m": _dpmpp_2m}.get(sampler, _ddim)
    generator = keras.random.SeedGenerator(seed) if eta > 0 else None
    if flow and sampler == "heun":
        times = [s / (1.0 + s) for s in sigmas]
        x_t = step(lambda x, t: denoise(x / (1.0 - t), t / (1.0 - t)), x / (1.0 + sigmas[0]),
                   times, eta, generator)
        return x_t / (1.0 - times[-1])
    return step(denoise, x, sigmas, eta, generator)


def _ddim(denoise, x, sigmas, eta, generator):
    for s, s_next in zip(sigmas, sigmas[1:]):
        x0 = denoise(x, s)
        down, up = _ancestral(s, s_next, eta)
        x = x0 + (down / s) * (x - x0)
        if up > 0.0:
            x = x + up * keras.random.normal(ops.shape(x), dtype=x.dtype, seed=generator)
    return x


def _heun(denoise, x, sigmas, eta, generator):
    for s, s_next in zip(sigmas, sigmas[1:]):
        d = (x - denoise(x, s)) / s
        x_euler = x + (s_next - s) * d
        if s_next == 0.0:
            x = x_euler
        else:
            d_next = (x_euler - denoise(x_euler, s_next)) / s_next
            x = x + (s_next - s) * 0.5 * (d + d_next)
    return x


def _dpmpp_2m(denoise, x, sigmas, eta, generator):
    previous = None
    for i, (s, s_next) in enumerate(zip(sigmas, sigmas[1:])):
        x0 = denoise(x, s)
        if s_next == 0.0:
            x = x0
            break
        h = math.log(s / s_next)  # lambda = -log s
        if previous is not None:
            r = math.log(sigmas[i - 1] / s) / h
            x0_mix = (1.0 + 1.0 / (2.0 * r)) * x0 - (1.0 / (2.0 * r)) * previous
        else:
            x0_mix = x0
        x = (s_next / s) * x - math.expm1(-h) * x0_mix
        previous = x0
    return x

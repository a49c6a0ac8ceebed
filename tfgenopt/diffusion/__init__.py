"""Diffusion and flow matching as pure tensor functions: schedules, formulations, samplers.

Nothing here builds or trains a Keras model (``tfgenopt.models.Diffusion`` does that with these
pieces): ``noise`` holds schedules, SNR and target conversions, ``formulations`` the VP, EDM and
flow-matching parameterizations, ``samplers`` DDIM, DDPM, Euler, Heun and DPM-Solver++(2M).
"""

from tfgenopt.diffusion import formulations, noise, samplers

__all__ = ["formulations", "noise", "samplers"]

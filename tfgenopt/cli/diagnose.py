"""``tfgenopt lr-find`` and ``tfgenopt landscape``: the diagnostics, as plain functions.

Each takes the command's options as keyword arguments (the names of the flags, ``--min-lr`` as
``min_lr``) and returns a small JSON-able dict that the command prints.
"""

from __future__ import annotations

import os
import zipfile

import keras
import numpy as np

from tfgenopt import landscape, plotting
from tfgenopt._io import make_dir
from tfgenopt.callbacks.lr import lr_find
from tfgenopt.data import load
from tfgenopt.recommended import make_model

__all__ = ["lr_find_command", "landscape_command"]


def lr_find_command(kind, dataset="digits", image_size=28, seed=0, optimizer=None,
                    min_lr=1e-6, max_lr=1.0, steps=100, batch_size=64, out="runs/lr_find",
                    verbose=1, **_ignored):
    """Run the LR range test for a fresh model of ``kind``; save the figure."""
    make_dir(out, "--out")  # a file or an unwritable --out fails before the range test
    x_train, _ = load(dataset, image_size=image_size, flatten=True, seed=seed,
                      value_range=(0.0, 1.0))
    model = make_model(kind, x_train.shape[1], optimizer, seed=seed)
    y_train = x_train if kind == "autoencoder" else None
    result = lr_find(model, x_train, y_train, min_lr=min_lr, max_lr=max_lr,
                     steps=steps, batch_size=batch_size, verbose=verbose)
    path = plotting.save_figure(result.plot(), os.path.join(out, "lr_find.png"))
    return {"suggested_lr": float(result.suggestion), "min_div10": float(result.min_div10),
            "monitor": result.monitor, "diverged": bool(result.diverged), "figure": path}


def landscape_command(model, dataset="digits", image_size=28, seed=0,
                      kind=("1d", "2d", "hessian"), grid=11, probe_size=256,
                      out="runs/landscape", verbose=1, **_ignored):
    """Probe a saved ``.keras`` model's loss landscape on a probe set of the dataset.

    A GAN is probed per player (discriminator and generator, each in its own weights); a VAE
    through its ELBO; any other compiled model through its compiled loss (targets = inputs).
    """
    path = model  # `import tfgenopt` registered GAN, VAE and Diffusion for load_model
    if not os.path.exists(path):
        raise FileNotFoundError(f"`model` {path!r} does not exist.")
    make_dir(out, "--out")  # a file or an unwritable --out fails before any probe
    if not zipfile.is_zipfile(path):
        raise ValueError(f"`model` {path!r} is not a .keras file (not a zip archive; "
                         "truncated or another format?).")
    try:
        model = keras.saving.load_model(path)
    except Exception as exc:  # KeyError, OSError, TypeError...: one clear error naming the file
        raise ValueError(f"`model` {path!r} is not a readable .keras file "
                         f"({type(exc).__name__}: {exc}).") from None
    inputs = model.networks()["discriminator"].inputs if hasattr(model, "generator_loss") else \
        (model.networks()["encoder"].inputs if hasattr(model, "elbo_terms") else model.inputs)
    flat = len(inputs[0].shape) == 2
    x_train, _ = load(dataset, image_size=image_size, flatten=flat, seed=seed,
                      value_range=(0.0, 1.0))
    probe = x_train[: probe_size]
    players = ("discriminator", "generator") if hasattr(model, "generator_loss") else (None,)
    result = {}
    for player in players:
        tag = f"{player}_" if player else ""
        common = {"player": player} if player else {}
        if "1d" in kind:
            sl = landscape.slice_1d(model, probe, alphas=np.linspace(-1, 1, grid),
                                    seed=seed, **common)
            result[f"{tag}slice_loss_at_0"] = float(sl["loss"][grid // 2])
            result[f"{tag}slice_loss_max"] = float(np.max(sl["loss"]))
        if "2d" in kind:
            surf = landscape.surface_2d(model, probe, grid=grid, seed=seed,
                                        verbose=verbose, **common)
            name = f"{tag}surface.png"
            plotting.save_figure(plotting.plot_surface(surf, title=f"{player or 'loss'} surface"),
                                 os.path.join(out, name))
            result[f"{tag}surface_min"] = float(np.min(surf["loss"]))
        if "hessian" in kind:
            eig = landscape.hessian_eigenvalues(model, probe, k=1, seed=seed, **common)
            result[f"{tag}hessian_top"] = float(np.max(eig))
        if "trace" in kind:
            result[f"{tag}hessian_trace"] = float(
                landscape.hessian_trace(model, probe, samples=16, seed=seed, **common)["trace"])
        if "noise_scale" in kind:
            result[f"{tag}grad_noise_scale"] = float(landscape.gradient_noise_scale(
                model, probe, seed=seed, **common)["noise_scale"])
        if "sharpness" in kind:
            result[f"{tag}sharpness"] = float(landscape.sharpness(model, probe, **common)["sharpness"])
    result["out"] = out
    return result

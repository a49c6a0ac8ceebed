"""One-line descriptions of a model, its training recipe and its data, for a report's headline."""

from __future__ import annotations

import numpy as np

from tfgenopt.diffusion import samplers
from tfgenopt.report.verdict import fmt

__all__ = ["describe_model", "describe_recipe", "describe_data"]


def _params(n):
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else str(n)


def describe_model(model):
    """``"GAN: generator 'g' (34k params), discriminator 'd' (27k params)"`` and the like.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="tiny")
        >>> describe_model(m)
        "Sequential 'tiny' (10 params)"
    """
    nets = model.networks() if callable(getattr(model, "networks", None)) else None
    if nets:
        parts = [f"{role} '{net.name}' ({_params(net.count_params())} params)"
                 for role, net in nets.items() if not role.startswith("ema_")]
        return f"{type(model).__name__}: " + ", ".join(parts)
    return f"{type(model).__name__} '{model.name}' ({_params(model.count_params())} params)"


def _optimizer(opt):
    if opt is None:
        return "?"
    cfg = opt.get_config()
    text = f"{type(opt).__name__} {fmt(float(np.asarray(opt.learning_rate)), 2)}"
    if "beta_1" in cfg and abs(cfg["beta_1"] - 0.9) > 1e-9:
        text += f" (β1 {fmt(cfg['beta_1'], 2)})"
    return text


def describe_recipe(model):
    """The training recipe in one line: loss, optimizers and the regularizers that are on.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> m.compile(keras.optimizers.Adam(1e-3), "mse")
        >>> describe_recipe(m)
        'loss mse, Adam 0.001'
    """
    recipe = getattr(model, "recipe", None)
    if callable(getattr(recipe, "sampling", None)):  # a Diffusion: its recipe and its sampler
        return _diffusion_recipe(model, recipe)
    by_name = model.optimizers_by_name() if callable(getattr(model, "optimizers_by_name",
                                                             None)) else None
    if by_name:  # a GAN: its compile config names the recipe
        cfg = model.get_compile_config() or {}
        parts = [f"{cfg.get('loss', '?')} loss"]
        parts += [f"{name.removesuffix('_optimizer').upper()}: {_optimizer(o)}"
                  for name, o in by_name.items()]
        if cfg.get("r1"):
            parts.append(f"R1 {fmt(cfg['r1'], 2)} every {cfg.get('r1_every', 1)} steps")
        for key, label in (("gradient_penalty", "gradient penalty"), ("lecam", "LeCam"),
                           ("label_smoothing", "label smoothing"),
                           ("instance_noise", "instance noise")):
            if cfg.get(key):
                parts.append(f"{label} {fmt(cfg[key], 2)}")
        if cfg.get("augment"):
            parts.append(f"augment {cfg['augment']}")
        if cfg.get("d_steps", 1) != 1:
            parts.append(f"{cfg['d_steps']} D steps per G step")
        if getattr(model, "ema", None):
            parts.append(f"EMA generator ({fmt(model.ema, 4)})")
        return ", ".join(parts)
    loss = getattr(model, "loss", None)
    loss = loss if isinstance(loss, str) else type(loss).__name__ if loss is not None else None
    parts = [f"loss {loss}"] if loss else []
    return ", ".join(parts + [_optimizer(getattr(model, "optimizer", None))])


def _diffusion_recipe(model, recipe):
    cfg = recipe.formulation.get_config()
    parts = [f"{cfg['formulation']} formulation"]
    parts += [f"{k} {cfg[k]}" for k in ("target", "weighting")
              if k in cfg and cfg[k] not in (None, "none")]
    parts += [f"{recipe.loss} loss", _optimizer(model.optimizer)]
    if recipe.weight_decay:
        parts[-1] += f" (weight decay {fmt(recipe.weight_decay, 2)})"
    if getattr(model, "ema", None):
        parts.append(f"EMA network ({fmt(model.ema, 4)}" + (", warm-up)" if recipe.ema_warmup
                                                              else ")"))
    sampler, steps = recipe.sampling()
    parts.append(f"sampler {sampler} {steps} steps "
                 f"({samplers.evaluations(sampler, steps)} network evaluations)")
    return ", ".join(parts)


def describe_data(name, n_train, n_val, image_shape=None, num_classes=None, value_range=None):
    """``"digits: 512 train / 256 validation images, 28×28 grey, 10 classes"``.

    Example:
        >>> describe_data("photos", 900, 100, (64, 64, 3))
        'photos: 900 train / 100 validation images, 64×64 RGB'
    """
    text = f"{name}: {n_train} train / {n_val} validation images"
    if image_shape is not None:
        h, w, c = (tuple(image_shape) + (1,))[:3]
        text += f", {h}×{w} " + ({1: "grey", 3: "RGB"}.get(c) or f"{c} channels")
    if num_classes:
        text += f", {num_classes} classes"
    if value_range is not None:
        text += f", pixels in [{fmt(value_range[0])}, {fmt(value_range[1])}]"
    return text

"""``DiffusionRecipe``: every argument of ``Diffusion.compile``, checked and resolved in one place.

As ``GANRecipe`` is for the GAN: ``Diffusion.compile(**kwargs)`` is ``DiffusionRecipe(**kwargs)``
handed to the model, ``get_compile_config`` is :meth:`DiffusionRecipe.to_config`, and loading a
``.keras`` file rebuilds it with :meth:`DiffusionRecipe.from_config`.

The defaults are provisional: a one-seed screening on 16 px digits at equal CPU time
(docs/diffusion.md) put flow matching (logit-normal times, MSE) ahead of v-prediction with
Min-SNR, EDM and the keras.io DDIM recipe; the 32 px, 3-seed measurement on digits and shapes
(``benchmarks/bench_diffusion.py``, issue 31) is still to run. The optimizer is the keras.io
recipe's (AdamW 1e-3, weight decay 1e-4), with the EMA ramp that keeps short runs from sampling
the initial weights.
"""

from __future__ import annotations

import keras

from tfgenopt._validation import check_choice, check_float, check_int
from tfgenopt.diffusion import formulations, samplers
from tfgenopt.models._execution import check_steps_per_execution
from tfgenopt.models._optimizer import resolve_optimizer

__all__ = ["DiffusionRecipe", "FORMULATION", "LOSS", "OPTIMIZER", "LEARNING_RATE",
           "WEIGHT_DECAY", "EMA_WARMUP", "LABEL_DROPOUT", "DEFAULT_SAMPLING"]

# The defaults of ``DiffusionRecipe`` and ``Diffusion.compile`` (one home: change them here).
FORMULATION = "flow"
LOSS = "mse"
OPTIMIZER = "adamw"
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-4
EMA_WARMUP = True
LABEL_DROPOUT = 0.1
LOSSES = ("mse", "mae")
# The sampler and step count ``generate`` uses per formulation when the recipe says "auto".
DEFAULT_SAMPLING = {"vp": ("ddim", 20), "edm": ("heun", 18), "flow": ("euler", 20)}


class DiffusionRecipe:
    """The diffusion model's training recipe: formulation, loss, optimizer, EMA and sampling.

    Args:
        formulation: ``"flow"``, ``"vp"`` or ``"edm"``, a config dict or a formulation from
            ``tfgenopt.diffusion.formulations``.
        schedule: VP only: ``"cosine"`` (keras.io) or ``"linear"`` (None: cosine).
        target: VP only: ``"eps"``, ``"v"`` or ``"x0"`` (None: eps).
        weighting: VP only: ``"none"`` or ``"min_snr"`` (None: none).
        min_snr_gamma: VP only: gamma of Min-SNR (None: 5).
        loss: ``"mse"`` or ``"mae"`` (keras.io's DDIM uses MAE).
        optimizer: a Keras optimizer, its config, or its name; a name resolves with
            ``learning_rate`` and ``weight_decay`` (where it has one).
        learning_rate: the rate a name resolves with.
        weight_decay: the decay a name resolves with (AdamW's decoupled decay).
        ema_warmup: ramp the EMA decay as ``min(ema, (1 + k) / (10 + k))`` at step ``k``
            (False: the constant decay from the first step, as keras.io).
        offset_noise: std of a per-image, per-channel constant added to the noise (0 = off).
        label_dropout: conditional models: the fraction of labels replaced by "no label" in
            training (classifier-free guidance needs it).
        sampler: ``"auto"`` (per formulation: DDIM 20 for VP, Heun 18 for EDM, Euler 20 for
            flows) or one of ``tfgenopt.diffusion.samplers.SAMPLERS``.
        steps: sampling steps, or ``"auto"``.
        steps_per_execution, jit_compile: Keras' execution settings (``"auto"``: see
            ``tfgenopt.models._execution``).

    Example:
        >>> recipe = DiffusionRecipe(formulation="vp", target="v", weighting="min_snr")
        >>> recipe.formulation.get_config()["target"], recipe.sampling()
        ('v', ('ddim', 20))
    """

    def __init__(self, formulation=FORMULATION, schedule=None, target=None, weighting=None,
                 min_snr_gamma=None, loss=LOSS, optimizer=OPTIMIZER, learning_rate=LEARNING_RATE,
                 weight_decay=WEIGHT_DECAY, ema_warmup=EMA_WARMUP, offset_noise=0.0,
                 label_dropout=LABEL_DROPOUT,
                 sampler="auto", steps="auto", steps_per_execution="auto", jit_compile="auto"):
        vp_args = {"schedule": schedule, "target": target, "weighting": weighting,
                   "min_snr_gamma": min_snr_gamma}
        vp_args = {k: v for k, v in vp_args.items() if v is not None}
        name = formulation.get("formulation") if isinstance(formulation, dict) else (
            getattr(formulation, "name", formulation))
        if vp_args and name != "vp":
            raise ValueError(f"`{next(iter(vp_args))}` applies to formulation='vp' only; "
                             f"received it with formulation={name!r}.")
        if vp_args and not isinstance(formulation, str):
            raise ValueError(f"Give `{next(iter(vp_args))}` inside the formulation's config, "
                             "or pass formulation='vp'.")
        self.formulation = formulations.get(formulation, **vp_args)
        self.loss = check_choice("loss", loss, LOSSES)
        self.learning_rate = check_float("learning_rate", learning_rate, 0.0, min_inclusive=False)
        self.weight_decay = check_float("weight_decay", weight_decay, 0.0)
        self.ema_warmup = check_choice("ema_warmup", ema_warmup, (True, False))
        self.offset_noise = check_float("offset_noise", offset_noise, 0.0)
        self.label_dropout = check_float("label_dropout", label_dropout, 0.0, 1.0,
                                         max_inclusive=False)
        self.sampler = sampler if sampler == "auto" else samplers.check_sampler(sampler)
        self.steps = steps if steps == "auto" else check_int("steps", steps, minimum=1)
        self.steps_per_execution = check_steps_per_execution(steps_per_execution)
        self.jit_compile = check_choice("jit_compile", jit_compile, (True, False, "auto"))
        self.optimizer = resolve_optimizer("optimizer", optimizer, learning_rate=learning_rate,
                                           weight_decay=weight_decay)

    def sampling(self):
        """``(sampler, steps)`` that ``generate`` uses when it is given neither."""
        sampler, steps = DEFAULT_SAMPLING[self.formulation.name]
        if self.sampler != "auto":
            sampler = self.sampler
        return sampler, steps if self.steps == "auto" else self.steps

    def keras_compile_args(self):
        """What ``keras.Model.compile`` takes from the recipe."""
        return {"optimizer": self.optimizer, "steps_per_execution": self.steps_per_execution,
                "jit_compile": self.jit_compile}

    def to_config(self):
        """The recipe as ``Diffusion.get_compile_config`` saves it (optimizer serialized)."""
        return {"formulation": self.formulation.get_config(), "loss": self.loss,
                "optimizer": keras.optimizers.serialize(self.optimizer),
                "learning_rate": self.learning_rate, "weight_decay": self.weight_decay,
                "ema_warmup": self.ema_warmup, "offset_noise": self.offset_noise,
                "label_dropout": self.label_dropout, "sampler": self.sampler,
                "steps": self.steps, "steps_per_execution": self.steps_per_execution,
                "jit_compile": self.jit_compile}

    @classmethod
    def from_config(cls, config):
        """The recipe of :meth:`to_config`."""
        config = dict(config)
        if isinstance(config.get("optimizer"), dict):
            config["optimizer"] = keras.optimizers.deserialize(config["optimizer"])
        return cls(**config)

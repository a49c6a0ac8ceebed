"""``DiffusionHyperModel``: Keras Tuner over the diffusion recipe and the U-Net's widths.

Its defaults are read from the model itself (``Diffusion.compile``'s and ``Diffusion``'s
defaults, the U-Net builder's widths), never repeated here, so the first trial of every search
trains exactly what ``Diffusion(...).compile()`` trains, whatever those defaults are today.
"""

from __future__ import annotations

import inspect

from tfgenopt import builders
from tfgenopt._validation import check_int, check_value_range
from tfgenopt.diffusion import formulations, noise
from tfgenopt.models import Diffusion, DiffusionRecipe
from tfgenopt.models.diffusion_recipe import LOSSES
from tfgenopt.recommended import unet_widths
from tfgenopt.tuning.generative import QualityHyperModel
from tfgenopt.tuning.hypermodels import common_space
from tfgenopt.tuning.space import choice, fixed, float_range

__all__ = ["DiffusionHyperModel", "default_recipe"]

_VP_KEYS = ("schedule", "target", "weighting")


def default_recipe():
    """The ``DiffusionRecipe`` that ``Diffusion.compile()`` with no arguments builds.

    Example:
        >>> default_recipe().formulation.get_config() == diffusion.formulation.get_config()
        True
    """
    params = inspect.signature(Diffusion.compile).parameters
    return DiffusionRecipe(**{k: p.default for k, p in params.items() if k != "self"})


def _model_default(name):
    return inspect.signature(Diffusion.__init__).parameters[name].default


def _vp_defaults(recipe):
    """``{schedule, target, weighting}`` of the default recipe's VP, or of a default ``VP()``."""
    f = recipe.formulation if recipe.formulation.name == "vp" else formulations.VP()
    cfg = f.get_config()
    return {"schedule": cfg["schedule"]["name"], "target": cfg["target"],
            "weighting": cfg["weighting"]}


def _parse_widths(text):
    try:
        widths = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise ValueError(f"`widths` values must be comma-separated positive integers such as "
                         f"'32,64,96,128'; received {text!r}.")
    return widths


def _others(default, options):
    return tuple(o for o in options if o != default)


class DiffusionHyperModel(QualityHyperModel):
    """Tunes a ``tfgenopt.models.Diffusion`` on a ``tfgenopt.builders.unet``.

    Tuned by default: ``formulation`` (flow, VP, EDM), the VP ``schedule``, ``target`` and loss
    ``weighting`` (used when the formulation is VP), ``loss`` (MSE, MAE), ``learning_rate``
    (log, 1e-4..3e-3), the EMA decay ``ema`` (0 turns the EMA network off), ``ema_warmup``,
    the U-Net ``widths`` (a comma-separated string: the builder's default cut to fit the image,
    and half of it) and the batch size; fixed by default: ``epochs`` (10) and the U-Net's
    ``depth`` (the builder's default; override it to tune it).

    The defaults (:meth:`defaults`, the first trial of every search) are what
    ``Diffusion(unet(image_shape)).compile()`` trains: every default is read from the model, and
    a value equal to the default is not passed to ``compile``, so trial 0 *is* the default
    recipe. The default objective is ``val_kid`` (a ``QualityMonitor`` is added inside a
    tuner, see :class:`~tfgenopt.tuning.generative.QualityHyperModel`).

    Args:
        image_shape: ``(h, w, c)`` of the images.
        overrides: search-space overrides, e.g. ``{"formulation": "vp", "widths": "16,32"}``.
        num_classes: a conditional model over this many classes (fit with ``y=labels``).
        value_range: ``(low, high)`` of the data (``tfgenopt.data`` loaders: ``(0, 1)``).
        seed: seed of the initializers, the noise and the data order.
        name: the HyperModel's name.
        quality: keyword arguments of the ``QualityMonitor`` that ``fit`` adds.

    Example:
        >>> hm = DiffusionHyperModel((8, 8, 1), overrides={"widths": "8,16", "epochs": 1})
        >>> model = hm.build(keras_tuner.HyperParameters())
        >>> model.get_compile_config()["loss"] == default_recipe().loss
        True
    """

    def __init__(self, image_shape=(32, 32, 1), overrides=None, num_classes=None,
                 value_range=(0.0, 1.0), seed=None, name="diffusion", quality=None):
        try:
            shape = tuple(int(v) for v in image_shape)
        except (TypeError, ValueError):
            raise TypeError(f"`image_shape` must be (height, width, channels); received "
                            f"{image_shape!r}.") from None
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"`image_shape` must be (height, width, channels); received "
                             f"{image_shape!r}.")
        self.image_shape = shape
        self.num_classes = None if num_classes is None else check_int(
            "num_classes", num_classes, minimum=2)
        self.value_range = check_value_range("value_range", value_range)
        self._recipe = default_recipe()
        super().__init__(overrides=overrides, seed=seed, name=name, quality=quality)
        param = self.space.params["widths"]
        for text in param.values if param.kind == "choice" else (self.defaults()["widths"],):
            factor = 2 ** (len(_parse_widths(text)) - 1)
            if shape[0] % factor or shape[1] % factor:
                raise ValueError(f"`widths` {text!r} halves the image {len(_parse_widths(text)) - 1}"
                                 f" times: its sides must be divisible by {factor}; image_shape "
                                 f"is {shape}.")

    def default_space(self):
        r = self._recipe
        vp = _vp_defaults(r)
        widths = unet_widths(self.image_shape)
        half = tuple(max(1, w // 2) for w in widths)
        space = common_space(batch_sizes=(64, 32))
        for key in ("optimizer", "learning_rate", "momentum", "normalization",
                    "kernel_initializer"):
            del space[key]
        ema = _model_default("ema")
        space.update({
            "formulation": choice(r.formulation.name,
                                  *_others(r.formulation.name, ("flow", "vp", "edm")),
                                  allowed=tuple(formulations.FORMULATIONS.names())),
            "schedule": choice(vp["schedule"], *_others(vp["schedule"], tuple(noise.SCHEDULES.names())),
                               allowed=tuple(noise.SCHEDULES.names())),
            "target": choice(vp["target"], *_others(vp["target"], formulations.VP.TARGETS),
                             allowed=formulations.VP.TARGETS),
            "weighting": choice(vp["weighting"],
                                *_others(vp["weighting"], formulations.VP.WEIGHTINGS),
                                allowed=formulations.VP.WEIGHTINGS),
            "loss": choice(r.loss, *_others(r.loss, LOSSES), allowed=LOSSES),
            "learning_rate": float_range(min(1e-4, r.learning_rate), max(3e-3, r.learning_rate),
                                         "log", default=r.learning_rate),
            "ema": choice(ema or 0.0, *_others(ema or 0.0, (0.999, 0.99, 0.0)),
                          legal=(0.0, 0.99999)),
            "ema_warmup": choice(r.ema_warmup, not r.ema_warmup),
            "widths": choice(",".join(map(str, widths)), ",".join(map(str, half))),
            "depth": fixed(inspect.signature(builders.unet).parameters["depth"].default,
                           legal=(1, None), dtype="int"),
        })
        return space

    def compile_arguments(self, values):
        """The ``Diffusion.compile`` arguments of ``values``: only those that differ from the default.

        Example:
            >>> hm = DiffusionHyperModel((8, 8, 1))
            >>> hm.compile_arguments(hm.defaults())
            {}
        """
        r, vp = self._recipe, _vp_defaults(self._recipe)
        out = {}
        name = values["formulation"]
        vp_changed = name == "vp" and any(values[k] != vp[k] for k in _VP_KEYS)
        if name != r.formulation.name or vp_changed:
            out["formulation"] = name
            if name == "vp":
                out.update({k: values[k] for k in _VP_KEYS})
        if values["loss"] != r.loss:
            out["loss"] = values["loss"]
        if float(values["learning_rate"]) != r.learning_rate:
            out["learning_rate"] = float(values["learning_rate"])
        if bool(values["ema_warmup"]) != r.ema_warmup:
            out["ema_warmup"] = bool(values["ema_warmup"])
        return out

    def build_model(self, values):
        net = builders.unet(self.image_shape, widths=_parse_widths(values["widths"]),
                            depth=int(values["depth"]), num_classes=self.num_classes,
                            seed=self.seed)
        ema = float(values["ema"])
        default_ema = _model_default("ema")
        model = Diffusion(net, conditional=self.num_classes is not None,
                          num_classes=self.num_classes, value_range=self.value_range,
                          seed=self.seed,
                          **({} if ema == (default_ema or 0.0) else {"ema": ema or None}))
        model.compile(**self.compile_arguments(values))
        return model

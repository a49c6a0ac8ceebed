"""Sort ``search()``'s extra keyword arguments as ``keras_tuner.Tuner.search`` does.

Keras Tuner takes the tuner's settings in its constructor and ``fit``'s arguments
(``epochs``, ``batch_size``...) in ``search``; tfgenopt's ``search`` takes both in one call,
so each extra keyword goes where its name belongs, and a name that fits neither is a
``TypeError`` before anything is created.
"""

from __future__ import annotations

import copy
import inspect
import types

import keras
import keras_tuner

from tfgenopt.tuning.space import SearchSpace, parse_override

__all__ = ["split_kwargs", "fix_fit_values"]

#: ``fit`` arguments that ``search`` fills itself (its own parameters).
OWNED_BY_SEARCH = ("x", "y", "validation_data", "callbacks", "verbose")
#: Tuner arguments ``search`` or its tuner class sets itself.
OWNED_BY_TUNER = ("self", "hypermodel", "oracle", "objective", "max_trials", "max_epochs",
                  "directory", "project_name", "overwrite", "seed", "executions_per_trial")
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _named(fn):
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in _NAMED]


def tuner_arguments(cls):
    """The keyword arguments ``cls`` (a Keras Tuner tuner class) and its bases take."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and klass is not object:
            names.update(_named(init))
    return names - set(OWNED_BY_TUNER)


def fit_arguments(hypermodel):
    """The ``fit`` keyword arguments ``hypermodel.fit`` takes (``keras.Model.fit``'s when it
    forwards ``**kwargs`` to the model), less those ``search`` passes itself."""
    fit = type(hypermodel).fit
    names = set(_named(fit)) - {"self", "hp", "model"}
    if any(p.kind == inspect.Parameter.VAR_KEYWORD
           for p in inspect.signature(fit).parameters.values()):
        names.update(_named(keras.Model.fit))
    return names - {"self"} - set(OWNED_BY_SEARCH)


def split_kwargs(hypermodel, tuner_cls, kwargs):
    """``(tuner_kwargs, fit_kwargs)`` from ``search``'s extra keyword arguments.

    Raises:
        TypeError: naming every argument that is neither a tuner nor a ``fit`` argument.
    """
    tuner_names, fit_names = tuner_arguments(tuner_cls), fit_arguments(hypermodel)
    tuner_kwargs = {k: v for k, v in kwargs.items() if k in tuner_names}
    fit_kwargs = {k: v for k, v in kwargs.items() if k in fit_names and k not in tuner_names}
    unknown = sorted(set(kwargs) - set(tuner_kwargs) - set(fit_kwargs))
    if unknown:
        raise TypeError(
            f"search() got unknown argument(s) {unknown}. It passes fit arguments "
            f"{sorted(fit_names)} to every trial and {tuner_cls.__name__} arguments "
            f"{sorted(tuner_names)} to the tuner."
        )
    return tuner_kwargs, fit_kwargs


def _declared(hypermodel):
    """``{name: hyperparameter}`` a plain ``keras_tuner.HyperModel`` declares (one build)."""
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)
    return {h.name: h for h in hp.space}


def fix_fit_values(hypermodel, fit_kwargs, tuner):
    """Check ``fit`` arguments against the tuned hyperparameters; fold fixed ones in.

    A ``fit`` argument named like a hyperparameter the HyperModel tunes (a choice or a
    range) is a conflict. One named like a *fixed* hyperparameter of a tfgenopt HyperModel
    (``epochs`` is fixed by default) replaces its value, in a copy of the HyperModel, so the
    trial table records the value every trial ran with.

    Returns:
        ``(hypermodel, fit_kwargs)``: a HyperModel copy when values were folded in, and the
        arguments left for ``fit``.

    Raises:
        ValueError: a conflict, or ``epochs`` / ``initial_epoch`` with Hyperband.
    """
    if not fit_kwargs:
        return hypermodel, fit_kwargs
    if tuner == "hyperband":
        clash = sorted({"epochs", "initial_epoch"} & set(fit_kwargs))
        if clash:
            raise ValueError(f"tuner='hyperband' sets every trial's {clash[0]} itself; "
                             f"received {clash[0]}={fit_kwargs[clash[0]]!r}. Set its budget "
                             "with `max_epochs` instead.")
    space = getattr(hypermodel, "space", None)
    if isinstance(space, SearchSpace):
        params = space.params
        kinds = {name: params[name].kind for name in fit_kwargs if name in params}
    else:
        declared = _declared(hypermodel)
        kinds = {name: "fixed" if type(declared[name]).__name__ == "Fixed" else "tuned"
                 for name in fit_kwargs if name in declared}
    for name, kind in kinds.items():
        if kind != "fixed":
            raise ValueError(
                f"`{name}={fit_kwargs[name]!r}` was passed to search(), but the HyperModel "
                f"tunes `{name}`. Fix it in the HyperModel instead (for tfgenopt HyperModels "
                f"`overrides={{{name!r}: {fit_kwargs[name]!r}}}`) or drop the argument."
            )
    if not isinstance(space, SearchSpace) or not kinds:
        return hypermodel, fit_kwargs
    fixed = copy.copy(space)
    fixed.params = dict(space.params)
    for name in kinds:
        if isinstance(fit_kwargs[name], (list, tuple, dict, set)):
            raise TypeError(f"search() takes one value for `{name}` (passed to every trial); "
                            f"received {fit_kwargs[name]!r}. Tune it with `overrides`.")
        try:
            fixed.params[name] = parse_override(name, fit_kwargs[name], space.params[name])
        except (TypeError, ValueError) as err:
            raise type(err)(f"search({name}={fit_kwargs[name]!r}): {err}") from None
    return _with_space(hypermodel, fixed), {k: v for k, v in fit_kwargs.items()
                                            if k not in kinds}


def _with_space(hypermodel, space):
    """A shallow copy of ``hypermodel`` with ``space``; the methods Keras Tuner stores on the
    instance (``build``, ``_build``) are bound to the copy, not to the original."""
    new = copy.copy(hypermodel)
    for name, value in vars(new).items():
        if isinstance(value, types.MethodType) and value.__self__ is hypermodel:
            setattr(new, name, types.MethodType(value.__func__, new))
    new.space = space
    return new

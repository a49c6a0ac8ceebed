"""Search spaces: default hyperparameter ranges that a user can override, fix or narrow.

A HyperModel declares its defaults as :class:`Param`s; a user passes ``overrides``, a dict
whose values are one of

* a scalar (``1e-3``, ``"adam"``, ``64``): the hyperparameter is fixed to that value;
* a list (``["adam", "sgd"]``): a choice among those values;
* a dict ``{"min": 1e-4, "max": 1e-2, "sampling": "log", "step": None}``: a range.

The same shapes come from a TOML ``[space]`` table, so Python and the tuner scripts share
one format, and every override is checked when the HyperModel is constructed (before any
training) with a message naming the key.
"""

from __future__ import annotations

import dataclasses
import numbers

__all__ = ["Param", "SearchSpace"]

KINDS = ("choice", "int", "float", "fixed")
SAMPLINGS = ("linear", "log", "reverse_log")
RANGE_KEYS = ("min", "max", "sampling", "step")


@dataclasses.dataclass(frozen=True)
class Param:
    """One tunable hyperparameter and its default range.

    Args:
        kind: ``"choice"``, ``"int"``, ``"float"`` or ``"fixed"``.
        values: the choices (``"choice"``) or the value (``"fixed"``).
        min_value, max_value: the range (``"int"``/``"float"``).
        sampling: ``"linear"``, ``"log"`` or ``"reverse_log"`` for ranges.
        step: optional step of a range.
        allowed: the values a user may pick (for names such as optimizers); ``None`` = any.
        dtype: ``"int"``, ``"float"``, ``"str"`` or ``"bool"``: the type of a value.
        legal: ``(lo, hi)`` bounds any user value must respect (``None`` = open); ``lo`` is
            exclusive when ``positive`` is true.
        positive: values must be > ``legal[0]`` rather than >=.
        default: the value of the search's first trial (Keras Tuner's ``default=``); None:
            the first choice / the lower bound. Ignored when an override excludes it.

    Example:
        >>> Param("float", min_value=1e-4, max_value=1e-2, sampling="log", dtype="float").kind
        'float'
    """

    kind: str
    values: object = None
    min_value: float | None = None
    max_value: float | None = None
    sampling: str = "linear"
    step: float | None = None
    allowed: tuple | None = None
    dtype: str = "str"
    legal: tuple | None = None
    positive: bool = False
    default: object = None


def choice(*values, allowed=None, legal=None, positive=False, dtype=None):
    """A choice ``Param`` whose dtype follows its first value (the first value is the default)."""
    return Param("choice", values=tuple(values), allowed=allowed,
                 dtype=dtype or _dtype_of(values[0]), legal=legal, positive=positive)


def float_range(lo, hi, sampling="linear", legal=(0.0, None), positive=True, default=None):
    """A float range ``Param`` (positive by default; ``default``: the first trial's value)."""
    return Param("float", min_value=lo, max_value=hi, sampling=sampling, dtype="float",
                 legal=legal, positive=positive, default=default)


def int_range(lo, hi, step=1, legal=(1, None), default=None):
    """An int range ``Param`` (values >= 1 by default; ``default``: the first trial's value)."""
    return Param("int", min_value=lo, max_value=hi, step=step, dtype="int", legal=legal,
                 default=default)


def fixed(value, allowed=None, legal=None, positive=False, dtype=None):
    """A fixed ``Param``."""
    return Param("fixed", values=value, allowed=allowed, dtype=dtype or _dtype_of(value),
                 legal=legal, positive=positive)


def _dtype_of(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "str"


def _check_value(key, value, param):
    """Check that one user value has the type and, for names, the spelling the param allows."""
    dtype = param.dtype
    ok = {
        "bool": isinstance(value, bool),
        "int": isinstance(value, numbers.Integral) and not isinstance(value, bool),
        "float": isinstance(value, numbers.Real) and not isinstance(value, bool),
        "str": isinstance(value, str),
    }[dtype]
    if not ok:
        raise TypeError(
            f"Search-space key `{key}` takes {dtype} values; received {value!r} "
            f"({type(value).__name__})."
        )
    if param.allowed is not None and value not in param.allowed:
        raise ValueError(
            f"Search-space key `{key}` must be one of {list(param.allowed)}; received {value!r}."
        )
    _check_legal(key, value, param)
    return float(value) if dtype == "float" else value


def _check_legal(key, value, param):
    if param.legal is None or param.dtype in ("str", "bool"):
        return
    lo, hi = param.legal
    if lo is not None and (value < lo or (param.positive and value == lo)):
        op = ">" if param.positive else ">="
        raise ValueError(f"Search-space key `{key}` must be {op} {lo}; received {value!r}.")
    if hi is not None and value > hi:
        raise ValueError(f"Search-space key `{key}` must be <= {hi}; received {value!r}.")


def parse_override(key, spec, default):
    """Turn one user override (scalar, list or range dict) into a checked :class:`Param`."""
    if isinstance(spec, Param):
        return spec
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise ValueError(f"Search-space key `{key}` is an empty list of choices.")
        values = tuple(_check_value(key, v, default) for v in spec)
        if len(set(values)) != len(values):
            raise ValueError(f"Search-space key `{key}` has repeated choices: {list(spec)}.")
        if len(values) == 1:
            return dataclasses.replace(default, kind="fixed", values=values[0])
        return dataclasses.replace(default, kind="choice", values=values)
    if isinstance(spec, dict):
        return _parse_range(key, spec, default)
    return dataclasses.replace(default, kind="fixed", values=_check_value(key, spec, default))


def _parse_range(key, spec, default):
    unknown = sorted(set(spec) - set(RANGE_KEYS))
    if unknown:
        raise ValueError(
            f"Search-space key `{key}` has unknown range keys {unknown}; known: {list(RANGE_KEYS)}."
        )
    if "min" not in spec or "max" not in spec:
        raise ValueError(f"Search-space key `{key}` range needs both `min` and `max`; got {spec}.")
    if default.dtype not in ("int", "float"):
        raise ValueError(
            f"Search-space key `{key}` takes {default.dtype} values: give a value or a list, "
            f"not a range {spec}."
        )
    lo, hi = spec["min"], spec["max"]
    for bound in (lo, hi):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
            raise TypeError(f"Search-space key `{key}` bounds must be numbers; received {spec}.")
    if not lo < hi:
        raise ValueError(
            f"Search-space key `{key}` is an impossible range: min={lo} must be < max={hi}."
        )
    sampling = spec.get("sampling", "linear")
    if sampling not in SAMPLINGS:
        raise ValueError(
            f"Search-space key `{key}` sampling must be one of {list(SAMPLINGS)}; "
            f"received {sampling!r}."
        )
    if sampling != "linear" and lo <= 0:
        raise ValueError(
            f"Search-space key `{key}` uses {sampling} sampling, which needs min > 0; "
            f"received min={lo}."
        )
    _check_legal(key, lo, default)
    _check_legal(key, hi, default)
    step = spec.get("step")
    if step is not None and (not isinstance(step, numbers.Real) or step <= 0):
        raise ValueError(f"Search-space key `{key}` step must be > 0; received {step!r}.")
    if default.dtype == "int":
        if not all(isinstance(v, numbers.Integral) for v in (lo, hi)):
            raise TypeError(f"Search-space key `{key}` takes integer bounds; received {spec}.")
        return dataclasses.replace(default, kind="int", min_value=int(lo), max_value=int(hi),
                                   sampling=sampling, step=int(step or 1), values=None)
    return dataclasses.replace(default, kind="float", min_value=float(lo), max_value=float(hi),
                               sampling=sampling, step=step, values=None)


class SearchSpace:
    """The defaults of a HyperModel merged with the user's overrides, checked up front.

    Args:
        defaults: ``{name: Param}``.
        overrides: ``{name: value | list | {"min", "max", "sampling", "step"}}``.

    Example:
        >>> space = SearchSpace({"lr": float_range(1e-4, 1e-2, "log")}, {"lr": 1e-3})
        >>> space.params["lr"].kind
        'fixed'
    """

    def __init__(self, defaults, overrides=None):
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise ValueError(
                f"Unknown search-space key(s) {unknown}; known: {sorted(defaults)}."
            )
        self.params = dict(defaults)
        for key, spec in overrides.items():
            self.params[key] = parse_override(key, spec, defaults[key])

    def names(self):
        """The hyperparameter names, sorted."""
        return sorted(self.params)

    def get(self, hp, name, parent=None):
        """Register ``name`` on ``hp`` (a ``keras_tuner.HyperParameters``) and return its value.

        ``parent`` is an optional ``(name, values)`` condition: the hyperparameter is only
        active when the parent takes one of ``values``.
        """
        p = self.params[name]
        kwargs = {}
        if parent is not None:
            kwargs = {"parent_name": parent[0], "parent_values": list(parent[1])}
        if p.kind == "fixed":
            return hp.Fixed(name, p.values, **kwargs)
        if p.kind == "choice":
            return hp.Choice(name, list(p.values), default=self.default(name), **kwargs)
        if p.kind == "int":
            return hp.Int(name, p.min_value, p.max_value, step=p.step or 1,
                          sampling=p.sampling, default=self.default(name), **kwargs)
        return hp.Float(name, p.min_value, p.max_value, step=p.step, sampling=p.sampling,
                        default=self.default(name), **kwargs)

    def default(self, name):
        """The value of ``name`` in the search's first trial: the declared default when the
        (possibly overridden) range still holds it, else the first choice / lower bound.

        Example:
            >>> SearchSpace({"lr": float_range(1e-4, 1e-2, "log", default=1e-3)}).default("lr")
            0.001
        """
        p = self.params[name]
        if p.kind == "fixed":
            return p.values
        if p.kind == "choice":
            return p.default if p.default in p.values else p.values[0]
        if p.default is not None and p.min_value <= p.default <= p.max_value:
            return p.default
        return p.min_value

    def upper(self, name):
        """The largest value ``name`` can take (for epoch budgets)."""
        p = self.params[name]
        if p.kind == "fixed":
            return p.values
        if p.kind == "choice":
            return max(p.values)
        return p.max_value

    def to_dict(self):
        """A JSON-friendly description of the space (for reports)."""
        return {k: dataclasses.asdict(v) for k, v in sorted(self.params.items())}

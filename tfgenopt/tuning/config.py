"""Tuner scripts: read a TOML file, check every key before any training, run the search.

A config has a top-level ``seed`` and five tables; only ``[model]`` is required::

    seed = 0
    [model]
    kind = "autoencoder"          # autoencoder | vae | gan
    [data]
    dataset = "digits"            # digits | mnist | fashion_mnist (read from the Keras cache)
    image_size = 8
    flatten = true
    validation_split = 0.2
    limit = 500                   # at most this many training samples (0 = all)
    [search]
    tuner = "random"              # random | bayesian | hyperband | grid
    max_trials = 4
    objective = "val_loss"        # default: the HyperModel's (val_loss, or val_kid for GANs)
    direction = "min"             # needed only for objectives it cannot infer
    pruner = "median"             # stop trials worse than the median (default: none)
    [space]                       # overrides: a value fixes, a list chooses, a table ranges
    epochs = 2
    learning_rate = { min = 1e-4, max = 1e-2, sampling = "log" }
    [output]
    directory = "runs/tune"
    project_name = "autoencoder"
    figures = true

Python 3.11+ reads TOML with the standard ``tomllib``; on Python 3.10 install ``tomli``
(same API), otherwise loading a file raises an ``ImportError`` saying so.
"""

from __future__ import annotations

import dataclasses
import numbers
import os

from tfgenopt import catalog, tuning
from tfgenopt import data as tg_data
from tfgenopt.tuning.pruning import PRUNERS
from tfgenopt.tuning.search import TUNERS

__all__ = ["TuningConfig", "load_config", "parse_config", "build_hypermodel", "load_data",
           "SCHEMA"]

KINDS = ("autoencoder", "vae", "gan")
DATASETS = tuple(catalog.DATASETS)
_int = (numbers.Integral,)
_num = (numbers.Real,)

# table -> {key: (accepted types, default)}
SCHEMA = {
    "model": {"kind": ((str,), None), "output_activation": ((str,), None),
              "conditional": ((bool,), False)},
    "data": {"dataset": ((str,), "digits"), "image_size": (_int, None),
             "flatten": ((bool,), None), "validation_split": (_num, 0.2),
             "limit": (_int, 0)},
    "search": {"tuner": ((str,), "random"), "max_trials": (_int, 10),
               "max_epochs": (_int, None), "objective": ((str,), None),
               "direction": ((str,), None), "patience": (_int, 3),
               "early_stopping": ((bool,), True), "executions_per_trial": (_int, 1),
               "pruner": ((str,), None)},
    "output": {"directory": ((str,), "runs/tune"), "project_name": ((str,), None),
               "figures": ((bool,), True)},
}
TOP_LEVEL = ("seed", "model", "data", "search", "space", "output")


@dataclasses.dataclass
class TuningConfig:
    """A checked tuner script: one dict per table, with defaults filled in.

    Example:
        >>> cfg = parse_config({"model": {"kind": "autoencoder"}})
        >>> cfg.search["tuner"]
        'random'
    """

    model: dict
    data: dict
    search: dict
    space: dict
    output: dict
    seed: int | None = None
    source: str = "<dict>"


def _read_toml(path):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise ImportError(
                "Reading TOML needs Python 3.11+ (tomllib) or `pip install tomli` on 3.10."
            ) from None
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None


def load_config(path):
    """Read and check a TOML tuner script; every mistake raises before any training.

    Args:
        path: the ``.toml`` file.

    Returns:
        A :class:`TuningConfig`.

    Example:
        Not run as a doctest: the path is relative to the repository root.

        >>> cfg = load_config("examples/tune_autoencoder.toml")  # doctest: +SKIP
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Tuner config {path!r} does not exist.")
    config = parse_config(_read_toml(path), source=path)
    # Building the HyperModel checks the [space] overrides (names, types, ranges).
    build_hypermodel(config)
    return config


def _fail(source, key, message):
    raise ValueError(f"{source}: `{key}` {message}")


def parse_config(raw, source="<dict>"):
    """Check a config dict (as TOML gives it) and fill in defaults.

    Unknown tables or keys, wrong types, unknown model kinds, datasets, tuners or impossible
    values raise ``ValueError`` naming the key (``search.tuner``...). The ``[space]`` table is
    checked by :func:`build_hypermodel`.

    Args:
        raw: the parsed TOML as a dict.
        source: the file name used in messages.

    Returns:
        A :class:`TuningConfig`.

    Example:
        >>> parse_config({"model": {"kind": "vae"}, "search": {"tuner": "grid"}}).model["kind"]
        'vae'
    """
    if not isinstance(raw, dict):
        raise TypeError(f"{source}: a config must be a table (dict); received {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(TOP_LEVEL))
    if unknown:
        _fail(source, unknown[0], f"is not a known table or key; known: {list(TOP_LEVEL)}.")
    tables = {}
    for table, schema in SCHEMA.items():
        given = raw.get(table, {})
        if not isinstance(given, dict):
            _fail(source, table, f"must be a table; received {given!r}.")
        for key in given:
            if key not in schema:
                _fail(source, f"{table}.{key}", f"is not a known key; known: {sorted(schema)}.")
        out = {}
        for key, (types, default) in schema.items():
            value = given.get(key, default)
            if key in given:
                wrong_bool = isinstance(value, bool) and bool not in types
                if wrong_bool or not isinstance(value, types):
                    names = "/".join(t.__name__ for t in types)
                    _fail(source, f"{table}.{key}", f"must be {names}; received {value!r}.")
            out[key] = value
        tables[table] = out
    space = raw.get("space", {})
    if not isinstance(space, dict):
        _fail(source, "space", f"must be a table; received {space!r}.")
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        _fail(source, "seed", f"must be an integer >= 0; received {seed!r}.")

    model, data, search = tables["model"], tables["data"], tables["search"]
    if model["kind"] is None:
        _fail(source, "model.kind", f"is required; one of {list(KINDS)}.")
    if model["kind"] not in KINDS:
        _fail(source, "model.kind", f"must be one of {list(KINDS)}; received {model['kind']!r}.")
    if data["dataset"] not in DATASETS:
        _fail(source, "data.dataset",
              f"must be one of {list(DATASETS)}; received {data['dataset']!r}.")
    if search["tuner"] not in TUNERS:
        _fail(source, "search.tuner",
              f"must be one of {list(TUNERS)}; received {search['tuner']!r}.")

    if search["pruner"] is not None and search["pruner"] not in PRUNERS:
        _fail(source, "search.pruner",
              f"must be one of {sorted(PRUNERS)}; received {search['pruner']!r}.")
    if search["direction"] not in (None, "min", "max"):
        _fail(source, "search.direction", f"must be 'min' or 'max'; received {search['direction']!r}.")
    for key, low in (("max_trials", 1), ("max_epochs", 1), ("patience", 0),
                     ("executions_per_trial", 1)):
        if search[key] is not None and search[key] < low:
            _fail(source, f"search.{key}", f"must be >= {low}; received {search[key]}.")
    if not 0.0 < data["validation_split"] < 1.0:
        _fail(source, "data.validation_split",
              f"must be in (0, 1); received {data['validation_split']}.")
    if data["limit"] < 0:
        _fail(source, "data.limit", f"must be >= 0; received {data['limit']}.")
    sizes = catalog.image_sizes(data["dataset"])
    if data["image_size"] is None:
        data["image_size"] = catalog.dataset(data["dataset"]).native_size
    if data["image_size"] not in sizes:
        _fail(source, "data.image_size", f"must be one of {list(sizes)} for "
              f"{data['dataset']!r}; received {data['image_size']}.")
    if data["flatten"] is None:
        data["flatten"] = model["kind"] != "gan"
    return TuningConfig(model=model, data=data, search=search, space=dict(space),
                        output=tables["output"], seed=seed, source=source)


def input_shape(config):
    """The shape of one sample the config's data will have."""
    s = config.data["image_size"]
    return (s * s,) if config.data["flatten"] else (s, s, 1)


def build_hypermodel(config):
    """The HyperModel a config describes (its ``[space]`` is checked here).

    Returns:
        An ``AutoencoderHyperModel``, ``VAEHyperModel`` or ``GANHyperModel``.
    """
    kind = config.model["kind"]
    kwargs = {"overrides": config.space, "seed": config.seed}
    if config.model["output_activation"] is not None:
        kwargs["output_activation"] = config.model["output_activation"]
    try:
        if kind == "autoencoder":
            return tuning.AutoencoderHyperModel(input_shape(config), **kwargs)
        if kind == "vae":
            return tuning.VAEHyperModel(input_shape(config), **kwargs)
        if config.model["conditional"]:
            kwargs["num_classes"] = 10
        return tuning.GANHyperModel(input_shape(config), **kwargs)
    except AttributeError as exc:
        raise ImportError(f"{config.source}: model.kind={kind!r} is not available: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{config.source}: [space] {exc}") from None


def load_data(config):
    """Load the config's data: ``(x_train, x_val)`` or, conditional, ``((x, y), (xv, yv))``."""
    d = config.data
    tanh = config.model["output_activation"] == "tanh"
    kwargs = dict(image_size=d["image_size"], flatten=d["flatten"],
                  validation_split=d["validation_split"], seed=config.seed or 0,
                  value_range=(-1.0, 1.0) if tanh else (0.0, 1.0),
                  return_labels=bool(config.model["conditional"]))
    train, val = tg_data.load(d["dataset"], **kwargs)
    if d["limit"]:
        train = tuple(a[: d["limit"]] for a in train) if isinstance(train, tuple) \
            else train[: d["limit"]]
    return train, val

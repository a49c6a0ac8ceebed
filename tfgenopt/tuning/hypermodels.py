"""Keras Tuner HyperModels: ``build(hp)`` builds one trial's model, ``fit`` trains it.

Every HyperModel tunes the optimizer (SGD with momentum, Adam, RMSprop, Adagrad), the
learning rate (log scale), the batch size (in :meth:`TunableHyperModel.fit`), the epoch
budget, normalization, initializer, widths, depth and latent size, each with a default range
the user can override, narrow or fix through ``overrides`` (see :mod:`tfgenopt.tuning.space`).
"""

from __future__ import annotations

import math
import numbers

import keras_tuner
import numpy as np

from tfgenopt import _keras_adapter, builders
from tfgenopt._validation import check_array, check_choice, check_int
from tfgenopt.builders._blocks import known_initializers
from tfgenopt.callbacks._tuning import DefaultObjectiveLogger
from tfgenopt.callbacks.cosine import EpochCosineDecay  # its home; importable from here too
from tfgenopt.data import as_dataset
from tfgenopt.models._optimizer import resolve_optimizer
from tfgenopt.tuning._checkpoint import defer_checkpoints
from tfgenopt.tuning._objective import is_default_objective, per_epoch, tuner_objective
from tfgenopt.tuning.space import SearchSpace, choice, fixed, float_range, int_range

__all__ = [
    "TunableHyperModel",
    "AutoencoderHyperModel",
    "make_optimizer",
    "OPTIMIZERS",
]

OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad")
NORMALIZATIONS = ("none", "batch", "layer")
SCHEDULES = ("constant", "cosine")


def make_optimizer(name, learning_rate, momentum=0.9):
    """Return a fresh Keras optimizer by name: SGD (with momentum), Adam, RMSprop or Adagrad.

    Args:
        name: one of ``"sgd"``, ``"adam"``, ``"rmsprop"``, ``"adagrad"``.
        learning_rate: the (initial) learning rate.
        momentum: SGD's momentum (ignored by the others).

    Returns:
        A ``keras.optimizers.Optimizer``.

    Example:
        >>> make_optimizer("sgd", 0.01).momentum
        0.9
    """
    check_choice("optimizer", name, OPTIMIZERS)
    extra = {"momentum": float(momentum)} if name == "sgd" else {}  # RMSprop's stays 0
    return resolve_optimizer("optimizer", name, learning_rate=float(learning_rate), **extra)


def common_space(batch_sizes=(32, 64, 128), epochs=10):
    """The hyperparameters every HyperModel shares, with their default ranges."""
    return {
        "optimizer": choice("adam", "rmsprop", "sgd", "adagrad", allowed=OPTIMIZERS),
        "learning_rate": float_range(1e-4, 1e-2, "log"),
        "momentum": fixed(0.9, legal=(0.0, 1.0), dtype="float"),
        "batch_size": choice(*batch_sizes, legal=(1, None)),
        "epochs": fixed(epochs, legal=(1, None)),
        "lr_schedule": fixed("constant", allowed=SCHEDULES),
        "normalization": choice(*NORMALIZATIONS, allowed=NORMALIZATIONS),
        "kernel_initializer": choice("glorot_uniform", "he_normal", "orthogonal",
                                       allowed=tuple(known_initializers())),
    }


class TunableHyperModel(keras_tuner.HyperModel):
    """Base of the tfgenopt HyperModels: a search space with overrides and a ``fit`` that
    honours the tuned batch size and epoch budget.

    Subclasses implement ``default_space()``, ``build_model(values)`` (returns a compiled
    model) and ``train_data(x, y)`` / ``default_objective``.

    Works with Keras Tuner's own tuners as with :func:`tfgenopt.tuning.search`: the first
    trial of every search trains the space's defaults (:meth:`SearchSpace.default`), so the
    best trial is never worse than the defaults; ``fit`` returns the best value of
    ``default_objective`` as a float when the tuner's ``objective`` is left unspecified
    (Keras Tuner requires it), else the ``History``.

    Args:
        overrides: ``{name: value | [choices] | {"min", "max", "sampling", "step"}}``;
            unknown names and impossible ranges raise ``ValueError`` here.
        seed: seed of the initializers and of the per-trial data shuffling.
        name: the HyperModel's name.
    """

    default_objective = ("val_loss", "min")

    def __init__(self, overrides=None, seed=None, name=None):
        super().__init__(name=name, tunable=True)
        if seed is not None:
            check_int("seed", seed, minimum=0)
        if overrides is not None and not isinstance(overrides, dict):
            raise TypeError(f"`overrides` must be a dict; received {type(overrides).__name__}.")
        self.seed = seed
        self.space = SearchSpace(self.default_space(), overrides)
        self._first_trial = True  # the next trial trains the defaults

    def declare_hyperparameters(self, hp):
        """Keras Tuner calls this once per tuner: its first trial will train the defaults."""
        self._first_trial = True
        super().declare_hyperparameters(hp)

    def defaults(self):
        """``{name: value}`` of the search's first trial (the space's defaults).

        Example:
            >>> AutoencoderHyperModel(64).defaults()["optimizer"]
            'adam'
        """
        return {name: self.space.default(name) for name in self.space.names()}

    def default_space(self):
        """``{name: Param}``: the default ranges (override in subclasses)."""
        return common_space()

    def values(self, hp):
        """Register every hyperparameter of the space on ``hp`` and return their values.

        Until the first trial has been fitted, ``hp`` is set to the defaults first (so the
        trial's record shows what trained): the first trial of a search is the defaults.
        """
        if self._first_trial:
            for name, value in self.defaults().items():
                hp.values[name] = value
        return {name: self.space.get(hp, name) for name in self.space.names()}

    def build(self, hp):
        """Build and compile the model for the trial's hyperparameters ``hp``."""
        return self.build_model(self.values(hp))

    def build_model(self, values):
        raise NotImplementedError

    def optimizer(self, values, prefix=""):
        """A fresh optimizer from ``values`` (``{prefix}learning_rate`` for per-network rates)."""
        return make_optimizer(values["optimizer"], values[f"{prefix}learning_rate"],
                              values["momentum"])

    def train_data(self, x, y, batch_size, shuffle):
        """The ``tf.data`` input of ``fit`` for arrays ``x`` (``y``: targets or labels)."""
        return as_dataset(x, y, batch_size=batch_size, shuffle=shuffle, seed=self.seed or 0)

    def _as_input(self, data, batch_size, shuffle):
        if data is None or not isinstance(data, (np.ndarray, list, tuple)):
            return data  # None, a tf.data.Dataset or a generator: passed through.
        if isinstance(data, (list, tuple)):
            x, y = data[0], (data[1] if len(data) > 1 else None)
        else:
            x, y = data, None
        return self.train_data(np.asarray(x), None if y is None else np.asarray(y),
                               batch_size, shuffle)

    def fit(self, hp, model, x, y=None, validation_data=None, callbacks=None, epochs=None,
            verbose=0, **kwargs):
        """Train one trial's ``model`` with the tuned batch size and epoch budget.

        Args:
            hp: the trial's ``keras_tuner.HyperParameters``.
            model: the model :meth:`build` returned.
            x: training arrays (or a ``tf.data.Dataset``, then batching is the user's).
            y: optional labels/targets for ``x``.
            validation_data: arrays, ``(x, y)`` or a dataset.
            callbacks: Keras callbacks (Keras Tuner adds its own).
            epochs: overrides the tuned ``epochs`` (Hyperband passes its own budget).
            verbose: Keras' ``fit`` verbosity.
            **kwargs: passed to ``model.fit`` (``initial_epoch``, ...).

        Returns:
            The ``keras.callbacks.History``.

        Example:
            Not run as a doctest: it needs training data ``x_train``.

            >>> hm = AutoencoderHyperModel(64, overrides={"epochs": 1})
            >>> hp = keras_tuner.HyperParameters()
            >>> history = hm.fit(hp, hm.build(hp), x_train)  # doctest: +SKIP
        """
        if "batch_size" in kwargs:
            raise ValueError(
                "`batch_size` is a tuned hyperparameter; fix it with "
                "`overrides={'batch_size': N}` instead of passing it to fit."
            )
        values = self.values(hp)
        batch_size = values["batch_size"]
        epochs = values["epochs"] if epochs is None else epochs
        if isinstance(x, np.ndarray) or isinstance(x, (list, tuple)) or y is not None:
            x = self._as_input(x if y is None else (x, y), batch_size, shuffle=True)
            kwargs.setdefault("shuffle", False)  # the dataset reshuffles every epoch itself.
        objective = tuner_objective(callbacks)
        callbacks = self.measurement_callbacks(list(callbacks or []), x, validation_data,
                                               objective)
        unspecified = is_default_objective(objective)
        if unspecified:  # Keras Tuner's checkpoint watches "default_objective": write it
            at = next((i for i, cb in enumerate(callbacks) if tuner_objective([cb])),
                      len(callbacks))
            callbacks.insert(at, DefaultObjectiveLogger(self))
        validation_data = self._as_input(validation_data, batch_size, shuffle=False)
        callbacks = defer_checkpoints(callbacks)
        if values["lr_schedule"] == "cosine":
            callbacks.insert(0, EpochCosineDecay(epochs=values["epochs"]))
        self._first_trial = False
        _sync_trial_hparams(callbacks, hp)
        history = model.fit(x, validation_data=validation_data, epochs=epochs,
                            callbacks=callbacks, verbose=verbose, **kwargs)
        if unspecified:
            return self.score(history)
        return history

    def measurement_callbacks(self, callbacks, x, validation_data, objective):
        """The trial's callbacks plus what measures the objective (a hook; default: as given)."""
        return callbacks

    def score(self, history):
        """The best value of ``default_objective`` in ``history`` as a float to minimize.

        ``val_*`` falls back to the training key without validation data; a maximized
        objective is negated (Keras Tuner's unspecified objective is minimized).
        """
        values = [self._signed(logs) for logs in per_epoch(history.history)]
        finite = [v for v in values if v is not None and math.isfinite(v)]
        return min(finite) if finite else float("inf")

    def _signed(self, logs):
        """This epoch's objective value, negated when maximized; None when not logged."""
        name, direction = self.default_objective
        key = name if name in logs else name.removeprefix("val_")
        if key not in logs:
            return None
        value = float(np.asarray(logs[key], dtype=np.float64).reshape(-1)[0])
        return value if direction == "min" else -value

    def config(self):
        """A JSON-friendly description: class, seed and the search space."""
        return {"class": type(self).__name__, "seed": self.seed, "space": self.space.to_dict()}


def _input_shape(name, value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_int(name, value, minimum=1),)
    try:
        shape = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an int or a shape tuple; received {value!r}.") from None
    if len(shape) not in (1, 3) or min(shape) < 1:
        raise ValueError(
            f"`{name}` must be a vector length or an image shape (h, w, c); received {value!r}."
        )
    return shape


def conv_stages(size):
    """How many stride-2 stages divide an image side of ``size`` pixels (at most 3)."""
    n = 0
    while size % 2 ** (n + 1) == 0 and n < 3 and size // 2 ** (n + 1) >= 2:
        n += 1
    return max(n, 1)


def dense_widths(units, depth, latent_dim=None):
    """Hidden widths that halve per layer: ``units, units/2, ...`` (then ``latent_dim``)."""
    floor = latent_dim or 1
    widths = tuple(max(int(units) // 2**i, floor) for i in range(int(depth)))
    return widths + ((int(latent_dim),) if latent_dim else ())


class AutoencoderHyperModel(TunableHyperModel):
    """Tunes a dense (vectors) or convolutional (images) autoencoder built by ``tfgenopt``.

    Tuned by default: optimizer, learning rate, batch size, normalization, initializer,
    first-layer width ``units``, ``depth`` and (dense) code size ``latent_dim``; fixed by
    default: ``epochs=10``, ``momentum=0.9``, ``lr_schedule="constant"``.

    Args:
        input_shape: vector length (784) or image shape ``(28, 28, 1)``.
        overrides: search-space overrides, e.g. ``{"optimizer": "adam", "epochs": 2}``.
        output_activation: ``"sigmoid"`` (data in [0, 1]) or ``"tanh"`` ([-1, 1]).
        loss: reconstruction loss; default binary cross-entropy for sigmoid, MSE for tanh.
        seed: seed of the initializers and the data order.
        name: the HyperModel's name.

    Example:
        >>> hm = AutoencoderHyperModel(784, overrides={"optimizer": ["adam", "sgd"]})
        >>> model = hm.build(keras_tuner.HyperParameters())
        >>> model.output_shape
        (None, 784)
    """

    def __init__(self, input_shape=784, overrides=None, output_activation="sigmoid", loss=None,
                 seed=None, name="autoencoder"):
        self.input_shape = _input_shape("input_shape", input_shape)
        self.output_activation = check_choice("output_activation", output_activation,
                                              ("sigmoid", "tanh"))
        self.loss = loss or ("binary_crossentropy" if output_activation == "sigmoid" else "mse")
        super().__init__(overrides=overrides, seed=seed, name=name)

    @property
    def is_conv(self):
        return len(self.input_shape) == 3

    def default_space(self):
        space = common_space()
        if self.is_conv:
            space["units"] = choice(16, 32, legal=(1, None))
            space["depth"] = int_range(1, conv_stages(self.input_shape[0]))
        else:
            space["units"] = choice(32, 64, 128, legal=(1, None))
            space["depth"] = int_range(1, 2)
            space["latent_dim"] = choice(16, 32, legal=(1, None))
        return space

    def build_model(self, values):
        common = dict(normalization=values["normalization"],
                      kernel_initializer=values["kernel_initializer"],
                      output_activation=self.output_activation, seed=self.seed)
        if self.is_conv:
            stages = min(int(values["depth"]), conv_stages(self.input_shape[0]))
            filters = tuple(int(values["units"]) * 2**i for i in range(stages))
            model = builders.conv_autoencoder(self.input_shape, filters=filters, **common)
        else:
            hidden = dense_widths(values["units"], values["depth"], values["latent_dim"])
            model = builders.dense_autoencoder(self.input_shape[0], hidden=hidden, **common)
        model.compile(optimizer=self.optimizer(values), loss=self.loss)
        return model

    def train_data(self, x, y, batch_size, shuffle):
        x = check_array("x", x)
        return super().train_data(x, x if y is None else y, batch_size, shuffle)


def _sync_trial_hparams(callbacks, hp):
    """Give Keras Tuner's HParams callbacks the values this trial trains.

    Keras Tuner captures a trial's values for TensorBoard before ``build``; the first trial of a
    search is then set to the space's defaults, so the captured values are refreshed here.
    """
    from tensorboard.plugins.hparams import api as hparams_api

    for cb in callbacks:
        recorded = _keras_adapter.hparams_of(cb)
        if isinstance(cb, hparams_api.KerasCallback) and recorded is not None:
            _keras_adapter.set_hparams(cb, {key: hp.values.get(getattr(key, "name", key), value)
                                            for key, value in recorded.items()})

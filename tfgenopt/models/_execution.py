"""``steps_per_execution="auto"``: many batches per compiled call unless a callback needs each.

On a small model most of a training step is Python: one call of the compiled train function,
the iterator, the callbacks. Keras can run several batches inside one call
(``compile(steps_per_execution=N)``), but then ``on_train_batch_begin/end`` run once per call,
not once per batch, so Keras leaves it at 1. :class:`AutoExecutionMixin` makes ``"auto"`` the
default: at the start of each ``fit`` (the one ``fit`` override,
``tfgenopt.models._input.ArrayFitMixin.fit``, asks it) and ``evaluate`` it looks at the
callbacks and runs :data:`AUTO_STEPS` batches per call, or 1 when any callback needs every
batch (:func:`needs_every_batch`) or the run has at most :data:`SHORT_RUN` batches in all (the
loop costs more to trace than it saves on so few; ``benchmarks/bench_short_runs.py``). The
compiled functions of each value are kept, so switching between fits never retraces. Under
``tf.distribute`` ``"auto"`` means 1. ``predict`` keeps 1 batch per call (Keras unrolls
``predict`` steps into the graph, so more would only lengthen tracing).

Keras 3.15 has no ``"auto"`` of its own (``tf.keras`` 2.13+ had one that tunes the value by
timing, which also breaks per-batch callbacks); this is the rule it lacks.
"""

from __future__ import annotations

import inspect
import numbers
import sys

import keras

from tfgenopt import _keras_adapter

AUTO = "auto"
AUTO_STEPS = 32  # batches per compiled call under "auto" (Keras truncates it to the epoch)
# A run of at most this many batches in all runs one per call under "auto": tracing Keras' loop
# of steps costs ~0.4-0.5 CPU-s more for a small GAN (the loop and its end-of-data test in the
# graph), which the loop wins back at ~3-4 ms per batch only after ~130 batches
# (benchmarks/bench_short_runs.py measures both: the loop is 1.2-1.7x dearer up to 64 batches,
# breaks even at ~100 for the VAE and the autoencoder, beyond 256 for the GAN).
SHORT_RUN = 64

_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
          "on_test_batch_begin", "on_test_batch_end")


def check_steps_per_execution(value):
    """Return ``"auto"`` or ``value`` as an int >= 1, else raise naming ``steps_per_execution``.

    Args:
        value: ``"auto"`` or a positive integer.

    Returns:
        ``"auto"`` or an ``int``.

    Example:
        >>> check_steps_per_execution("auto"), check_steps_per_execution(8)
        ('auto', 8)
    """
    if isinstance(value, str):
        if value == AUTO:
            return value
        raise ValueError(f"`steps_per_execution` must be 'auto' or an integer >= 1; "
                         f"received {value!r}.")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`steps_per_execution` must be 'auto' or an integer >= 1; received "
                        f"{value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"`steps_per_execution` must be 'auto' or an integer >= 1; "
                         f"received {value!r}.")
    return int(value)


def _overrides(callback, hook):
    attr = getattr(callback, hook, None)  # an instance attribute counts (LambdaCallback)
    return getattr(attr, "__func__", attr) is not getattr(keras.callbacks.Callback, hook)


def _tuner_hooks_are_noops(callback):
    """Keras Tuner's ``TunerCallback`` forwards batch hooks to its tuner, usually no-ops."""
    kt = sys.modules.get("keras_tuner")
    tuner = getattr(callback, "tuner", None)
    if kt is None or tuner is None or type(callback).__name__ != "TunerCallback":
        return False
    return all(getattr(type(tuner), h) is getattr(kt.Tuner, h)
               for h in ("on_batch_begin", "on_batch_end"))


def needs_every_batch(callback):
    """True when ``callback`` must see every batch (so batches run one per compiled call).

    A callback can say so itself with a bool attribute ``needs_every_batch``. Otherwise: Keras'
    ``ProgbarLogger`` and ``History`` do not; ``TensorBoard``, ``ModelCheckpoint`` and
    ``BackupAndRestore`` do only when set to act per batch; Keras Tuner's ``TunerCallback``
    only when the tuner overrides its batch hooks; any other callback does when it (or its
    instance) overrides a batch hook.

    Args:
        callback: a ``keras.callbacks.Callback``.

    Returns:
        A bool.

    Example:
        >>> needs_every_batch(keras.callbacks.EarlyStopping())
        False
        >>> needs_every_batch(keras.callbacks.LambdaCallback(on_batch_end=print))
        True
    """
    flag = getattr(callback, "needs_every_batch", None)
    if isinstance(flag, bool):
        return flag
    cbs = keras.callbacks
    if isinstance(callback, (cbs.ProgbarLogger, cbs.History)):
        return False
    if isinstance(callback, cbs.TensorBoard):
        return (callback.update_freq != "epoch" or _keras_adapter.tensorboard_traces(callback)
                or bool(callback.write_steps_per_second))
    if isinstance(callback, (cbs.ModelCheckpoint, cbs.BackupAndRestore)):
        return callback.save_freq != "epoch"
    if not any(_overrides(callback, h) for h in _HOOKS):
        return False
    return not _tuner_hooks_are_noops(callback)


def _as_list(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, keras.callbacks.CallbackList):
        return list(callbacks.callbacks)
    return list(callbacks)


def resolve(setting, callbacks, batches=None):
    """The batches per compiled call for ``setting`` given the callbacks of one run.

    Args:
        setting: ``"auto"`` or an int (returned unchanged).
        callbacks: the callbacks passed to ``fit``/``evaluate`` (a list, a ``CallbackList``
            or None).
        batches: the run's batches in all when known (:func:`planned_batches`), else None.

    Returns:
        An int >= 1: for ``"auto"``, 1 when any callback needs every batch or the run has at
        most :data:`SHORT_RUN` batches, else :data:`AUTO_STEPS`.

    Example:
        >>> resolve("auto", None), resolve("auto", [keras.callbacks.LambdaCallback(
        ...     on_train_batch_end=print)]), resolve(4, None)
        (32, 1, 4)
        >>> resolve("auto", None, batches=20), resolve("auto", None, batches=500)
        (1, 32)
    """
    if setting != AUTO:
        return setting
    if batches is not None and batches <= SHORT_RUN:
        return 1
    return 1 if any(needs_every_batch(cb) for cb in _as_list(callbacks)) else AUTO_STEPS


def _batches_per_pass(x, batch_size, steps, validation_split=0.0):
    """Batches in one pass over ``x`` (an epoch of ``fit``, an ``evaluate``), or None."""
    if steps is not None:
        return int(steps) if steps != -1 else None
    cardinality = getattr(x, "cardinality", None)
    if callable(cardinality):  # a tf.data.Dataset: -1 infinite, -2 unknown
        n = int(cardinality())
        return n if n >= 0 else None
    first = x
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, dict) and first:
        first = next(iter(first.values()))
    shape = getattr(first, "shape", None)
    if not shape:
        return None
    n = int(shape[0])
    n -= int(n * float(validation_split or 0.0))
    return -(-n // int(batch_size or 32))


def planned_batches(x, batch_size=None, epochs=1, initial_epoch=0, steps=None,
                    validation_split=0.0):
    """The training batches of one ``fit`` in all (epochs x batches per epoch), or None.

    None when the data's length is unknown (a generator, an infinite or unknown-cardinality
    dataset). For ``evaluate`` pass ``epochs=1``.

    Example:
        >>> planned_batches(np.zeros((100, 2)), batch_size=32, epochs=3)
        12
        >>> planned_batches(iter([]), epochs=3) is None
        True
    """
    per_pass = _batches_per_pass(x, batch_size, steps, validation_split)
    if per_pass is None:
        return None
    return per_pass * max(int(epochs) - int(initial_epoch), 0)


# The parameter names of keras.Model.evaluate after ``self``, to read positional arguments.
_EVALUATE_ARGS = tuple(inspect.signature(keras.Model.evaluate).parameters)[1:]


def _bound(names, args, kwargs):
    """``{name: value}`` of the arguments an ``evaluate`` call was given."""
    return {**dict(zip(names, args)), **kwargs}


class _Functions:
    """Compiled train/test functions by steps per execution (a plain object: not tracked)."""

    def __init__(self):
        self.by_steps = {}


class AutoExecutionMixin:
    """Gives a ``keras.Model`` subclass ``compile(steps_per_execution="auto")`` as the default.

    ``self.steps_per_execution`` always holds the int in use (Keras reads it); the setting
    (``"auto"`` or an int) is what ``get_compile_config`` saves. ``fit`` is not overridden
    here: ``ArrayFitMixin.fit`` (``tfgenopt.models._input``) sets the value for each run.
    """

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=AUTO,
                jit_compile="auto", auto_scale_loss=True):
        """``keras.Model.compile`` with ``steps_per_execution="auto"`` (see the module doc)."""
        setting = check_steps_per_execution(steps_per_execution)
        super().compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights,
                        metrics=metrics, weighted_metrics=weighted_metrics,
                        run_eagerly=run_eagerly,
                        steps_per_execution=AUTO_STEPS if setting == AUTO else setting,
                        jit_compile=jit_compile, auto_scale_loss=auto_scale_loss)
        config = _keras_adapter.compile_config(self)
        if config is not None:
            config["steps_per_execution"] = setting
        object.__setattr__(self, "_execution_setting", setting)
        object.__setattr__(self, "_execution_functions", _Functions())

    def compile_from_config(self, config):
        """Re-``compile`` from ``get_compile_config`` and build the optimizer (for loading)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _use_steps_per_execution(self, callbacks, steps=None, batches=None):
        """Set ``steps_per_execution`` for one run, swapping in its cached functions."""
        setting = getattr(self, "_execution_setting", None)
        if setting is None:  # not compiled through the mixin: Keras' behaviour
            return
        if steps is None:
            # Under tf.distribute, Keras' loop of steps fails on TF 2.21 (MirroredStrategy: "You
            # must feed a value for placeholder tensor"), so "auto" runs one step per call there.
            distributed = _keras_adapter.distribute_strategy(self) is not None
            steps = (1 if distributed and setting == AUTO
                     else resolve(setting, callbacks, batches))
        if steps == self.steps_per_execution:
            return
        cache = self._execution_functions.by_steps
        cache[self.steps_per_execution] = (self.train_function, self.test_function)
        self.steps_per_execution = steps
        self.train_function, self.test_function = cache.get(steps, (None, None))

    def evaluate(self, *args, **kwargs):
        """``keras.Model.evaluate``; under ``"auto"`` the callbacks and the run's length decide
        the steps per call."""
        if not _keras_adapter.is_inside_fit(kwargs):  # inside fit: fit's value
            a = _bound(_EVALUATE_ARGS, args, kwargs)
            batches = planned_batches(a.get("x"), a.get("batch_size"), steps=a.get("steps"))
            self._use_steps_per_execution(a.get("callbacks"), batches=batches)
        return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):
        """``keras.Model.predict``; under ``"auto"`` one batch per call."""
        if getattr(self, "_execution_setting", None) == AUTO:
            self._use_steps_per_execution(None, steps=1)
        return super().predict(*args, **kwargs)

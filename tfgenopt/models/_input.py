"""The one ``fit`` of tfgenopt's models, with a lean input path for in-memory NumPy arrays.

Keras feeds NumPy arrays to ``fit`` through a general pipeline whose iterator costs several
milliseconds to create, twice per epoch; on a small GAN (23 steps per epoch on the digits) that
is as long as the steps themselves. :meth:`ArrayFitMixin.fit` hands such arrays to
``tfgenopt.data.pipeline.array_dataset`` instead: the same epochs (a fresh permutation each
epoch, the last partial batch kept) from one in-memory tensor with a shuffle-indices-then-gather
pipeline that is about three times cheaper to start. The same ``fit`` checks the data, picks the
steps per compiled call (``tfgenopt.models._execution``) and names the step of a non-finite loss.
"""

from __future__ import annotations

import keras
import numpy as np

from tfgenopt import _keras_adapter, distribute
from tfgenopt._validation import check_array
from tfgenopt.data.pipeline import array_dataset
from tfgenopt.models import _training
from tfgenopt.models._execution import AutoExecutionMixin, planned_batches
from tfgenopt.models._range import check_data_range

MAX_BYTES = 1 << 30  # larger arrays keep Keras' own path


def _is_array(a):
    return isinstance(a, np.ndarray) and a.dtype != object


def can_use(x, y, batch_size, validation_split, sample_weight, class_weight, steps_per_epoch):
    """True when ``fit``'s arguments are plain in-memory arrays this path handles identically."""
    if not _is_array(x) or not (y is None or _is_array(y)):
        return False
    if y is not None and len(y) != len(x):
        return False  # let Keras raise its own error
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        return False
    if validation_split or any(
            v is not None for v in (sample_weight, class_weight, steps_per_epoch)):
        return False
    return x.nbytes + (0 if y is None else y.nbytes) <= MAX_BYTES


def _is_dataset(x):
    """A ``tf.data.Dataset`` or a distributed one (what Keras' ``fit`` does not shuffle)."""
    import tensorflow as tf

    return isinstance(x, (tf.data.Dataset, tf.distribute.DistributedDataset))


def check_fit_arrays(model, x, y):
    """Reject in-memory ``x``/``y`` no step could train on, before any state changes.

    NumPy ``x`` must be numeric, non-empty and finite, with a sample shape that fits the
    model's data network (``discriminator`` or ``encoder`` from ``model.networks()``); NumPy
    ``y`` must have one entry per sample. Without this, NaN data trains silently and a wrong
    shape fails deep inside a traced step. Datasets and other inputs pass unchecked.
    """
    hook = getattr(model, "check_fit_data", None)  # a model's own checks (Diffusion: labels)
    if callable(hook):
        hook(x, y)
    if not isinstance(x, np.ndarray):
        return
    check_array("x", x)
    networks = model.networks() if hasattr(model, "networks") else {}
    for name in ("discriminator", "encoder"):
        if name in networks:
            _training.check_sample_shape(x, networks[name], name)
            break
    if isinstance(y, np.ndarray):
        check_array("y", y, min_ndim=1)
        if len(y) != len(x):
            raise ValueError(f"`y` has {len(y)} entries but `x` has {len(x)} samples.")


def _build_from(model, x, y):
    """Build a compiled loss / metrics from ``x``'s shapes before a distributed ``fit``.

    Keras builds them from the first batch, which it first averages over the replicas with
    ``strategy.reduce``; under ``MultiWorkerMirroredStrategy`` that fails for an ``(x, y)``
    batch ("Attempt to convert a value (PerReplica...)"). Built from shapes, Keras' step is
    skipped (:meth:`ArrayFitMixin.maybe_symbolic_build`).
    """
    if isinstance(x, np.ndarray):
        batch = (x[:1],) if y is None else (x[:1], y[:1])
    elif hasattr(x, "element_spec"):  # a tf.data.Dataset
        batch = x.element_spec
    else:
        return
    _keras_adapter.symbolic_build(model, batch)


class ArrayFitMixin(_keras_adapter.BuildHooks, AutoExecutionMixin):
    """Gives a ``keras.Model`` subclass tfgenopt's ``fit``: the one override of ``Model.fit``.

    It also makes ``compile(steps_per_execution="auto")`` the default (see
    ``tfgenopt.models._execution``). In-memory NumPy arrays take
    ``tfgenopt.data.pipeline.array_dataset``; everything else (``tf.data``,
    ``validation_split``, ``sample_weight``, ``steps_per_epoch``, ...) goes to
    ``keras.Model.fit`` unchanged. Shuffling uses the model's ``seed`` attribute.
    """

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """``keras.Model.fit`` (same arguments), with checked data and a leaner array input path.

        Before the first step it checks the Keras private parts tfgenopt relies on (once per
        process), the data (``check_fit_arrays``, and the model's ``check_fit_data`` hook) and
        the data's range against the generator's (decoder's) output (``ValueError``; see
        ``tfgenopt.models._range``; a dataset's first batch is checked). In-memory NumPy arrays
        take a pipeline that is only cheaper to start: each epoch still sees every sample once
        in a fresh order with the last partial batch kept (see ``tfgenopt.models._input``).
        Under ``steps_per_execution="auto"`` the callbacks and the run's length decide the
        batches per compiled call (``tfgenopt.models._execution``). A non-finite training loss
        stops the run with a ``FloatingPointError`` naming the step.

        Example:
            >>> history = gan.fit(x, batch_size=32, epochs=1, verbose=0)
            >>> len(history.history["d_loss"])
            1
        """
        _keras_adapter.verify()  # once per process: the private Keras parts we rely on
        check_fit_arrays(self, x, y)
        check_data_range(self, x)  # data the generator / decoder can reach, before any step
        # The batch size of arrays (Keras' default 32), read by tfgenopt.callbacks.TensorBoard.
        self.fit_batch_size = ((batch_size or 32) if isinstance(x, (np.ndarray, list, tuple, dict))
                               else batch_size)
        strategy = _keras_adapter.distribute_strategy(self)  # fit runs outside its scope
        distribute.check_global_batch(batch_size, strategy)
        if strategy is not None:
            _build_from(self, x, y)
        if can_use(x, y, batch_size, validation_split, sample_weight, class_weight,
                   steps_per_epoch):
            batch_size = batch_size or 32
            seed = distribute.shared_seed(getattr(self, "seed", None), strategy)
            replicas = 1 if strategy is None else distribute.num_replicas(strategy)
            # Keras makes two iterators per epoch without steps_per_epoch, one with it.
            steps_per_epoch = -(-(len(x) - len(x) % replicas) // batch_size)
            x = array_dataset(x, y, batch_size, shuffle, seed, replicas)
            # Keras batches validation arrays by `validation_batch_size or batch_size`.
            validation_batch_size = validation_batch_size or batch_size
            y, batch_size, shuffle = None, None, False
        elif _is_dataset(x):
            shuffle = False  # a dataset orders itself; Keras would warn that it ignores shuffle
        # The callbacks this fit was given (Keras Tuner appends its HParams callback to them),
        # read by tfgenopt.callbacks.TensorBoard to merge a trial's values into one session;
        # held only while fit runs, so a finished trial's model is not kept alive.
        self.fit_callbacks = tuple(callbacks or ())
        import tensorflow as tf

        try:
            # Under "auto": the batches per compiled call for this run's callbacks and length.
            self._use_steps_per_execution(callbacks, batches=planned_batches(
                x, batch_size, epochs, initial_epoch, steps_per_epoch, validation_split))
            return super().fit(x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                               callbacks=callbacks, validation_split=validation_split,
                               validation_data=validation_data, shuffle=shuffle,
                               class_weight=class_weight, sample_weight=sample_weight,
                               initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                               validation_steps=validation_steps,
                               validation_batch_size=validation_batch_size,
                               validation_freq=validation_freq)
        except tf.errors.InvalidArgumentError as e:
            if _training.NONFINITE_LOSS not in str(e):
                raise
            raise _training.nonfinite_error(self, e) from None
        finally:
            self.fit_callbacks = ()

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build from a first batch, skipped when everything is built already.

        Without a strategy Keras defers every build to the first trace of the train function,
        where the optimizer then creates its slot variables, and a ``tf.function`` that creates
        variables is traced twice. Building the (single) optimizer first, once the layers are
        built, makes the first ``fit`` trace its step once.
        """
        if _keras_adapter.distribute_strategy(self) is None:
            opt = getattr(self, "optimizer", None)
            if opt is not None and not opt.built and _keras_adapter.all_layers_built(self):
                opt.build(self.trainable_variables)
            return None
        if _keras_adapter.layers_built(self):
            return None
        return super().maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


@keras.saving.register_keras_serializable(package="tfgenopt")
class FunctionalModel(ArrayFitMixin, keras.Model):
    """A functional ``keras.Model`` with the GAN's ``fit`` defaults; what the builders return.

    ``FunctionalModel(inputs, outputs, name=...)`` is ``keras.Model(inputs, outputs, ...)``
    (same config, ``.keras`` saving, ``clone_model``) with ``steps_per_execution="auto"`` and
    the lean NumPy input path, so ``ae.compile("adam", "mse"); ae.fit(x, x)`` is fast as is.

    Example:
        >>> import keras
        >>> inputs = keras.Input((4,))
        >>> model = FunctionalModel(inputs, keras.layers.Dense(4)(inputs))
        >>> model.compile("adam", "mse")
        >>> model.get_compile_config()["steps_per_execution"]
        'auto'
    """

    def train_step(self, data):
        """Keras' step; its logs reduce over workers under ``MultiWorkerMirroredStrategy``."""
        return distribute.reducible_logs(super().train_step(data))

    def test_step(self, data):
        """Keras' step; its logs reduce over workers under ``MultiWorkerMirroredStrategy``."""
        return distribute.reducible_logs(super().test_step(data))

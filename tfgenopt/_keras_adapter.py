"""Every use of Keras' and TensorFlow's private API in tfgenopt, in one place, checked.

tfgenopt overrides one private ``keras.Model`` method, calls two more, and reads a few private
attributes of Keras models, callbacks and optimizers and of TensorFlow's strategies (listed in
:data:`EXPECTED` and :data:`EXPECTED_ATTRIBUTES`, each with the feature that needs it). Nothing
else in the package names a private Keras or TensorFlow attribute: it calls the functions here
(``tests/test_keras_adapter.py`` greps for them). :func:`verify` compares the expectations with
the installed Keras and TensorFlow and raises ``RuntimeError`` naming the versions, the
attribute and the feature; ``fit`` of tfgenopt's models calls it once per process, so a Keras
release that renames one fails loudly instead of silently skipping a tfgenopt behaviour.
Checked against Keras 3.15.1 and TensorFlow 2.21.0 (the versions the suite runs on).

Example:
    >>> verify()[0] == keras.__version__
    True
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile

import keras

__all__ = ["EXPECTED", "EXPECTED_ATTRIBUTES", "verify", "mismatches", "BuildHooks",
           "symbolic_build", "layers_built", "distribute_strategy", "compile_config",
           "is_inside_fit", "tensorboard_traces", "tensorboard_writer", "learning_rate_object",
           "in_multi_worker_mode", "eager_context", "point_backup", "load_backup",
           "backup_epoch", "backup_weights_path", "backup_metadata_path",
           "backup_last_batch", "all_layers_built", "CALLBACK_MODEL", "tensorboard_writers",
           "hparams_of", "set_hparams", "hparams_trial_id"]

#: ``(owner, method): (signature, feature)`` of every private method tfgenopt calls/overrides.
EXPECTED = {
    ("Model", "_symbolic_build"): ("(self, iterator=None, data_batch=None)",
                                   "building a distributed model from shapes before fit"),
    ("Model", "_maybe_symbolic_build"): ("(self, iterator=None, data_batch=None)",
                                         "one trace of the first fit (optimizer built first)"),
    ("Model", "_flatten_layers"): ("(self, include_self=True, recursive=True)",
                                   "skipping a rebuild when every layer is built"),
    ("BackupAndRestore", "_load_model"): ("(self)", "resuming a killed run from its backup"),
    ("CollectiveAllReduceExtended", "_in_multi_worker_mode"): (
        "(self)", "telling a multi-worker cluster from one worker"),
}

#: ``(owner, attribute): feature`` of every private attribute tfgenopt reads or sets.
EXPECTED_ATTRIBUTES = {
    ("Model", "_compile_config"): "saving steps_per_execution='auto' in the compile config",
    ("Model", "_compile_metrics"): "skipping a rebuild when the compiled metrics are built",
    ("Model", "_compile_loss"): "skipping a rebuild when the compiled loss is built",
    ("Model", "_distribute_strategy"): "the strategy a model was made under (fit runs outside)",
    ("BackupAndRestore", "_weights_path"): "atomic backups (one folder per epoch)",
    ("BackupAndRestore", "_training_metadata_path"): "atomic backups (one folder per epoch)",
    ("BackupAndRestore", "_current_epoch"): "naming each backup by its epoch",
    ("BackupAndRestore", "_last_batch_seen"): "the batch count a backup records",
    ("TensorBoard", "_train_writer"): "figures and images in Keras' own event files",
    ("TensorBoard", "_val_writer"): "figures and images in Keras' own event files",
    ("TensorBoard", "_should_trace"): "steps_per_execution='auto' with a profiling TensorBoard",
    ("Optimizer", "_learning_rate"): "telling a learning-rate schedule from a float",
    ("TensorFlowTrainer.fit", "_use_cached_eval_dataset"): "telling fit's evaluation apart",
    ("tensorflow.python.eager.context", "clear_kernel_cache"): "tuning without kernel flushes",
    ("Callback", "_model"): "callback copies per Keras Tuner trial that share no model",
    ("TensorBoard", "_writers"): "one more event-file writer beside Keras' own",
    ("hparams.KerasCallback", "_hparams"): "a trial's HParams values in our TensorBoard session",
    ("hparams.KerasCallback", "_trial_id"): "a trial's HParams session id",
}

#: The attribute a ``keras.callbacks.Callback`` keeps its model in (``self.model`` reads it).
CALLBACK_MODEL = "_model"


def _versions():
    import tensorflow as tf

    return keras.__version__, tf.__version__


def _owners():
    from tensorflow.python.distribute import collective_all_reduce_strategy as collective

    return {"Model": keras.Model, "BackupAndRestore": keras.callbacks.BackupAndRestore,
            "CollectiveAllReduceExtended": collective.CollectiveAllReduceExtended}


def _attribute_problems():
    with tempfile.TemporaryDirectory(prefix="tfgenopt-verify-") as folder:
        return _attribute_problems_in(folder)


def _attribute_problems_in(folder):
    from keras.src.backend.tensorflow import trainer
    from tensorboard.plugins.hparams import api as hparams_api

    problems = []
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    backup = keras.callbacks.BackupAndRestore(os.path.join(folder, "backup"))
    board = keras.callbacks.TensorBoard(os.path.join(folder, "board"))
    instances = {"Model": model, "BackupAndRestore": backup, "TensorBoard": board,
                 "Optimizer": keras.optimizers.SGD(0.1), "Callback": keras.callbacks.Callback(),
                 "hparams.KerasCallback": hparams_api.KerasCallback(
                     os.path.join(folder, "hparams"), {"x": 1}, trial_id="t")}
    writers = ("_train_writer", "_val_writer")
    for (owner, name), feature in EXPECTED_ATTRIBUTES.items():
        if owner == "TensorBoard" and name in writers:
            found = isinstance(inspect.getattr_static(keras.callbacks.TensorBoard, name, None),
                               property)
        elif owner in instances:
            found = hasattr(instances[owner], name)
        elif owner == "TensorFlowTrainer.fit":
            found = name in inspect.getsource(trainer.TensorFlowTrainer.fit)
        else:
            found = callable(getattr(eager_context(), name, None))
        if not found:
            problems.append(f"{owner}.{name} is missing ({feature})")
    if backup._current_epoch is None or "_current_epoch" not in inspect.getsource(
            keras.callbacks.BackupAndRestore.on_epoch_end):
        problems.append(f"BackupAndRestore no longer counts epochs in _current_epoch "
                        f"({EXPECTED_ATTRIBUTES[('BackupAndRestore', '_current_epoch')]})")
    return problems


def mismatches():
    """The differences between the expectations and the installed Keras / TensorFlow."""
    problems = []
    owners = _owners()
    for (owner, name), (signature, feature) in EXPECTED.items():
        attr = getattr(owners[owner], name, None)
        if not callable(attr):
            problems.append(f"{owner}.{name} is missing ({feature})")
        elif str(inspect.signature(attr)) != signature:
            problems.append(f"{owner}.{name}{inspect.signature(attr)} (expected "
                            f"{signature}; {feature})")
    return problems + _attribute_problems()


@functools.cache
def verify():
    """Raise ``RuntimeError`` when the installed Keras / TensorFlow changed a private API we use.

    Returns:
        ``(keras_version, tensorflow_version)`` when everything matches.
    """
    problems = mismatches()
    if problems:
        k, t = _versions()
        raise RuntimeError(
            f"tfgenopt was checked against Keras 3.15.1 / TensorFlow 2.21.0 and relies on private "
            f"parts that Keras {k} / TensorFlow {t} changed: {'; '.join(problems)}. Install "
            "keras==3.15.1 and tensorflow==2.21.0, or update tfgenopt/_keras_adapter.py.")
    return _versions()


class BuildHooks:
    """Model mixin: Keras' private build hook, forwarded to a public-named method.

    A subclass overrides :meth:`maybe_symbolic_build` instead of ``_maybe_symbolic_build``;
    its default is Keras' own behaviour.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return self.maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' build of the compiled state from a first batch (its ``_maybe_symbolic_build``)."""
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def symbolic_build(model, data_batch):
    """Build ``model``'s compiled loss / metrics from a batch's shapes (``_symbolic_build``)."""
    model._symbolic_build(data_batch=data_batch)


def layers_built(model):
    """True when every layer, the compiled loss and metrics and the optimizer are built."""
    metrics, loss = getattr(model, "_compile_metrics", None), getattr(model, "_compile_loss", None)
    opt = getattr(model, "optimizer", None)
    return (all_layers_built(model)
            and (metrics is None or metrics.built) and (loss is None or loss.built)
            and (opt is None or opt.built))


def all_layers_built(model):
    """True when every layer of ``model`` is built."""
    return all(layer.built for layer in model._flatten_layers())


def distribute_strategy(model):
    """The ``tf.distribute`` strategy ``model`` was created under, or None."""
    return getattr(model, "_distribute_strategy", None)


def compile_config(model):
    """The dict ``get_compile_config`` returns for a model compiled by Keras' ``compile``."""
    config = getattr(model, "_compile_config", None)
    return None if config is None else config.config


def is_inside_fit(evaluate_kwargs):
    """True for the ``evaluate`` call Keras' ``fit`` makes for its validation data."""
    return bool(evaluate_kwargs.get("_use_cached_eval_dataset"))


def tensorboard_traces(callback):
    """True when a ``keras.callbacks.TensorBoard`` will trace (profile) batches."""
    return getattr(callback, "_should_trace", True)


def tensorboard_writer(callback, which):
    """Keras' ``TensorBoard`` event-file writer for ``"train"`` or ``"validation"``."""
    return callback._val_writer if which == "validation" else callback._train_writer


def tensorboard_writers(callback):
    """The ``{name: writer}`` dict of a ``keras.callbacks.TensorBoard`` (closed with it)."""
    return callback._writers


def hparams_of(callback):
    """The ``{hparam: value}`` dict of a TensorBoard HParams ``KerasCallback`` (None if absent)."""
    values = getattr(callback, "_hparams", None)
    return values if isinstance(values, dict) else None


def set_hparams(callback, values):
    """Replace the values a TensorBoard HParams ``KerasCallback`` writes."""
    callback._hparams = values


def hparams_trial_id(callback):
    """The session id of a TensorBoard HParams ``KerasCallback`` (None if absent)."""
    return getattr(callback, "_trial_id", None)


def learning_rate_object(optimizer):
    """The object an optimizer keeps its learning rate in (a variable, or a schedule)."""
    return getattr(optimizer, "_learning_rate", None)


def in_multi_worker_mode(strategy):
    """True when a ``MultiWorkerMirroredStrategy`` spans more than one worker."""
    return strategy.extended._in_multi_worker_mode()


def eager_context():
    """TensorFlow's eager context (None off the TensorFlow backend or when it moved)."""
    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.eager import context
    except ImportError:
        return None
    return context.context()


def point_backup(callback, weights_path, metadata_path):
    """Make a ``BackupAndRestore`` read and write these files (one folder per backup)."""
    callback._weights_path = weights_path
    callback._training_metadata_path = metadata_path


def backup_weights_path(callback):
    """The weights file a ``BackupAndRestore`` writes now."""
    return callback._weights_path


def backup_metadata_path(callback):
    """The metadata file a ``BackupAndRestore`` writes now."""
    return callback._training_metadata_path


def backup_epoch(callback):
    """The epoch a ``BackupAndRestore`` counts (the number of epochs done at an epoch's end)."""
    return callback._current_epoch


def backup_last_batch(callback):
    """The batch count a ``BackupAndRestore`` records with a backup."""
    return callback._last_batch_seen


def load_backup(callback):
    """Load the backup a ``BackupAndRestore`` points at into its model (Keras' ``_load_model``)."""
    callback._load_model()

"""Training on several replicas and hosts: the strategy from ``TF_CONFIG``, seeds, chief checks.

The models know nothing of clusters beyond what is here:

* :class:`ReplicaSeedGenerator` is the ``keras.random.SeedGenerator`` of the GAN, the VAE and
  the augmenter: under a ``tf.distribute`` strategy with several replicas it folds the global
  replica id (which numbers the workers' replicas one after the other) into every seed it
  hands out, so each replica draws its own noise; outside a strategy it is Keras' generator.
  A run is reproducible for a seed and a cluster size.
* :func:`reducible_logs` gives ``train_step`` / ``test_step`` logs the rank Keras 3 needs
  under ``MultiWorkerMirroredStrategy`` (it reduces every log with
  ``strategy.reduce("MEAN", v, axis=0)``, which fails on scalars), so a logged value is the
  mean over the workers.
* :func:`strategy_from_tf_config`, :func:`check_tf_config`, :func:`check_global_batch`,
  :func:`global_batch_report`, :func:`is_chief` and :func:`chief_dir` are what a training
  script (or ``tfgenopt train --workers``) needs around ``fit``.

Create the strategy before anything else runs a TensorFlow op: the cluster is set up when
TensorFlow's runtime starts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import tempfile

import keras

from tfgenopt import _keras_adapter

__all__ = ["ReplicaSeedGenerator", "reducible_logs", "strategy_from_tf_config",
           "check_tf_config", "check_global_batch", "global_batch_report", "is_chief",
           "chief_dir", "num_replicas", "in_multi_worker_mode", "shared_seed", "DEFAULT_SEED"]

DEFAULT_SEED = 0  # the shuffle seed every worker uses when the model has none


def _tf():
    import tensorflow as tf

    return tf


def _strategy():
    return _tf().distribute.get_strategy()


def num_replicas(strategy=None):
    """Replicas in sync of ``strategy`` (the current one by default; 1 outside any).

    Example:
        >>> num_replicas()
        1
    """
    return (strategy or _strategy()).num_replicas_in_sync


def in_multi_worker_mode(strategy=None):
    """True under a ``MultiWorkerMirroredStrategy`` whose cluster has more than one worker.

    Example:
        >>> in_multi_worker_mode()
        False
    """
    tf = _tf()
    strategy = strategy or _strategy()
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and _keras_adapter.in_multi_worker_mode(strategy))


def fold_replica(seed):
    """``seed`` (a shape-(2,) seed tensor) with the global replica id folded in, per replica.

    Outside a replica context, or with one replica in sync, ``seed`` is returned unchanged.

    Example:
        >>> int(fold_replica(keras.ops.convert_to_tensor([3, 0]))[0])
        3
    """
    tf = _tf()
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return seed
    replica = tf.cast(ctx.replica_id_in_sync_group, "int64")
    folded = tf.random.experimental.stateless_fold_in(tf.cast(seed, "int64"), replica)
    return tf.cast(folded, seed.dtype)


@keras.saving.register_keras_serializable(package="tfgenopt")
class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A ``keras.random.SeedGenerator`` whose seeds differ on every replica of a strategy.

    Keras' own generator hands the same seed to every replica of a ``MirroredStrategy`` (its
    state is one mirrored variable), so every replica would draw the same noise. This one
    folds the global replica id into each seed when more than one replica is in sync.

    Args:
        seed: the initial seed (an int) or None.

    Example:
        >>> gen = ReplicaSeedGenerator(0)
        >>> a = keras.random.normal((2,), seed=gen)
        >>> b = keras.random.normal((2,), seed=ReplicaSeedGenerator(0))
        >>> bool(keras.ops.all(a == b))  # outside a strategy: Keras' SeedGenerator draws
        True
    """

    def next(self, ordered=True):
        return fold_replica(super().next(ordered=ordered))


def reducible_logs(logs):
    """``logs`` with every scalar as a shape-(1,) tensor under multi-worker training, else as is.

    Keras 3 reduces each value a ``train_step`` / ``test_step`` returns with
    ``strategy.reduce("MEAN", value, axis=0)`` in multi-worker mode: a rank-1 value becomes the
    mean over the workers, a scalar fails ("Invalid reduction dimension 0").

    Example:
        >>> reducible_logs({"d_loss": 1.0})
        {'d_loss': 1.0}
    """
    if not in_multi_worker_mode():
        return logs
    ops = keras.ops
    return {k: ops.reshape(v, (1,)) if len(ops.shape(v)) == 0 else v for k, v in logs.items()}


def shared_seed(seed, strategy=None):
    """``seed``, or :data:`DEFAULT_SEED` under multi-worker training when ``seed`` is None.

    Every worker must shuffle the data in one order before it takes its shard; a seed of
    None would give each worker its own order (samples seen twice or not at all).

    Args:
        seed: an int or None.
        strategy: a ``tf.distribute.Strategy``; the current one by default.

    Example:
        >>> shared_seed(None), shared_seed(7)
        (None, 7)
    """
    return DEFAULT_SEED if seed is None and in_multi_worker_mode(strategy) else seed


def check_global_batch(batch_size, strategy=None):
    """Return ``batch_size`` if it divides by the replicas of ``strategy``, else raise.

    Args:
        batch_size: the global batch (all replicas together).
        strategy: a ``tf.distribute.Strategy``; the current one by default.

    Returns:
        ``batch_size``.

    Example:
        >>> check_global_batch(64)
        64
    """
    n = num_replicas(strategy)
    if isinstance(batch_size, int) and n > 1 and batch_size % n:
        raise ValueError(f"`batch_size` (the global batch) must be a multiple of the {n} "
                         f"replicas in sync; received {batch_size!r}. Use "
                         f"{max(n, batch_size // n * n)} or {(batch_size // n + 1) * n}.")
    return batch_size


def global_batch_report(batch_size, strategy=None):
    """How a global batch splits over the cluster, as a JSON-able dict.

    Args:
        batch_size: the global batch.
        strategy: a ``tf.distribute.Strategy``; the current one by default.

    Returns:
        ``{"workers", "replicas", "global_batch", "per_replica_batch", "task_type",
        "task_index", "is_chief"}``.

    Example:
        >>> global_batch_report(64)["per_replica_batch"]
        64
    """
    strategy = strategy or _strategy()
    n = num_replicas(strategy)
    check_global_batch(batch_size, strategy)
    config = _parsed_tf_config() if in_multi_worker_mode(strategy) else None
    workers = len(_workers(config["cluster"])) if config else 1
    task = config["task"] if config else {"type": "worker", "index": 0}
    return {"workers": workers, "replicas": n, "global_batch": int(batch_size),
            "per_replica_batch": int(batch_size) // n, "task_type": task["type"],
            "task_index": int(task["index"]), "is_chief": is_chief()}


# ------------------------------------------------------------------------------ TF_CONFIG
def _fail(problem):
    raise ValueError(f"`TF_CONFIG` {problem}. Expected JSON like "
                     '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                     '"task": {"type": "worker", "index": 0}}.')


def _workers(cluster):
    return [a for kind in ("chief", "worker") for a in cluster.get(kind, [])]


def _check_address(kind, i, address):
    host, sep, port = str(address).rpartition(":")
    if not isinstance(address, str) or not sep or not host or not port.isdigit() \
            or not 0 < int(port) < 65536:
        _fail(f"has cluster[{kind!r}][{i}] = {address!r}, not a 'host:port' address "
              "with a port in 1..65535")
    return host.strip("[]"), int(port)


def check_tf_config(text):
    """Parse and check a ``TF_CONFIG`` value; return it as a dict, or raise ``ValueError``.

    Args:
        text: the JSON text of ``TF_CONFIG``.

    Returns:
        ``{"cluster": {...}, "task": {"type": ..., "index": ...}}``.

    Example:
        >>> check_tf_config('{"cluster": {"worker": ["localhost:1"]}, '
        ...                 '"task": {"type": "worker", "index": 0}}')["task"]
        {'type': 'worker', 'index': 0}
    """
    try:
        config = json.loads(text)
    except (TypeError, ValueError) as e:
        _fail(f"is not valid JSON ({e}); received {text!r}")
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        _fail(f"must be an object with a 'cluster' object; received {text!r}")
    cluster = config["cluster"]
    for kind, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses:
            _fail(f"has cluster[{kind!r}] = {addresses!r}, not a non-empty list of addresses")
        for i, address in enumerate(addresses):
            _check_address(kind, i, address)
    if not _workers(cluster):
        _fail(f"has no 'worker' or 'chief' in its cluster; received {text!r}")
    task = config.get("task")
    if not isinstance(task, dict) or task.get("type") not in cluster:
        _fail(f"must have a 'task' whose 'type' is one of {sorted(cluster)}; received "
              f"task = {task!r}")
    index = task.get("index")
    if isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(cluster[task["type"]]):
        _fail(f"has task index {index!r}, not an int in 0..{len(cluster[task['type']]) - 1} "
              f"for task type {task['type']!r}")
    return config


def _parsed_tf_config(environ=None):
    text = (os.environ if environ is None else environ).get("TF_CONFIG")
    return None if not text else check_tf_config(text)


def _check_port_free(host, port):
    """Raise ``ValueError`` if this task's own port is already taken on this machine."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ValueError(f"`TF_CONFIG`: this task's address {host}:{port} is already "
                                 "in use on this machine (another run, or a worker of a run "
                                 "that is still alive); choose a free port.") from None
            # Not a local address, or it does not resolve: TensorFlow reports it itself.


def strategy_from_tf_config(environ=None):
    """The ``tf.distribute`` strategy ``TF_CONFIG`` describes, checked before it starts.

    With a ``TF_CONFIG`` naming more than one worker: a ``MultiWorkerMirroredStrategy``
    (one replica per local device, ring all-reduce). With no ``TF_CONFIG``: a
    ``MirroredStrategy`` over the local GPUs when there are several, else the default
    strategy. Call it before anything else runs a TensorFlow op.

    Args:
        environ: a mapping to read ``TF_CONFIG`` from (``os.environ`` by default).

    Returns:
        A ``tf.distribute.Strategy``.

    Raises:
        ValueError: a malformed ``TF_CONFIG`` or a port of this task already in use.

    Example:
        >>> strategy_from_tf_config({}).num_replicas_in_sync
        1
    """
    tf = _tf()
    config = _parsed_tf_config(environ)
    if config is None:
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    task = config["task"]
    host, port = _check_address(task["type"], task["index"],
                                config["cluster"][task["type"]][task["index"]])
    _check_port_free(host, port)
    if environ is not None and environ is not os.environ:
        os.environ["TF_CONFIG"] = json.dumps(config)  # TensorFlow reads os.environ itself
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(environ=None):
    """True unless ``TF_CONFIG`` names this task as a non-chief (the chief writes the files).

    The chief is the ``"chief"`` task, or worker 0 in a cluster without one.

    Example:
        >>> is_chief({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:1"]}, '
        ...                        '"task": {"type": "worker", "index": 1}}'})
        False
    """
    config = _parsed_tf_config(environ)
    if config is None:
        return True
    task, cluster = config["task"], config["cluster"]
    if "chief" in cluster:
        return task["type"] == "chief"
    return task["type"] == "worker" and task["index"] == 0


@contextlib.contextmanager
def chief_dir(path, environ=None):
    """Yield ``path`` on the chief and a temporary folder, removed afterwards, on a worker.

    Every worker of a cluster must run the same saves (a save may read values all replicas
    take part in); only the chief's land where the user looks.

    Example:
        >>> with chief_dir("runs/x") as folder:
        ...     folder
        'runs/x'
    """
    if is_chief(environ):
        yield path
        return
    folder = tempfile.mkdtemp(prefix="tfgenopt-worker-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)

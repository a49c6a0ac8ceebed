"""The small protocol through which callbacks, probes and tuners see a model.

A training model may implement two methods; plain ``keras.Model``s get sensible defaults:

* ``model.networks() -> dict[str, keras.Model]``: every network whose weights matter
  (``{"generator", "discriminator", "ema_generator"}`` for the GAN, ``{"encoder", "decoder"}``
  for the VAE). Default: ``{"model": model}``.
* ``model.optimizers_by_name() -> dict[str, keras.optimizers.Optimizer]``: every optimizer
  (``{"d": ..., "g": ...}`` for the GAN). Default: ``{"": model.optimizer}`` when compiled.

Learning rates are logged as ``lr`` for the unnamed optimizer and ``{name}_lr`` otherwise
(``d_lr``, ``g_lr``), see :func:`lr_log_key`.

Callbacks talk to each other through one model attribute, ``model.carried_log_keys``: the
``logs`` keys whose values this epoch were carried over from an earlier epoch instead of being
measured (a ``QualityMonitor`` with ``every > 1`` writes them so every epoch has the key). A
monitor must not take a carried value as a new best: the weights of that epoch were never
measured. See :func:`set_carried_keys` and :func:`carried_keys`.

The callback-order contract: a callback that WRITES keys into ``logs`` (``QualityMonitor``,
``CollapseMonitor``) announces them in its ``on_train_begin`` with :func:`announce_keys` and
withdraws them in ``on_train_end`` (:func:`withdraw_keys`). Keras calls ``on_train_begin`` in
list order, so a monitor that takes :func:`announcement_mark` in its own ``on_train_begin``
knows, at its first epoch, which keys come from callbacks listed before it
(``announced_keys(model, until=mark)``) and which from callbacks listed after it
(``announced_keys(model, since=mark)``): reading a key only the later ones write is an error.
"""

from __future__ import annotations

__all__ = ["networks", "snapshot_networks", "restore_networks", "optimizers", "lr_log_key",
           "trainable_variables", "set_carried_keys", "carried_keys", "announce_keys",
           "withdraw_keys", "announced_keys", "announcement_mark"]


def networks(model):
    """Return ``{name: network}`` for ``model`` (``{"model": model}`` for a plain model).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> list(networks(m))
        ['model']
    """
    fn = getattr(model, "networks", None)
    if callable(fn):
        return dict(fn())
    return {"model": model}


def snapshot_networks(model):
    """``{name: weights}`` of every network in :func:`networks` (NumPy copies).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> list(snapshot_networks(m))
        ['model']
    """
    return {name: net.get_weights() for name, net in networks(model).items()}


def restore_networks(model, weights):
    """Set every network named in ``weights`` (from :func:`snapshot_networks`) back.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        >>> saved = snapshot_networks(m)
        >>> _ = m.layers[0].kernel.assign([[5.0]])
        >>> restore_networks(m, saved)
        >>> bool(m.layers[0].kernel.numpy()[0, 0] == saved["model"][0][0, 0])
        True
    """
    for name, net in networks(model).items():
        if name in weights:
            net.set_weights(weights[name])


def optimizers(model):
    """Return ``{name: optimizer}`` for ``model``; a plain compiled model gives ``{"": opt}``.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> m.compile("adam", "mse")
        >>> list(optimizers(m))
        ['']
    """
    fn = getattr(model, "optimizers_by_name", None)
    if callable(fn):
        return {k: v for k, v in fn().items() if v is not None}
    opt = getattr(model, "optimizer", None)
    return {"": opt} if opt is not None else {}


def lr_log_key(name):
    """The ``logs`` key of an optimizer's learning rate: ``lr`` or ``{name}_lr``."""
    return f"{name}_lr" if name else "lr"


def trainable_variables(model):
    """All trainable variables of every network, in a stable order, without duplicates."""
    seen, out = set(), []
    for net in networks(model).values():
        for v in net.trainable_variables:
            key = id(v)
            if key not in seen:
                seen.add(key)
                out.append(v)
    return out


def set_carried_keys(model, keys):
    """Record on ``model`` that the ``logs`` values of ``keys`` were carried, not measured.

    Call it every epoch (with no keys on measured epochs); the set is replaced, not extended.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> set_carried_keys(m, ["val_kid"])
        >>> sorted(carried_keys(m))
        ['val_kid']
    """
    model.carried_log_keys = tuple(sorted(set(keys)))


def carried_keys(model):
    """The ``logs`` keys carried over from an earlier epoch this epoch (empty if none).

    Example:
        >>> import keras
        >>> carried_keys(keras.Sequential([keras.layers.Dense(1)]))
        frozenset()
    """
    return frozenset(getattr(model, "carried_log_keys", None) or ())


_ANNOUNCEMENTS = "log_key_announcements"  # ((sequence, id(producer), name, keys), ...)
_MAX_ANNOUNCEMENTS = 64


def _announcements(model):
    return tuple(getattr(model, _ANNOUNCEMENTS, None) or ())


def announce_keys(model, producer, keys):
    """Record on ``model`` that ``producer`` writes ``keys`` into ``logs`` in this run.

    Call it from the producer's ``on_train_begin``; a producer's earlier announcement is
    replaced. See the module docstring for the order contract.

    Args:
        model: the model being trained.
        producer: the callback (its class name is what messages show) or a name.
        keys: the ``logs`` keys it writes.

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> mark = announcement_mark(m)
        >>> announce_keys(m, "QualityMonitor", ["val_fid"])
        >>> announced_keys(m, since=mark), announced_keys(m, until=mark)
        ({'val_fid': 'QualityMonitor'}, {})
    """
    name = producer if isinstance(producer, str) else type(producer).__name__
    entries = tuple(e for e in _announcements(model) if e[1] != id(producer))
    sequence = max((e[0] for e in _announcements(model)), default=0) + 1
    entry = (sequence, id(producer), name, tuple(str(k) for k in keys))
    setattr(model, _ANNOUNCEMENTS, (entries + (entry,))[-_MAX_ANNOUNCEMENTS:])


def withdraw_keys(model, producer):
    """Remove ``producer``'s announcement (call it from its ``on_train_end``).

    Example:
        >>> import keras
        >>> m = keras.Sequential([keras.layers.Dense(1)])
        >>> announce_keys(m, "QualityMonitor", ["val_fid"])
        >>> withdraw_keys(m, "QualityMonitor")
        >>> announced_keys(m)
        {}
    """
    entries = tuple(e for e in _announcements(model) if e[1] != id(producer))
    setattr(model, _ANNOUNCEMENTS, entries)


def announcement_mark(model):
    """The position of the latest announcement on ``model`` (0 when none): a consumer's mark.

    Example:
        >>> import keras
        >>> announcement_mark(keras.Sequential([keras.layers.Dense(1)]))
        0
    """
    return max((e[0] for e in _announcements(model)), default=0)


def announced_keys(model, since=0, until=None):
    """``{key: producer name}`` of the announcements after mark ``since`` and up to ``until``.

    Args:
        model: the model.
        since: only announcements made after this :func:`announcement_mark`.
        until: only announcements made up to this mark (None: all).

    Returns:
        A dict; a key announced twice names its first producer.

    Example:
        >>> import keras
        >>> announced_keys(keras.Sequential([keras.layers.Dense(1)]))
        {}
    """
    out = {}
    for sequence, _, name, keys in sorted(_announcements(model)):
        if sequence > since and (until is None or sequence <= until):
            for key in keys:
                out.setdefault(key, name)
    return out

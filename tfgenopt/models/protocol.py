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
"""

from __future__ import annotations

__all__ = ["networks", "snapshot_networks", "restore_networks", "optimizers", "lr_log_key", "trainable_variables", "set_carried_keys",
           "carried_keys"]


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

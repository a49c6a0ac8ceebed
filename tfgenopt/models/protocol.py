"""The small protocol through which callbacks, probes and tuners see a model.

A training model may implement two methods; plain ``keras.Model``s get sensible defaults:

* ``model.networks() -> dict[str, keras.Model]``: every network whose weights matter
  (``{"generator", "discriminator", "ema_generator"}`` for the GAN, ``{"encoder", "decoder"}``
  for the VAE). Default: ``{"model": model}``.
* ``model.optimizers_by_name() -> dict[str, keras.optimizers.Optimizer]``: every optimizer
  (``{"d": ..., "g": ...}`` for the GAN). Default: ``{"": model.optimizer}`` when compiled.

Learning rates are logged as ``lr`` for the unnamed optimizer and ``{name}_lr`` otherwise
(``d_lr``, ``g_lr``), see :func:`lr_log_key`.
"""

from __future__ import annotations

__all__ = ["networks", "optimizers", "lr_log_key", "trainable_variables"]


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

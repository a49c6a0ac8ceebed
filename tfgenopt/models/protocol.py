"""The small protocol through which callbacks, probes and tuners see a model.

A training model may implement three methods; other models get what their attributes give:

* ``model.networks() -> dict[str, keras.Model]``: every network whose weights matter
  (``{"generator", "discriminator", "ema_generator"}`` for the GAN, ``{"encoder", "decoder"}``
  for the VAE). Default: the model's ``generator``, ``discriminator``, ``encoder`` and
  ``decoder`` attributes that are ``keras.Model``s (a keras.io-style subclass), else
  ``{"model": model}``.
* ``model.optimizers_by_name() -> dict[str, keras.optimizers.Optimizer]``: every optimizer
  (``{"d": ..., "g": ...}`` for the GAN). Default: every optimizer attribute (``d_optimizer``
  is named ``"d"``, ``g_optimizer`` ``"g"``); ``model.optimizer`` only when it owns variables
  or is the only one (the one a keras.io GAN's ``super().compile()`` leaves trains nothing).
* ``model.generate(n, seed=None) -> array``: ``n`` samples. Default (see :func:`sampler`):
  the ``generator`` (or ``decoder``) attribute applied to standard normal noise of size
  ``latent_dim`` (the attribute, else the network's input shape).

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

import keras
import numpy as np

from tfgenopt.models import _sampling

__all__ = ["networks", "snapshot_networks", "restore_networks", "optimizers", "lr_log_key",
           "trainable_variables", "set_carried_keys", "carried_keys", "sampler", "sample",
           "check_sample_fn", "latent_shape", "NETWORK_ATTRIBUTES", "announce_keys",
           "withdraw_keys", "announced_keys", "announcement_mark"]

NETWORK_ATTRIBUTES = ("generator", "discriminator", "encoder", "decoder")
_HOW = ("give the model a `generate(n, seed=None)` method, a `generator` (or `decoder`) "
        "keras.Model attribute with a `latent_dim` attribute, or pass `sample_fn=` (a callable "
        "`fn(n, seed)` returning n samples) to the callback")


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
    found = {name: getattr(model, name, None) for name in NETWORK_ATTRIBUTES}
    found = {k: v for k, v in found.items() if isinstance(v, keras.Model) and v is not model}
    return found or {"model": model}

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
    own = {}
    for attr, value in vars(model).items():  # keras.io style: d_optimizer, g_optimizer, ...
        if (attr.startswith("_") or attr == "optimizer"
                or not isinstance(value, keras.optimizers.Optimizer)
                or any(value is o for o in own.values())):
            continue
        own[_optimizer_name(attr)] = value
    if opt is not None and not any(opt is o for o in own.values()) and (
            not own or getattr(opt, "built", False)):
        own = {"": opt, **own}
    return own


def _optimizer_name(attr):
    for cut in ("_optimizer", "optimizer_", "_opt"):
        if attr.endswith(cut) and len(attr) > len(cut):
            return attr[: -len(cut)]
        if attr.startswith(cut) and len(attr) > len(cut):
            return attr[len(cut):]
    return attr


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


def latent_shape(model, attr="generator"):
    """The noise shape (without batch) of ``model``'s ``attr`` network: ``latent_dim`` or its input.

    Example:
        >>> import keras
        >>> m = keras.Model()
        >>> m.generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> latent_shape(m)
        (3,)
    """
    net = getattr(model, attr, None)
    latent = getattr(model, "latent_dim", None)
    if latent is not None:
        return tuple(int(d) for d in np.atleast_1d(latent))
    try:
        inputs = net.inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs and len(inputs) == 1 and None not in tuple(inputs[0].shape)[1:]:
        return tuple(int(d) for d in inputs[0].shape[1:])
    raise TypeError(
        f"{type(model).__name__}.{attr} has no defined input shape to draw noise for: add a "
        f"`latent_dim` attribute to the model (or build `{attr}` with keras.Input), or pass "
        "`sample_fn=` to the callback.")


def check_sample_fn(sample_fn):
    """Validate a callback's ``sample_fn`` argument: None or a callable ``fn(n, seed)``."""
    if sample_fn is not None and not callable(sample_fn):
        raise TypeError(f"`sample_fn` must be a callable fn(n, seed) or None; received "
                        f"{sample_fn!r}.")
    return sample_fn


def sampler(model, sample_fn=None, owner="This callback"):
    """Return ``fn(n, seed=None) -> np.ndarray`` that draws ``n`` samples from ``model``.

    In order: ``sample_fn`` when given; ``model.generate(n, seed=seed)`` (tfgenopt's GAN and
    VAE); else a keras.io-style model's ``generator`` (or ``decoder``) attribute applied to
    standard normal noise of shape ``(n, latent_dim)`` (the ``latent_dim`` attribute, else the
    network's input shape), drawn with ``seed``.

    Args:
        model: the model a callback watches.
        sample_fn: a callable ``fn(n, seed)`` returning ``n`` samples, or None.
        owner: who asks, for the error message.

    Returns:
        A callable ``(n, seed=None) -> float32 np.ndarray``.

    Raises:
        TypeError: the model offers no way to sample; the message says which attribute to add.

    Example:
        >>> import keras
        >>> class UserGAN(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        ...         self.latent_dim = 2
        >>> sampler(UserGAN())(5, seed=0).shape
        (5, 3)
    """
    if check_sample_fn(sample_fn) is not None:
        return lambda n, seed=None: np.asarray(keras.ops.convert_to_numpy(sample_fn(n, seed)),
                                               dtype="float32")
    generate = getattr(model, "generate", None)
    if callable(generate):
        return lambda n, seed=None: np.asarray(generate(n, seed=seed), dtype="float32")
    for attr in ("generator", "decoder"):
        net = getattr(model, attr, None)
        if isinstance(net, keras.Model):
            shape = latent_shape(model, attr)
            return lambda n, seed=None: _draw(net, shape, n, seed)
    raise TypeError(f"{owner} cannot draw samples from {type(model).__name__}: {_HOW}.")


def _draw(net, shape, n, seed, batch_size=256):
    z = _sampling.draw_noise(n, shape, seed)
    return _sampling.in_batches(lambda zi, _: net(zi, training=False), z, batch_size=batch_size)


def sample(model, n, seed=None, sample_fn=None):
    """``n`` samples of ``model`` as a float32 NumPy array (see :func:`sampler`).

    Example:
        >>> import tfgenopt as tg
        >>> g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=6)
        >>> d = tg.builders.dense_discriminator(input_dim=6, hidden=(8,))
        >>> sample(tg.models.GAN(g, d, latent_dim=4), 3, seed=0).shape
        (3, 6)
    """
    return sampler(model, sample_fn)(n, seed=seed)

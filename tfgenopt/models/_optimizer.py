"""The one optimizer resolver: a Keras optimizer from a name, a config dict or an instance.

Every place that turns a user's ``optimizer=`` argument into an optimizer (the GAN and diffusion
recipes, the tuners' HyperModels, the CLI) calls :func:`resolve_optimizer` with its own defaults,
so a name means the same thing everywhere and an unknown one gets the same message.
"""

from __future__ import annotations

import keras

__all__ = ["resolve_optimizer"]


def resolve_optimizer(name, value, **defaults):
    """A Keras optimizer from ``value``; a *name* resolves with ``defaults`` applied.

    Args:
        name: the argument's name, for error messages (``"d_optimizer"``).
        value: an optimizer instance (used as given), its config dict (used as given), or a
            name such as ``"adam"`` or ``"adamw"``.
        **defaults: settings a name resolves with (``learning_rate=1e-3``, ``beta_1=0.5``,
            ``weight_decay=1e-4``...); a setting the optimizer does not have is skipped, except
            ``learning_rate``, which every optimizer has.

    Returns:
        A fresh ``keras.optimizers.Optimizer`` for a name or config, ``value`` for an instance.

    Raises:
        ValueError: ``value`` is not an optimizer, a known name or a config; the message names
            the argument and the value.

    Example:
        >>> opt = resolve_optimizer("d_optimizer", "adam", learning_rate=1e-3, beta_1=0.5)
        >>> float(opt.learning_rate), opt.beta_1
        (0.001, 0.5)
        >>> resolve_optimizer("optimizer", "adamw", weight_decay=1e-4).weight_decay
        0.0001
    """
    if isinstance(value, keras.optimizers.Optimizer):
        return value
    try:
        opt = keras.optimizers.get(value)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"`{name}` must be a Keras optimizer, its name (e.g. 'adam', 'adamw', 'sgd', "
            f"'rmsprop', 'adagrad') or its config; received {value!r} ({e})."
        ) from None
    if opt is None:
        raise ValueError(f"`{name}` must be a Keras optimizer or its name; received None.")
    if not isinstance(value, str):
        return opt
    config = opt.get_config()
    for key, setting in defaults.items():
        if key in config or key == "learning_rate":
            config[key] = setting
    return opt.__class__.from_config(config)

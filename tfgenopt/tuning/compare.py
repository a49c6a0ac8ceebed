"""Train the same model (same initial weights, same data order) with several optimizers."""

from __future__ import annotations

import numbers

import keras
import numpy as np

from tfgenopt._validation import check_array, check_choice, check_float, check_int
from tfgenopt.data import as_dataset
from tfgenopt.plotting.tuning import plot_optimizer_comparison
from tfgenopt.tuning.hypermodels import OPTIMIZERS, make_optimizer

__all__ = ["compare_optimizers", "DEFAULT_LEARNING_RATES"]

DEFAULT_LEARNING_RATES = {"sgd": 1e-2, "adam": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}


def _learning_rates(optimizers, learning_rates):
    if learning_rates is None:
        return {name: DEFAULT_LEARNING_RATES[name] for name in optimizers}
    if isinstance(learning_rates, numbers.Real) and not isinstance(learning_rates, bool):
        lr = check_float("learning_rates", learning_rates, 0.0, min_inclusive=False)
        return dict.fromkeys(optimizers, lr)
    if not isinstance(learning_rates, dict):
        raise TypeError(
            f"`learning_rates` must be a number or a dict; received {learning_rates!r}."
        )
    unknown = sorted(set(learning_rates) - set(optimizers))
    if unknown:
        raise ValueError(
            f"`learning_rates` has keys {unknown} that are not in `optimizers` {list(optimizers)}."
        )
    out = {name: DEFAULT_LEARNING_RATES[name] for name in optimizers}
    for name, lr in learning_rates.items():
        out[name] = check_float(f"learning_rates[{name!r}]", lr, 0.0, min_inclusive=False)
    return out


def compare_optimizers(build_fn, x, y=None, validation_data=None, optimizers=OPTIMIZERS,
                       learning_rates=None, loss=None, epochs=5, batch_size=64, momentum=0.9,
                       seed=0, verbose=1):
    """Train ``build_fn()``'s model once per optimizer from identical starting weights.

    Every run starts from the weights of the first model built, sees the batches in the
    same seeded order, and only the optimizer (and its learning rate) differs, so the curves
    compare SGD (with momentum), Adam, RMSprop and Adagrad on equal terms.

    Args:
        build_fn: a function of no arguments returning a fresh ``keras.Model`` (compiled or
            not; the loss is taken from ``loss`` or the compiled model).
        x: training inputs.
        y: training targets; ``None`` trains an autoencoder (targets = inputs).
        validation_data: validation inputs (targets = inputs) or ``(x_val, y_val)``.
        optimizers: names among ``"sgd"``, ``"adam"``, ``"rmsprop"``, ``"adagrad"``.
        learning_rates: one rate for all, a ``{name: rate}`` dict, or ``None`` for
            :data:`DEFAULT_LEARNING_RATES`.
        loss: the loss; ``None`` uses the compiled model's loss.
        epochs: epochs per optimizer.
        batch_size: batch size of every run.
        momentum: SGD's momentum.
        seed: seed of the data order.
        verbose: 1 shows a progress bar over the optimizers, 0 is silent.

    Returns:
        ``(histories, figure)``: ``{name: {metric: [per-epoch values]}}`` and the
        side-by-side figure of :func:`tfgenopt.plotting.plot_optimizer_comparison`.

    Example:
        Not run as a doctest: it trains one model per optimizer (a minute).

        >>> histories, fig = compare_optimizers(
        ...     tg.builders.dense_autoencoder, x_train, validation_data=x_val,
        ...     loss="binary_crossentropy", epochs=3)  # doctest: +SKIP
        >>> sorted(histories)  # doctest: +SKIP
        ['adagrad', 'adam', 'rmsprop', 'sgd']
    """
    if not callable(build_fn):
        raise TypeError(f"`build_fn` must be callable; received {build_fn!r}.")
    optimizers = tuple(optimizers)
    if not optimizers:
        raise ValueError("`optimizers` must name at least one optimizer.")
    for name in optimizers:
        check_choice("optimizers", name, OPTIMIZERS)
    rates = _learning_rates(optimizers, learning_rates)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_int("seed", seed, minimum=0)
    check_choice("verbose", verbose, (0, 1))
    x = check_array("x", x)
    y = x if y is None else check_array("y", y, min_ndim=1)
    if isinstance(validation_data, tuple):
        val = validation_data
    elif validation_data is not None:
        v = check_array("validation_data", validation_data)
        val = (v, v)
    else:
        val = None

    first = build_fn()
    if not isinstance(first, keras.Model):
        raise TypeError(f"`build_fn` must return a keras.Model; received {type(first).__name__}.")
    loss = loss or getattr(first, "loss", None)
    if loss is None:
        raise ValueError("`loss` is None and the model `build_fn` returns is not compiled.")
    initial = first.get_weights()
    histories = {}
    bar = keras.utils.Progbar(len(optimizers), unit_name="optimizer") if verbose else None
    for i, name in enumerate(optimizers):
        model = first if i == 0 else build_fn()
        model.set_weights(initial)
        model.compile(optimizer=make_optimizer(name, rates[name], momentum), loss=loss)
        train = as_dataset(x, y, batch_size=batch_size, shuffle=True, seed=seed)
        val_ds = None if val is None else as_dataset(
            np.asarray(val[0]), np.asarray(val[1]), batch_size=batch_size, shuffle=False)
        hist = model.fit(train, validation_data=val_ds, epochs=epochs, shuffle=False, verbose=0)
        histories[name] = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        if bar is not None:
            bar.update(i + 1, values=[(f"{name}_loss", histories[name]["loss"][-1])])
    return histories, plot_optimizer_comparison(histories)

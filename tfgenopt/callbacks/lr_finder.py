"""The learning-rate range test: an exponential sweep of the rate over a short run.

``LRFinder`` raises the learning rate of the chosen optimizer(s) geometrically from ``min_lr`` to
``max_lr``, one step per batch, records the monitored loss of each batch, smooths it with a
bias-corrected exponential moving average and stops when it diverges (above ``divergence`` x the
best smoothed value, or non-finite). At the end of the run every variable of the model and of
every optimizer is put back exactly as it was (bitwise), so the sweep costs nothing but time.

Two suggestions come out: the rate of the steepest descent of the smoothed loss (against
log-rate), and the rate of the smoothed minimum divided by 10; both are good starting points,
the first usually a little more aggressive.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from tfgenopt._validation import check_float, check_int
from tfgenopt.callbacks._monitor import missing_key_message, read_value
from tfgenopt.callbacks._optimizers import has_schedule, set_lr
from tfgenopt.models import protocol
from tfgenopt.plotting.schedules import plot_lr_finder

__all__ = ["LRFinder", "LRFinderResult", "lr_find", "suggest_lr"]


def suggest_lr(lrs, smoothed, skip_start=None):
    """The two suggestions of a range test: steepest descent and ``argmin / 10``.

    Args:
        lrs: the learning rates of the sweep (increasing).
        smoothed: the smoothed loss at each rate (non-finite points are ignored).
        skip_start: leading points to ignore for the slope (default: ``min(10, n // 10)``).

    Returns:
        ``(steepest, min_div10)``: floats (``nan`` when there are too few points).

    Example:
        >>> lrs = np.logspace(-4, 0, 50); loss = 1 / (1 + np.exp(8 * (np.log10(lrs) + 2)))
        >>> s, m = suggest_lr(lrs, loss)
        >>> bool(abs(np.log10(s) + 2) < 0.1)
        True
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    smoothed = np.asarray(smoothed, dtype=np.float64)
    finite = np.isfinite(smoothed)
    if finite.sum() < 3:
        return math.nan, math.nan
    last = int(np.nonzero(finite)[0][-1]) + 1
    lrs, smoothed = lrs[:last], np.where(finite[:last], smoothed[:last], np.inf)
    i_min = int(np.argmin(smoothed))
    min_div10 = float(lrs[i_min] / 10.0)
    skip = min(10, len(lrs) // 10) if skip_start is None else int(skip_start)
    end = max(i_min + 1, skip + 3)
    seg_lr, seg = np.log10(lrs[:end]), smoothed[:end]
    if end - skip < 3 or not np.all(np.isfinite(seg)):
        return float(lrs[i_min]), min_div10
    grad = np.gradient(seg, seg_lr)
    steepest = float(lrs[skip + int(np.argmin(grad[skip:]))])
    return steepest, min_div10


@dataclasses.dataclass
class LRFinderResult:
    """What a range test found: the curve, the two suggestions, and why it stopped.

    Attributes:
        lrs, losses, smoothed: the sweep (NumPy arrays, one point per step).
        steepest: the rate of the steepest descent of the smoothed loss.
        min_div10: the rate of the smoothed minimum, divided by 10.
        monitor: the logged key that was swept; ``optimizers``: the names of the swept ones.
        diverged: whether the sweep stopped on divergence before ``max_lr``.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float
    min_div10: float
    monitor: str
    optimizers: tuple
    diverged: bool

    @property
    def suggestion(self):
        """The suggested rate: the steepest descent (``min_div10`` when that is undefined)."""
        return self.steepest if np.isfinite(self.steepest) else self.min_div10

    def plot(self, **kwargs):
        """The sweep as a figure (see :func:`tfgenopt.plotting.plot_lr_finder`)."""

        return plot_lr_finder(self, **kwargs)

    @property
    def figure(self):
        """A new figure of the sweep (same as ``plot()``)."""
        return self.plot()


def _choose(which, opts):
    if which in (None, "all", "both"):
        return list(opts)
    names = [which] if isinstance(which, str) else list(which)
    unknown = [n for n in names if n not in opts]
    if unknown or not names:
        raise ValueError(f"`which` names unknown optimizers {unknown or names}; this model's "
                         f"optimizers are {sorted(opts)} (or 'all').")
    return names


@keras.saving.register_keras_serializable(package="tfgenopt")
class LRFinder(keras.callbacks.Callback):
    """Run the learning-rate range test during ``fit`` and restore the model afterwards.

    Use :func:`lr_find` for the one-call version. The callback resets the model's metrics at each
    batch so the logged loss is the batch's own (not the epoch's running mean), stops training
    after ``steps`` batches or on divergence, and in ``on_train_end`` restores every variable of
    the model and of every optimizer bitwise, then stores ``self.result``
    (an :class:`LRFinderResult`).

    Args:
        min_lr: first learning rate (> 0).
        max_lr: last learning rate (> ``min_lr``).
        steps: number of batches of the sweep (>= 5).
        monitor: the batch ``logs`` key to follow; ``"auto"`` is ``"loss"`` for a plain model
            and ``"{name}_loss"`` of the first swept optimizer otherwise (``g_loss``, ``d_loss``).
        which: the optimizer(s) to sweep: ``"all"`` (or ``"both"``), a name (``"g"``, ``"d"``)
            or a list of names; the other optimizers keep their rate.
        beta: smoothing of the exponential moving average, in [0, 1).
        divergence: stop when the smoothed loss exceeds ``best + (divergence - 1) * |best|``.
        verbose: 1 shows a progress bar.

    Returns:
        A ``keras.callbacks.Callback``; ``result`` holds the sweep after training.

    Example:
        >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64)])
        >>> model.compile("adam", "mse")
        >>> finder = LRFinder(1e-5, 1.0, steps=20, verbose=0)
        >>> history = model.fit(x, x, batch_size=8, epochs=10, callbacks=[finder], verbose=0)
        >>> 1e-5 <= finder.result.suggestion <= 1.0
        True
    """

    def __init__(self, min_lr=1e-7, max_lr=10.0, steps=100, monitor="auto", which="all",
                 beta=0.98, divergence=4.0, verbose=0):
        super().__init__()
        self.min_lr = check_float("min_lr", min_lr, minimum=0.0, min_inclusive=False)
        self.max_lr = check_float("max_lr", max_lr, minimum=self.min_lr, min_inclusive=False)
        self.steps = check_int("steps", steps, minimum=5)
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"`monitor` must be a non-empty string; received {monitor!r}.")
        self.monitor = monitor
        if not (which is None or isinstance(which, str)
                or (isinstance(which, (list, tuple)) and all(isinstance(w, str) for w in which))):
            raise TypeError(f"`which` must be 'all', an optimizer name or a list of names; "
                            f"received {which!r}.")
        self.which = list(which) if isinstance(which, (list, tuple)) else which
        self.beta = check_float("beta", beta, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.divergence = check_float("divergence", divergence, minimum=1.0, min_inclusive=False)
        self.verbose = check_int("verbose", verbose, minimum=0)
        self.result = None

    def _lr_at(self, i):
        return self.min_lr * (self.max_lr / self.min_lr) ** (i / (self.steps - 1))

    def _variables(self):
        seen, out = set(), []
        groups = [self.model.variables] + [n.variables for n in
                                           protocol.networks(self.model).values()]
        groups += [o.variables for o in protocol.optimizers(self.model).values()]
        for group in groups:
            for v in group:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    def on_train_begin(self, logs=None):
        opts = protocol.optimizers(self.model)
        if not opts:
            raise ValueError("LRFinder needs a compiled model with an optimizer.")
        names = _choose(self.which, opts)
        scheduled = [n for n in names if has_schedule(opts[n])]
        if scheduled:
            raise ValueError(
                f"LRFinder cannot sweep optimizers {scheduled}: their learning rate is a "
                "LearningRateSchedule. Compile with a float learning rate for the range test.")
        self._names = names
        self._opts = {n: opts[n] for n in names}
        if self.monitor == "auto":
            self._key = "loss" if names == [""] else f"{names[0]}_loss"
        else:
            self._key = self.monitor
        self._snapshot = [(v, keras.ops.convert_to_numpy(v).copy()) for v in self._variables()]
        self._lrs, self._losses, self._smoothed = [], [], []
        self._avg, self._best, self._diverged, self._i = 0.0, math.inf, False, 0
        self._progbar = keras.utils.Progbar(self.steps, unit_name="step") if self.verbose else None
        for opt in self._opts.values():
            set_lr(opt, self._lr_at(0))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.reset_metrics()  # the logged loss becomes this batch's loss

    def on_train_batch_end(self, batch, logs=None):
        loss = read_value(logs, self._key)
        if loss is None:
            self.model.stop_training = True
            self._missing_logs = dict(logs or {})
            return
        i = self._i
        lr = self._lr_at(i)
        self._avg = self.beta * self._avg + (1.0 - self.beta) * loss
        smooth = self._avg / (1.0 - self.beta ** (i + 1))
        self._lrs.append(lr)
        self._losses.append(loss)
        self._smoothed.append(smooth)
        if math.isfinite(smooth):
            self._best = min(self._best, smooth)
        if self._progbar is not None:
            self._progbar.update(i + 1, [("lr", lr), ("loss", loss)])
        limit = self._best + (self.divergence - 1.0) * abs(self._best)
        if not math.isfinite(smooth) or (i > 0 and smooth > limit):
            self._diverged = True
            self.model.stop_training = True
            return
        self._i = i + 1
        if self._i >= self.steps:
            self.model.stop_training = True
            return
        for opt in self._opts.values():
            set_lr(opt, self._lr_at(self._i))

    def on_train_end(self, logs=None):
        for var, value in self._snapshot:
            var.assign(value)
        self._snapshot = []
        missing = getattr(self, "_missing_logs", None)
        if missing is not None:
            self._missing_logs = None
            raise ValueError(missing_key_message("LRFinder", self._key, missing)
                             + " Pass `monitor=` with one of the available keys.")
        lrs = np.asarray(self._lrs)
        smoothed = np.asarray(self._smoothed)
        steepest, min_div10 = suggest_lr(lrs, smoothed)
        self.result = LRFinderResult(lrs=lrs, losses=np.asarray(self._losses),
                                     smoothed=smoothed, steepest=steepest, min_div10=min_div10,
                                     monitor=self._key, optimizers=tuple(self._names),
                                     diverged=self._diverged)

    def get_config(self):
        return {"min_lr": self.min_lr, "max_lr": self.max_lr, "steps": self.steps,
                "monitor": self.monitor, "which": self.which, "beta": self.beta,
                "divergence": self.divergence, "verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _is_array(x):
    return isinstance(x, np.ndarray) or (hasattr(x, "shape") and hasattr(x, "dtype")
                                         and not hasattr(x, "element_spec"))


def lr_find(model, x, y=None, batch_size=32, min_lr=1e-7, max_lr=10.0, steps=100,
            monitor="auto", which="all", beta=0.98, divergence=4.0, verbose=1):
    """Run the learning-rate range test on a compiled model and return what it suggests.

    The model (weights, optimizer state and learning rates) is left exactly as it was.

    Args:
        model: a compiled ``keras.Model`` (an autoencoder, a VAE, a GAN, ...).
        x: training inputs: a NumPy array (or a tuple of them), or a ``tf.data.Dataset`` of
            batches (repeated as needed).
        y: targets for ``x`` when it is an array (an autoencoder: ``y=x``).
        batch_size: batch size for array inputs.
        min_lr, max_lr, steps, monitor, which, beta, divergence: see :class:`LRFinder`.
        verbose: 1 shows a progress bar.

    Returns:
        An :class:`LRFinderResult`: ``.suggestion`` (steepest descent), ``.min_div10``,
        ``.figure`` / ``.plot()``, and the curve.

    Example:
        >>> import keras, numpy as np, tfgenopt as tg
        >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
        >>> m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> m.compile(keras.optimizers.SGD(), "mse")
        >>> result = tg.lr_find(m, x, x.sum(1, keepdims=True), steps=50, verbose=0)
        >>> result.suggestion > 0
        True
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if not protocol.optimizers(model):
        raise ValueError("`model` must be compiled (it has no optimizer).")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    finder = LRFinder(min_lr=min_lr, max_lr=max_lr, steps=steps, monitor=monitor, which=which,
                      beta=beta, divergence=divergence, verbose=verbose)
    first = x[0] if isinstance(x, (tuple, list)) else x
    if _is_array(first):
        per_epoch = max(1, math.ceil(len(first) / batch_size))
        epochs = math.ceil(finder.steps / per_epoch) + 1
        model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=[finder], verbose=0)
    else:
        if y is not None:
            raise ValueError("`y` must be None when `x` is a dataset (it carries its targets).")
        data = x.repeat() if hasattr(x, "repeat") else x
        model.fit(data, epochs=1, steps_per_epoch=finder.steps + 1, callbacks=[finder],
                  shuffle=False, verbose=0)
    return finder.result

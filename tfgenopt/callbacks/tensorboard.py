"""``TensorBoard``: Keras' TensorBoard callback plus the toolkit's figures, numbers and recipe.

One writer route: :class:`TensorBoard` registers itself on the model while it trains
(:func:`summary_sink`); the drawing callbacks (``SampleGrid``, ``LossLandscape``) hand it their
grids, figures and spectra, wherever they sit in ``callbacks``. The class is named exactly
``TensorBoard``, so Keras Tuner moves it (and with it every figure) into each trial's folder.
"""

from __future__ import annotations

import copy
import io
import os

import keras
import numpy as np

from tfgenopt import _keras_adapter
from tfgenopt.models import protocol
from tfgenopt.plotting import landscape as landscape_plots
from tfgenopt.plotting.spectrum import plot_hessian_spectrum

__all__ = ["TensorBoard", "summary_sink", "recipe_hparams"]

_SINK = "_tfgenopt_summary_sink"


def summary_sink(model):
    """The :class:`TensorBoard` writing ``model``'s run now, or ``None``.

    Example:
        >>> summary_sink(keras.Sequential()) is None
        True
    """
    return getattr(model, _SINK, None)


def _flatten(prefix, value, out):
    if isinstance(value, dict):
        if "class_name" in value and isinstance(value.get("config"), dict):  # a serialized object
            out[f"{prefix}"] = str(value["class_name"])
            value = value["config"]
        for key, item in value.items():
            if key not in ("name", "module", "registered_name"):
                _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, (bool, int, float, str)):
        out[prefix] = value.item() if isinstance(value, np.generic) else value
    elif value is None:
        out[prefix] = "None"
    elif isinstance(value, (list, tuple)):
        out[prefix] = str(list(value))


def recipe_hparams(model, extra=None):
    """A run's recipe as flat HParams: the compile config, builder arguments, ``extra``.

    Args:
        model: a compiled model (GAN, VAE or plain ``keras.Model``).
        extra: more ``{name: value}`` pairs (``batch_size``, the trial's hyperparameters...).

    Returns:
        ``{name: bool | int | float | str}`` (nested configs joined with dots).

    Example:
        >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> m.compile(keras.optimizers.SGD(0.5), "mse")
        >>> h = recipe_hparams(m, {"batch_size": 8})
        >>> h["optimizer"], h["optimizer.learning_rate"], h["loss"], h["batch_size"]
        ('SGD', 0.5, 'mse', 8)
    """
    out = {}
    config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    for key, value in (config or {}).items():
        if key not in ("metrics", "weighted_metrics", "loss_weights", "run_eagerly"):
            _flatten(key, value, out)
    for name, net in protocol.networks(model).items():
        args = getattr(net, "builder_arguments", None)
        if isinstance(args, dict):
            _flatten(name, dict(args), out)
    batch = getattr(model, "fit_batch_size", None)
    if batch is not None:
        out["batch_size"] = int(batch)
    for key, value in (extra or {}).items():
        _flatten(str(key), value, out)
    return out


def _trial_callbacks(model):
    """Keras Tuner's HParams callbacks among the callbacks ``model.fit`` was given.

    tfgenopt's models record the callbacks of their ``fit`` (``model.fit_callbacks``); Keras
    Tuner appends one ``tensorboard.plugins.hparams.api.KerasCallback`` per moved
    ``TensorBoard`` to a trial's callbacks, so this is how a trial's values reach our session.
    """
    from tensorboard.plugins.hparams import api as hp

    return [cb for cb in getattr(model, "fit_callbacks", None) or ()
            if isinstance(cb, hp.KerasCallback) and _keras_adapter.hparams_of(cb) is not None]


def _skip(logs=None):
    return None


def _as_unit_range(images, value_range):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None, :, :, None]
    elif images.ndim == 3:
        images = images[..., None] if images.shape[-1] not in (1, 3, 4) else images[None]
    lo, hi = value_range if value_range is not None else (
        (-1.0, 1.0) if images.min() < 0 else (0.0, 1.0))
    return np.clip((images - lo) / (hi - lo), 0.0, 1.0)


@keras.saving.register_keras_serializable(package="tfgenopt")
class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' ``TensorBoard`` plus the toolkit's grids, figures, spectra, learning rates, recipe.

    A drop-in for ``keras.callbacks.TensorBoard`` (same arguments, same ``train/`` and
    ``validation/`` folders and ``epoch_*`` tags at step ``epoch``, 0-based) that also

    * writes the epoch's scalars after **every** callback of the epoch has run (at the next
      epoch's start or at the end of training), so keys written by callbacks listed after it
      (``QualityMonitor``'s ``val_kid``, ``LossLandscape``'s ``hessian_top``) are there;
    * logs every optimizer's learning rate (``epoch_d_lr``, ``epoch_g_lr``; ``epoch_lr``);
    * receives ``SampleGrid``'s grids (images, tag ``samples``), ``LossLandscape``'s figures
      (``landscape/...``) and Hessian spectra (histogram and figure) through
      :func:`summary_sink`, wherever those callbacks sit in ``callbacks``;
    * with ``hparams`` (default), writes one HParams session in ``log_dir``: the recipe
      (:func:`recipe_hparams`: compile config, builder arguments, batch size, plus a dict
      given as ``hparams``), and at the end the final values of ``hparam_metrics`` (default:
      the ``val_*`` quality keys and ``val_loss``) as scalars, which the dashboard lists.

    The class name is ``TensorBoard`` on purpose: Keras Tuner moves such a callback into
    ``log_dir/<trial_id>/execution<i>`` and adds its HParams session; this callback then merges
    the trial's hyperparameters into its one session (one session per trial).

    Args:
        log_dir: the run folder (created; a path that is a file is a ``ValueError``).
        hparams: ``True`` (the recipe), ``False`` (no session) or a dict added to the recipe.
        hparam_metrics: ``logs`` keys whose final values are the session's metrics.
        max_images: at most this many images per image summary.
        **kwargs: ``keras.callbacks.TensorBoard``'s arguments (``histogram_freq``...).

    Example:
        Not run as a doctest: it writes event files.

        >>> tb = tg.callbacks.TensorBoard("runs/tb")  # doctest: +SKIP
        >>> gan.fit(x, epochs=5, callbacks=[tb, tg.callbacks.SampleGrid(every=1),
        ...                                 tg.callbacks.QualityMonitor(x_val)])  # doctest: +SKIP
    """

    def __init__(self, log_dir="logs", hparams=True, hparam_metrics=None, max_images=16,
                 **kwargs):
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"`log_dir` must be a folder path; received {log_dir!r}.")
        if os.path.exists(log_dir) and not os.path.isdir(log_dir):
            raise ValueError(f"`log_dir` must be a folder; received {os.fspath(log_dir)!r}, "
                             "which is a file.")
        if not isinstance(hparams, (bool, dict)):
            raise TypeError(f"`hparams` must be True, False or a dict; received {hparams!r}.")
        if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
            raise ValueError(f"`max_images` must be an int >= 1; received {max_images!r}.")
        self._relocated = False
        super().__init__(log_dir=os.fspath(log_dir), **kwargs)
        self._kwargs = dict(kwargs)
        self.hparams = hparams
        self.hparam_metrics = None if hparam_metrics is None else tuple(hparam_metrics)
        self.max_images = max_images
        self._pending = None
        self._last_logs = {}

    @property
    def log_dir(self):
        """The run folder (Keras Tuner assigns each trial its own; then ``relocated``)."""
        return self._log_dir

    @log_dir.setter
    def log_dir(self, value):
        if getattr(self, "_log_dir", None) is not None and value != self._log_dir:
            self._relocated = True
        self._log_dir = value

    def __deepcopy__(self, memo):
        """Keras Tuner copies callbacks per trial: a copy has no model, writers or pending logs."""
        clone = type(self).from_config(copy.deepcopy(self.get_config(), memo))
        memo[id(self)] = clone
        return clone

    def get_config(self):
        return {"log_dir": self.log_dir, "hparams": self.hparams,
                "hparam_metrics": None if self.hparam_metrics is None else list(
                    self.hparam_metrics), "max_images": self.max_images, **self._kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------------ the sink
    def _writer(self, which):
        if which == "root":
            writers = _keras_adapter.tensorboard_writers(self)
            if "root" not in writers:
                writers["root"] = self.summary.create_file_writer(self.log_dir)
            return writers["root"]
        return _keras_adapter.tensorboard_writer(self, which)

    def image(self, tag, images, step, value_range=None, which="train"):
        """Write images (a batch, one image, or a grid in ``value_range``) mapped to [0, 1]."""
        data = _as_unit_range(images, value_range)
        with self._writer(which).as_default():
            self.summary.image(tag, data, step=int(step), max_outputs=self.max_images)

    def figure(self, tag, fig, step, which="train"):
        """Write a matplotlib ``Figure`` as an image summary (rendered to PNG)."""
        import tensorflow as tf

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        png = tf.image.decode_png(buffer.getvalue(), channels=4)
        with self._writer(which).as_default():
            self.summary.image(tag, png[None], step=int(step), max_outputs=1)

    def spectrum(self, tag, spectrum, step, samples=2000):
        """Write a Hessian spectrum as a histogram (its density's quantiles) and a figure."""

        grid, density = np.asarray(spectrum["grid"]), np.asarray(spectrum["density"])
        cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
        points = np.interp((np.arange(samples) + 0.5) / samples, cdf / cdf[-1], grid)
        with self._writer("train").as_default():
            self.summary.histogram(tag, points, step=int(step), buckets=60)
        self.figure(f"{tag}_density", plot_hessian_spectrum(spectrum, title=tag), step)

    def landscape(self, record, step, history=None):
        """Write one ``LossLandscape`` probe record (spectra, slices, surfaces, path angle) and
        the curvature figure of ``history`` (the records so far)."""

        if history and any(r["logs"] for r in history):
            self.figure("landscape/curvature", landscape_plots.plot_curvature(history), step)
        prefix = {"discriminator": "d_", "generator": "g_"}
        for name, spectrum in (record.get("spectra") or {}).items():
            self.spectrum(f"landscape/{prefix.get(name, '')}hessian_spectrum", spectrum, step)
        for name, result in record.get("slices", {}).items():
            self.figure(f"landscape/slice_{name}", landscape_plots.plot_slices(result, title=name), step)
        for name, surface in record.get("surfaces", {}).items():
            self.figure(f"landscape/surface_{name}", landscape_plots.plot_surface(surface, title=name), step)
        if record.get("path_angle") is not None:
            self.figure("landscape/path_angle", landscape_plots.plot_path_angle(record["path_angle"]), step)

    def scalar(self, tag, value, step, which="train"):
        """Write one scalar now."""
        with self._writer(which).as_default():
            self.summary.scalar(tag, float(value), step=int(step))

    # ------------------------------------------------------------------ keras hooks
    def set_model(self, model):
        if os.path.exists(self.log_dir) and not os.path.isdir(self.log_dir):
            raise ValueError(f"`log_dir` must be a folder; received {self.log_dir!r}, "
                             "which is a file.")
        super().set_model(model)

    def _collect_learning_rate(self, logs):
        for name, opt in protocol.optimizers(self.model).items():
            inner = getattr(opt, "inner_optimizer", opt)
            try:
                logs[protocol.lr_log_key(name)] = float(
                    keras.ops.convert_to_numpy(inner.learning_rate))
            except (AttributeError, TypeError, ValueError):
                continue
        return logs

    def on_train_begin(self, logs=None):
        setattr(self.model, _SINK, self)
        self._pending, self._last_logs = None, {}
        super().on_train_begin(logs)
        if self.hparams is not False:
            self._write_session()

    def _write_session(self):
        from tensorboard.plugins.hparams import api as hp

        extra = dict(self.hparams) if isinstance(self.hparams, dict) else {}
        trial_id = None
        trial = _trial_callbacks(self.model)
        if not trial and self._relocated:
            # Moved into a trial folder by Keras Tuner, whose HParams callback (not visible to a
            # plain Keras model's fit) writes the trial's session: one session per trial.
            return
        for cb in trial:  # the HParams callback Keras Tuner adds to a trial
            extra.update({getattr(k, "name", k): v
                          for k, v in _keras_adapter.hparams_of(cb).items()})
            trial_id = _keras_adapter.hparams_trial_id(cb)
            # One session per trial: ours, with the trial's values merged in (its callback
            # still writes the session's end).
            cb.on_train_begin = _skip
        values = recipe_hparams(self.model, extra)
        with self._writer("root").as_default():
            hp.hparams(values, trial_id=trial_id)
        self._writer("root").flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._flush()
        super().on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        # ``logs`` is the dict every callback of this epoch shares; later ones still add to it.
        self._pending = (epoch, logs if logs is not None else {})

    def _flush(self):
        if self._pending is not None:
            epoch, logs = self._pending
            self._pending = None
            self._last_logs = dict(logs)
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        self._flush()
        if self.hparams is not False and self._last_logs:
            keys = self.hparam_metrics or [k for k in self._last_logs if k.startswith("val_")]
            with self._writer("root").as_default():
                for key in keys:
                    if key in self._last_logs:
                        self.summary.scalar(key, float(self._last_logs[key]), step=0)
        if summary_sink(self.model) is self:
            setattr(self.model, _SINK, None)
        super().on_train_end(logs)

"""SampleGrid: a PNG grid of generated or reconstructed images every N epochs."""

from __future__ import annotations

import os

import keras
import numpy as np

from tfgenopt import catalog
from tfgenopt._keras_adapter import CALLBACK_MODEL
from tfgenopt._validation import check_array, check_choice, check_int, check_value_range
from tfgenopt.callbacks._copy import deepcopy_sharing
from tfgenopt.callbacks.tensorboard import summary_sink
from tfgenopt.models import protocol
from tfgenopt.plotting.training import image_grid_array

__all__ = ["SampleGrid"]


def _save_png(path, grid):
    """Write a ``(H, W, c)`` array in [0, 1] as an H x W pixel 8-bit PNG (values rounded)."""
    import matplotlib.image

    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    pixels = np.round(np.clip(grid, 0.0, 1.0) * 255.0).astype(np.uint8)
    if pixels.shape[-1] == 1:  # grey as RGB: exact 8-bit values, no colormap quantization
        pixels = np.repeat(pixels, 3, axis=-1)
    matplotlib.image.imsave(path, pixels)
    return path


@keras.saving.register_keras_serializable(package="tfgenopt")
class SampleGrid(keras.callbacks.Callback):
    """Save a grid of images from a fixed noise or input batch every ``every`` epochs.

    GANs and VAEs: ``model.generate(n, seed=seed)`` (or, for a keras.io-style model, its
    ``generator`` / ``decoder`` attribute on normal noise, or ``sample_fn``: see
    ``tfgenopt.models.protocol.sampler``), the same latent codes every time, so successive grids show the model changing. Autoencoders (or
    ``mode="reconstruct"``): the fixed ``inputs`` on the first rows and their reconstructions
    (``model.reconstruct`` when present, else ``model.predict``) on the following rows. Each grid
    is a PNG of exactly ``image_grid_array``'s pixel size (one image pixel per PNG pixel:
    ``rows * (h + pad) + pad`` by ``cols * (w + pad) + pad``), named
    ``{prefix}_epoch{epoch:04d}.png`` (epochs from 1) in ``out_dir``; with ``tensorboard_dir``
    it is also written as a ``tf.summary.image`` (and so it is, at step ``epoch`` counted from 0,
    to a ``tfgenopt.callbacks.TensorBoard`` of the run, tag ``prefix``); with ``strip=True`` all grids of the run are
    stacked into one ``{prefix}_strip.png`` at the end (the evolution in one picture).

    Args:
        every: save at the end of epochs ``every``, ``2 * every``, ... (counted from 1) and of
            the last epoch (``tfgenopt.catalog.due_at_epoch_end``).
        n: images per grid (reconstruct mode: at most ``len(inputs)``).
        out_dir: folder of the PNGs (created); ``None`` keeps the grids in memory only.
        seed: seed of the fixed latent batch.
        inputs: the fixed input batch for reconstructions (autoencoders).
        mode: ``"auto"`` (generate when the model can and no ``inputs`` are given),
            ``"generate"`` or ``"reconstruct"``.
        ncols: grid columns (default ``ceil(sqrt(n))``; reconstruct: ``n``).
        value_range: the images' value range (default: [-1, 1] if any value < 0 else [0, 1]).
        tensorboard_dir: also log the grid as an image summary there.
        strip: save the stacked strip of all grids at the end of training.
        prefix: file name prefix.
        sample_fn: a callable ``fn(n, seed)`` returning ``n`` samples (generate mode), for a
            model ``protocol.sampler`` cannot sample by itself.

    Returns:
        A ``keras.callbacks.Callback``; ``grids`` holds ``(epoch, grid array)`` of the run and
        ``paths`` the files written.

    Example:
        >>> cb = SampleGrid(every=2, n=16, out_dir="samples", seed=0)
        >>> history = gan.fit(x, epochs=3, verbose=0, callbacks=[cb])
        >>> [os.path.basename(p) for p in cb.paths]  # epochs 2 and 3 (the last)
        ['samples_epoch0002.png', 'samples_epoch0003.png']
    """

    def __init__(self, every=1, n=16, out_dir=None, seed=0, inputs=None, mode="auto", ncols=None,
                 value_range=None, tensorboard_dir=None, strip=False, prefix="samples",
                 sample_fn=None):
        super().__init__()
        self.sample_fn = protocol.check_sample_fn(sample_fn)
        self.every = check_int("every", every, minimum=1)
        self.n = check_int("n", n, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.mode = check_choice("mode", mode, ("auto", "generate", "reconstruct"))
        self.inputs = None if inputs is None else check_array("inputs", inputs, min_ndim=2)
        if self.mode == "reconstruct" and self.inputs is None:
            raise ValueError("`mode='reconstruct'` needs `inputs` (the fixed batch to "
                             "reconstruct); received inputs=None.")
        self.ncols = None if ncols is None else check_int("ncols", ncols, minimum=1)
        self.value_range = (None if value_range is None
                            else check_value_range("value_range", value_range))
        for name, value in (("out_dir", out_dir), ("tensorboard_dir", tensorboard_dir)):
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise TypeError(f"`{name}` must be a path or None; received {value!r}.")
        self.out_dir = None if out_dir is None else os.fspath(out_dir)
        self.tensorboard_dir = None if tensorboard_dir is None else os.fspath(tensorboard_dir)
        if not isinstance(strip, bool):
            raise TypeError(f"`strip` must be a bool; received {strip!r}.")
        self.strip = strip
        if not isinstance(prefix, str) or not prefix:
            raise TypeError(f"`prefix` must be a non-empty string; received {prefix!r}.")
        self.prefix = prefix
        self.grids, self.paths = [], []
        self._writer = None

    def __deepcopy__(self, memo):
        """Deep copies (Keras Tuner) share the input batch and never carry a summary writer."""
        return deepcopy_sharing(self, memo, shared=("inputs", CALLBACK_MODEL, "sample_fn"),
                                dropped=("_writer",))

    def _resolved_mode(self):
        if self.mode != "auto":
            return self.mode
        if self.inputs is None:
            try:
                protocol.sampler(self.model, self.sample_fn, "SampleGrid")
            except TypeError as e:
                raise ValueError(f"{e} Or give `inputs=` (a fixed batch) to show "
                                 "reconstructions instead.") from None
            return "generate"
        return "reconstruct"

    def on_train_begin(self, logs=None):
        if self.out_dir is not None:  # an unwritable folder fails before the first step
            os.makedirs(self.out_dir, exist_ok=True)
        self.grids, self.paths = [], []
        self._active_mode = self._resolved_mode()
        if self._active_mode == "generate":
            try:
                self._sample = protocol.sampler(self.model, self.sample_fn,
                                                "SampleGrid(mode='generate')")
            except TypeError as e:
                raise ValueError(str(e)) from None
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(self.tensorboard_dir)

    def images(self):
        """The images of one grid now (generated, or inputs followed by reconstructions)."""
        if self._active_mode == "generate":
            return self._sample(self.n, seed=self.seed)
        x = self.inputs[: self.n]
        fn = getattr(self.model, "reconstruct", None)
        recon = fn(x) if callable(fn) else self.model.predict(x, verbose=0)
        recon = np.asarray(keras.ops.convert_to_numpy(recon)).reshape(x.shape)
        return np.concatenate([x.astype(np.float32), recon.astype(np.float32)], axis=0)

    def grid(self):
        """The current grid as an ``(H, W, c)`` float array in [0, 1]."""
        images = self.images()
        ncols = self.ncols
        if ncols is None and self._active_mode == "reconstruct":
            ncols = min(self.n, len(self.inputs))
        return image_grid_array(images, ncols=ncols, value_range=self.value_range)

    def _write(self, epoch):
        grid = self.grid()
        self.grids.append((epoch + 1, grid))
        if self.out_dir is not None:
            path = os.path.join(self.out_dir, f"{self.prefix}_epoch{epoch + 1:04d}.png")
            self.paths.append(_save_png(path, grid))
        sink = summary_sink(self.model)  # a tfgenopt.callbacks.TensorBoard in the run
        if sink is not None:
            sink.image(self.prefix, grid, epoch, value_range=(0.0, 1.0))
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default():
                tf.summary.image(self.prefix, grid[None], step=epoch + 1)
            self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if isinstance(self.params, dict) else None
        if catalog.due_at_epoch_end(epoch, self.every, last):
            self._write(epoch)

    def on_train_end(self, logs=None):
        if self.strip and self.grids and self.out_dir is not None:
            path = os.path.join(self.out_dir, f"{self.prefix}_strip.png")
            self.paths.append(_save_png(path, self.strip_array()))
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def strip_array(self):
        """All grids of the run stacked top to bottom (separated by a 2-pixel white line)."""
        if not self.grids:
            raise ValueError("No grids yet: SampleGrid has not run.")
        rows = []
        for i, (_, grid) in enumerate(self.grids):
            if i:
                rows.append(np.ones((2,) + grid.shape[1:], dtype=grid.dtype))
            rows.append(grid)
        return np.concatenate(rows, axis=0)

    def get_config(self):
        if self.sample_fn is not None:
            raise ValueError("SampleGrid.get_config() cannot carry `sample_fn` (a callable).")
        return {"every": self.every, "n": self.n, "out_dir": self.out_dir, "seed": self.seed,
                "mode": self.mode, "ncols": self.ncols, "value_range": self.value_range,
                "tensorboard_dir": self.tensorboard_dir, "strip": self.strip,
                "prefix": self.prefix}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

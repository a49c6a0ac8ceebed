"""The demo's sections as functions: each runs one part and returns its figures and summary.

A :class:`Section` carries what one part of the run produced: its ``summary`` (for
``summary.json``), its report entry (title, text, figures with captions, a gallery of sample
grids, a small table) and its time. :func:`data_section` takes any image arrays with their
metadata, so the same report serves the bundled digits and a folder of the user's own images.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from tfgenopt import builders, callbacks, models, plotting, tuning
from tfgenopt.callbacks.samples import _save_png
from tfgenopt.plotting import image_grid_array
from tfgenopt.report import describe_data

__all__ = ["Section", "RunDir", "data_section", "lr_find_section", "autoencoder_vae_section",
           "optimizer_section", "save_grid"]


@dataclasses.dataclass
class Section:
    """One part of a run: its summary entry and its report entry.

    Attributes:
        key: the ``summary.json`` key of ``summary``.
        title, text: the report's heading and paragraph.
        summary: the JSON-able numbers of this part.
        figures: ``[{"path", "caption"}]``, paths relative to the run directory.
        gallery: ``[{"path", "label"}]``: small multiples side by side (sample grids).
        table: a few row dicts; ``table_caption`` says how to read them.
        run: the run record of the main run (:func:`tfgenopt.report.run_record`), if any.
        headline_images: ``[{"path", "label"}]`` shown beside the headline.
        seconds: wall-clock time of the part.
        nav: a short title for the page's table of contents.
    """

    key: str
    title: str
    summary: dict
    text: str = ""
    figures: list = dataclasses.field(default_factory=list)
    gallery: list = dataclasses.field(default_factory=list)
    gallery_caption: str = ""
    table: list = dataclasses.field(default_factory=list)
    table_caption: str = ""
    run: dict | None = None
    headline_images: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    nav: str = ""

    def report(self):
        """The entry of ``summary["sections"]`` that :func:`tfgenopt.report.build_report` draws."""
        entry = {"title": self.title, "nav": self.nav, "text": self.text, "figures": self.figures,
                 "gallery": self.gallery, "gallery_caption": self.gallery_caption,
                 "table": self.table, "table_caption": self.table_caption}
        return {k: v for k, v in entry.items() if v}


@dataclasses.dataclass
class RunDir:
    """Where a run writes (``out``), its seed and speed (``quick``), and how it talks."""

    out: str
    seed: int = 0
    quick: bool = False
    verbose: int = 1

    def say(self, *args):
        if self.verbose:
            print(*args)

    def save(self, fig, name, caption):
        """Save a matplotlib figure as ``out/name``; return its report entry."""
        plotting.save_figure(fig, os.path.join(self.out, name))
        return {"path": name, "caption": caption}


def save_grid(path, images, value_range=None, ncols=None):
    """Save ``images`` as a pixel-exact PNG grid (one image pixel per PNG pixel); return ``path``."""
    return _save_png(path, image_grid_array(images, ncols=ncols, value_range=value_range))


def data_section(run, x_train, x_val, name, image_shape=None, num_classes=None,
                 value_range=None):
    """Describe the data (counts, image shape, classes) and save a grid of real images.

    Args:
        run: the :class:`RunDir`.
        x_train, x_val: image arrays, ``(n, h, w, c)`` or flat ``(n, h*w)`` (grey, square).
        name: the data's name (``"digits"``, a folder name...).
        image_shape: ``(h, w, c)`` of one image (default: from the arrays).
        num_classes: the class count, if the data has classes.
        value_range: the pixel range (default: the arrays' min and max).

    Returns:
        A :class:`Section`; ``summary["description"]`` is the headline's data line and
        ``headline_images`` holds the grid of real images.
    """
    x_val = np.asarray(x_val)
    if image_shape is None:
        shape = x_val.shape[1:]
        side = int(round(np.sqrt(shape[0]))) if len(shape) == 1 else None
        image_shape = (side, side, 1) if side else tuple(shape) + (1,) * (3 - len(shape))
    image_shape = tuple(int(s) for s in image_shape)
    if value_range is None:
        value_range = (float(np.min(x_val)), float(np.max(x_val)))
    real = x_val[:36].reshape((-1,) + image_shape)
    grid = save_grid(os.path.join(run.out, "data_samples.png"), real, value_range=value_range)
    description = describe_data(name, len(x_train), len(x_val), image_shape, num_classes)
    summary = {"name": name, "n_train": int(len(x_train)), "n_val": int(len(x_val)),
               "image_shape": list(image_shape), "channels": image_shape[-1],
               "num_classes": num_classes, "value_range": list(value_range),
               "description": description}
    return Section("data", "Data", summary, nav="data", text=description + ".",
                   headline_images=[{"path": os.path.relpath(grid, run.out),
                                     "label": "real images"}])


def lr_find_section(run, x_train, dim):
    """The LR range test on the dense autoencoder; its ``summary["used_lr"]`` feeds the rest."""
    import keras

    t0 = time.perf_counter()
    run.say("[1/5] LR range test on the dense autoencoder")
    ae = builders.dense_autoencoder(dim, seed=run.seed)
    ae.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    found = callbacks.lr_find(ae, x_train, x_train, batch_size=64, min_lr=1e-5, max_lr=1.0,
                              steps=40 if run.quick else 100, verbose=0)
    used = float(np.clip(found.suggestion, 1e-4, 1e-2))
    summary = {"suggested_lr": float(found.suggestion), "min_div10": float(found.min_div10),
               "used_lr": used, "diverged": bool(found.diverged)}
    return Section(
        "lr_find", "Learning-rate range test (autoencoder)", summary, nav="LR range test",
        text=f"Suggested {found.suggestion:.2g} (steepest descent of the smoothed loss); "
             f"minimum/10 {found.min_div10:.2g}; the autoencoder below uses {used:.2g} "
             "(the suggestion clipped to [1e-4, 1e-2]).",
        figures=[run.save(found.plot(), "lr_find.png",
                          "Loss while the learning rate grows each step. A good rate sits on "
                          "the steep descent, well before the loss turns up.")],
        seconds=time.perf_counter() - t0)


def _curves(history, keys):
    return {k: [float(v) for v in history[k]] for k in keys if k in history}


def autoencoder_vae_section(run, x_train, x_val, lr, epochs):
    """The classic dense autoencoder (at ``lr``) and a VAE, each with early stopping."""
    import keras

    t0 = time.perf_counter()
    run.say("[3/5] dense autoencoder and VAE with early stopping")
    dim, seed = x_train.shape[1], run.seed
    ae = builders.dense_autoencoder(dim, seed=seed)
    ae.compile(keras.optimizers.Adam(lr), "binary_crossentropy")
    ae_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    ae_hist = ae.fit(x_train, x_train, validation_data=(x_val, x_val), epochs=epochs,
                     batch_size=64, callbacks=[ae_stop], verbose=0).history
    vae = models.VAE(builders.vae_encoder(dim, latent_dim=8, seed=seed),
                     builders.vae_decoder(8, dim, seed=seed), seed=seed)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    vae_hist = vae.fit(x_train, validation_data=(x_val,), epochs=epochs, batch_size=64,
                       callbacks=[callbacks.KLWarmup(0.0, 1.0, epochs=max(1, epochs // 4)),
                                  vae_stop], verbose=0).history
    recon = np.concatenate([x_val[:8], ae.predict(x_val[:8], verbose=0)])
    summary = {
        "autoencoder": {"epochs_run": len(ae_hist["loss"]), "lr": lr,
                        "best_val_loss": float(min(ae_hist["val_loss"])),
                        "stop_reason": ae_stop.stopped_reason or "budget",
                        "curves": _curves(ae_hist, ["loss", "val_loss"])},
        "vae": {"epochs_run": len(vae_hist["loss"]),
                "best_val_loss": float(min(vae_hist["val_loss"])),
                "stop_reason": vae_stop.stopped_reason or "budget",
                "curves": _curves(vae_hist, ["loss", "val_loss", "kl_loss",
                                             "reconstruction_loss", "beta"])}}
    a, v = summary["autoencoder"], summary["vae"]
    figures = [
        run.save(plotting.plot_history(ae_hist, keys=["loss"], title="autoencoder"),
                 "ae_losses.png", "Autoencoder loss; dashed: validation. A validation curve "
                 "that turns up while training goes down is overfitting."),
        run.save(plotting.plot_image_grid(recon, ncols=8, scale=0.1,
                                          title="inputs / reconstructions"),
                 "ae_reconstructions.png", "Top row: validation images; bottom row: their "
                 "reconstructions. Blur means the bottleneck drops detail."),
        run.save(plotting.plot_history(vae_hist, keys=["loss", "kl_loss"], title="VAE"),
                 "vae_losses.png", "VAE loss (ELBO) and its KL term; the KL warm-up raises "
                 "beta from 0 to 1 over the first quarter of the epochs."),
        run.save(plotting.plot_image_grid(vae.generate(36, seed=seed), scale=0.12,
                                          title="VAE samples"), "vae_samples.png",
                 "VAE samples from the prior: expect blurrier but more varied than the GAN's.")]
    return Section("autoencoder_vae", "Autoencoder and VAE", summary, nav="autoencoder, VAE",
                   text=f"Autoencoder best val_loss {a['best_val_loss']:.3g} "
                        f"({a['epochs_run']} epochs, {a['stop_reason']}); VAE best val_loss "
                        f"{v['best_val_loss']:.3g} ({v['epochs_run']} epochs, "
                        f"{v['stop_reason']}).",
                   figures=figures, seconds=time.perf_counter() - t0)


def optimizer_section(run, x_train, x_val, epochs):
    """SGD, Adam, RMSprop and Adagrad on the same autoencoder, start and batches."""
    t0 = time.perf_counter()
    run.say("[4/5] optimizer comparison (SGD, Adam, RMSprop, Adagrad) on the autoencoder")
    dim = x_train.shape[1]
    histories, fig = tuning.compare_optimizers(
        lambda: builders.dense_autoencoder(dim, seed=run.seed), x_train, validation_data=x_val,
        loss="binary_crossentropy", epochs=epochs, batch_size=64, seed=run.seed, verbose=0)
    last = {name: {"final_val_loss": float(h["val_loss"][-1]) if h.get("val_loss") else None,
                   "final_loss": float(h["loss"][-1]) if h.get("loss") else None}
            for name, h in histories.items()}
    return Section(
        "optimizer_comparison", "Optimizer comparison (same model, same start, same batches)",
        last, nav="optimizers", figures=[run.save(fig, "optimizers.png",
                                "Training and validation loss per optimizer at its default "
                                "learning rate: the lowest validation curve wins.")],
        table=[{"optimizer": k, "final loss": v["final_loss"],
                "final val_loss": v["final_val_loss"]} for k, v in last.items()],
        seconds=time.perf_counter() - t0)

"""``tfgenopt train diffusion``: the default diffusion recipe on a dataset or an image folder.

The model is :func:`tfgenopt.recommended.recipe_diffusion` (a U-Net in
``tfgenopt.models.Diffusion`` with ``Diffusion.compile()``'s default recipe); the run is
watched as ``train gan`` is (:func:`tfgenopt.cli.watchers.quality_watchers`: a QualityMonitor,
early stopping on smoothed ``val_kid``, never on the loss, sample grids) and ends with the same
files and report (:func:`tfgenopt.cli.images.finish_image_run`).
"""

from __future__ import annotations

import time

import numpy as np

from tfgenopt._io import make_dir
from tfgenopt.cli.images import finish_image_run
from tfgenopt.cli.watchers import quality_watchers
from tfgenopt.diffusion import samplers
from tfgenopt.recommended import recipe_diffusion, unet_widths
from tfgenopt.training_images import RANGE, load_images_or_dataset

__all__ = ["train_diffusion"]


def train_diffusion(dataset="digits", images=None, image_size=32, seed=0, epochs=10,
                    batch_size=64, optimizer=None, lr=None, loss=None, ema=None, patience=None,
                    out="runs/train", verbose=1, background="white", widths=None,
                    extractor=None, **_ignored):
    """Train the default diffusion recipe on images; save the model, samples, curves, report.

    Args:
        dataset: a bundled / cached dataset (``tfgenopt.data.load``), unless ``images``.
        images: a folder of images (one subfolder per class, or images directly); quality is
            then measured on a domain extractor trained on its held-out images.
        image_size: image side in pixels (32: the U-Net's default widths need sides divisible
            by 8; other sizes get the default widths cut to fit, see
            :func:`tfgenopt.recommended.unet_widths`).
        seed: seed of the split, the weights, the noise and the samples.
        epochs, batch_size: the budget.
        optimizer, lr, loss, ema: overrides of ``Diffusion.compile()``'s recipe (None: the
            default; ``ema=0`` turns the EMA network off).
        patience: early-stopping patience on ``val_kid`` (None: ``max(4 * every, 10)``).
        out: output folder (``model.keras``, ``history.json``, ``samples/``, ``samples.png``,
            ``quality.png``, ``curves.png``, ``report.html`` with ``summary.json``).
        verbose: 0 silent, 1 or 2 Keras' line per epoch.
        background: with ``images``: where transparent pixels go (a colour).
        widths: the U-Net's widths (None: the builder's default, cut to fit ``image_size``).
        extractor: the quality feature extractor (None: the dataset's classifier, or
            ``"domain"`` for a folder).

    Returns:
        A JSON-able dict (``monitor``, ``best_val_kid``, ``epochs_run``, ``stop_reason``,
        ``sampler``, ``steps``, ``evaluations``, ``report``, ``out``...).

    Example:
        Not run as a doctest: it trains a U-Net (tests/test_commands_diffusion.py runs it).

        >>> train_diffusion("digits", image_size=32, epochs=20)  # doctest: +SKIP
    """
    if isinstance(background, str) and background.lower() == "keep":
        raise ValueError("`background` (--background) must be a colour for the U-Net on 1 or 3 "
                         "channels; received 'keep'.")
    d = load_images_or_dataset(dataset, images, image_size, seed, batch_size, background,
                               verbose)
    model = recipe_diffusion(d["shape"], optimizer=optimizer, lr=lr, loss=loss, ema=ema,
                             widths=widths, value_range=RANGE, seed=seed)
    make_dir(out, "--out")
    x_val, y_val = d["x_val"], d["y_val"]
    labelled = y_val is not None
    quality, stopper, grids = quality_watchers(
        (x_val, y_val) if labelled else x_val, epochs, patience, out, seed,
        extractor if extractor is not None else d["extractor"], verbose,
        metrics=("fid", "kid", "coverage") if labelled else ("fid", "kid"), value_range=RANGE)
    fit_args = {} if images is not None else {"batch_size": batch_size}
    started = time.perf_counter()
    history = model.fit(d["train"], epochs=epochs, callbacks=[quality, stopper, grids],
                        verbose=2 if verbose else 0, **fit_args)
    wall = time.perf_counter() - started
    sampler, steps = model.recipe.sampling()
    page = finish_image_run(
        out, model, history, quality, stopper, grids, wall, epochs, x_val, d["data"],
        d["num_classes"], f"tfgenopt train diffusion: {d['source']}", keys=["loss"],
        class_names=d["class_names"], value_range=RANGE, seed=seed,
        extractor_text=("the domain extractor trained on the held-out images"
                        if d["extractor"] == "domain" else f"the {d['extractor']} classifier")
        + f", samples drawn with {sampler} in {samplers.evaluations(sampler, steps)} network "
          "evaluations")
    kid = quality.history.get("val_kid") or [float("nan")]
    return {"source": d["source"], "image_shape": list(d["shape"]),
            "widths": list(unet_widths(d["shape"], widths)),
            "monitor": stopper.monitor, "best_val_kid": float(np.nanmin(kid)),
            "epochs_run": len(history.history["loss"]), "wall_s": round(wall, 1),
            "stop_reason": getattr(model, "stop_reason", None) or stopper.stopped_reason,
            "sampler": sampler, "steps": int(steps),
            "evaluations": samplers.evaluations(sampler, steps), "report": page, "out": out}

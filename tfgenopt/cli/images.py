"""``tfgenopt train gan --images DIR`` and ``tfgenopt demo --images DIR``: a DCGAN on a folder.

The folder is read with ``tfgenopt.data.load_images`` (class subfolders give labels, used for
the quality extractor and coverage; the GAN itself is unconditional), the model is the DCGAN
builders at ``(image_size, image_size, channels)`` with ``GAN.compile()``'s default recipe, and
quality is measured on the *domain* extractor trained on the validation images
(``QualityMonitor(extractor="domain")``), with early stopping on ``val_kid``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from tfgenopt import builders, plotting, report
from tfgenopt._io import atomic_path, make_dir
from tfgenopt.builders.conv import SUPPORTED_IMAGE_SIZES
from tfgenopt.cli.watchers import quality_watchers
from tfgenopt.evaluation import check_extractor
from tfgenopt.recommended import recipe_gan
from tfgenopt.training_images import load_folder

__all__ = ["train_gan_images", "demo_images", "finish_image_run"]


def _check_size(image_size):
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"`image_size` (--image-size) must be one of {SUPPORTED_IMAGE_SIZES} "
                         f"for the DCGAN builders with --images; received {image_size!r}.")


def train_gan_images(images, image_size=32, seed=0, epochs=10, batch_size=64, optimizer=None,
                     lr=None, loss=None, ema=None, latent_dim=None, patience=None,
                     out="runs/train", verbose=1, background="white", **_ignored):
    """Train the default DCGAN recipe on an image folder; save the model, curves, samples, report.

    Args:
        images: the folder (one subfolder per class, or images directly).
        image_size: side the images are resized to: 8, 16, 28, 32 or 64.
        seed: seed of the split, the shuffle, the weights and the noise.
        epochs, batch_size: the budget.
        optimizer, lr, loss, ema, latent_dim: overrides of ``GAN.compile()``'s recipe, as for
            ``train gan`` on a dataset (:func:`tfgenopt.recommended.recipe_gan`; None: the default).
        patience: early-stopping patience on ``val_kid`` (None: ``max(4 * every, 10)``).
        out: output folder (``model.keras``, ``history.json``, ``samples.png``, ``quality.png``,
            ``curves.png``, ``report.html`` with ``summary.json``).
        verbose: 0 silent, 1 or 2 Keras' line per epoch (and load_images' conversion line).
        background: where transparent pixels go (``load_images``' ``background``: a colour name
            or an ``(r, g, b)`` tuple; not ``"keep"``, the DCGAN trains on 1 or 3 channels).

    Returns:
        A JSON-able dict (``best_val_kid``, ``epochs_run``, ``stop_reason``, ``report``, ``out``,
        ...).

    Example:
        Not run as a doctest: it needs an image folder and trains a GAN (tests/test_cli_images.py runs it).

        >>> train_gan_images("my_images", image_size=32, epochs=1)  # doctest: +SKIP
    """
    _check_size(image_size)
    if isinstance(background, str) and background.lower() == "keep":
        raise ValueError("`background` (--background) must be a colour for the DCGAN on 1 or 3 "
                         "channels; received 'keep'.")
    folder = load_folder(images, image_size, seed, batch_size, background, verbose)
    x_val, y_val = folder["x_val"], folder["y_val"]
    make_dir(out, "--out")
    shape = folder["shape"]
    latent = latent_dim or 100
    model = recipe_gan(builders.dcgan_generator(latent, shape, seed=seed),
                       builders.dcgan_discriminator(shape, seed=seed + 1), latent,
                       optimizer=optimizer, lr=lr, loss=loss, ema=ema, seed=seed)
    labelled = folder["labelled"]
    quality, stopper, grids = quality_watchers(
        (x_val, y_val) if labelled else x_val, epochs, patience, out, seed, "domain", verbose,
        metrics=("fid", "kid", "coverage") if labelled else ("fid", "kid"),
        value_range=(-1.0, 1.0))
    started = time.perf_counter()
    history = model.fit(folder["train"], epochs=epochs, callbacks=[quality, stopper, grids],
                        verbose=2 if verbose else 0)
    wall = time.perf_counter() - started
    page = finish_image_run(out, model, history, quality, stopper, grids, wall, epochs,
                            x_val, folder["data"], folder["num_classes"],
                            f"tfgenopt train gan --images {folder['images']}",
                            keys=["d_loss", "g_loss"], class_names=folder["class_names"],
                            seed=seed, extractor_text="the domain extractor trained on the "
                            "held-out images")
    kid = quality.history.get("val_kid") or [float("nan")]
    return {"images": folder["images"], "image_shape": list(shape), "labelled": labelled,
            "n_val": int(len(x_val)), "best_val_kid": float(np.nanmin(kid)),
            "epochs_run": len(history.history["d_loss"]), "wall_s": round(wall, 1),
            "stop_reason": getattr(model, "stop_reason", None), "report": page, "out": out,
            "_x_val": x_val, "_y_val": y_val}


def finish_image_run(out, model, history, quality, stopper, grids, wall, epochs, x_val, data,
                     num_classes, title, keys, class_names=None, value_range=(-1.0, 1.0),
                     seed=0, extractor_text="the quality extractor"):
    """Save a finished image run: model, history, samples, curves, quality and the report.

    Writes ``model.keras``, ``history.json``, ``samples.png`` (the final, restored model's
    samples), ``curves.png`` (the loss ``keys``), ``quality.png`` and ``report.html`` with
    ``summary.json`` (the verdict headline), as ``train gan --images`` and ``train diffusion``
    do.

    Returns:
        The path of ``report.html``.

    Example:
        Not run as a doctest: it needs a trained model and its callbacks (tests/test_cli_images.py).

        >>> finish_image_run(out, model, history, quality, stopper, grids, 12.0, 10, x_val,
        ...                  "digits", 10, "my run", keys=["loss"])  # doctest: +SKIP
    """
    with atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    whole = report.write_history(out, history.history)
    low, high = value_range
    samples = (model.generate(36, seed=seed) - low) / (high - low)
    plotting.save_figure(plotting.plot_image_grid(samples, value_range=(0, 1),
                                                  title="final samples"),
                         os.path.join(out, "samples.png"))
    plotting.save_figure(plotting.plot_history(whole, keys=keys, title=type(model).__name__),
                         os.path.join(out, "curves.png"))
    figures = []
    if quality.history:
        plotting.save_figure(plotting.plot_quality(quality, title="sample quality"),
                             os.path.join(out, "quality.png"))
        figures.append({"path": "quality.png", "caption": f"FID and KID of the samples on "
                        f"{extractor_text} (lower is better); the red star marks the best "
                        "epoch, the one early stopping restores."})
    figures.append({"path": "curves.png", "caption": "Training losses per epoch."})
    rarest = None
    if quality.class_shares:  # the last measurement, with the class names when known
        rarest = [dict(r, **{"class": class_names[r["class"]] if class_names else r["class"]})
                  for r in quality.class_shares[max(quality.class_shares)]]
    return report.write_training_report(
        out, model, history, data=data, early_stopping=stopper, wall_s=wall, epochs=epochs,
        x_real=x_val, num_classes=num_classes, figures=figures, sample_grid=grids,
        title=title, rarest_classes=rarest)


def demo_images(images, out="runs/demo", image_size=32, epochs=None, seed=0, quick=False,
                verbose=1, background="white", **_ignored):
    """The demo on an image folder: train (``train_gan_images``), then the sanity suite.

    Writes what ``train_gan_images`` writes (``report.html``: samples across epochs, quality and
    loss curves) plus the table of ``tfgenopt.evaluation.check_extractor`` for the domain
    extractor on the validation images, as ``sanity.md`` and as a section of ``report.html``;
    ``summary.json`` gets ``sanity_passed`` and each check's verdict.

    Returns:
        The summary dict (``gan``: the training result, ``sanity_passed``).

    Example:
        Not run as a doctest: it needs an image folder and trains a GAN (tests/test_cli_images.py runs it).

        >>> demo_images("my_images", quick=True)  # doctest: +SKIP
    """
    epochs = epochs or (2 if quick else 40)
    result = train_gan_images(images, image_size=image_size, seed=seed, epochs=epochs,
                              out=out, verbose=verbose, background=background)
    x_val, y_val = result.pop("_x_val"), result.pop("_y_val")
    check = check_extractor(x_val, "domain", labels=y_val, value_range=(-1.0, 1.0),
                            drop=(0, 1) if y_val is None or len(np.unique(y_val)) < 7
                            else (0, 1, 3, 5))
    with open(os.path.join(out, "sanity.md"), "w") as fh:
        fh.write("# Metric sanity suite (domain extractor)\n\n" + str(check) + "\n")
    summary = {"gan": result, "sanity_passed": check.passed, "sanity": check.checks}
    page = report.read_summary(out)  # the training report, plus the sanity table
    verdicts = {True: "passed", False: "FAILED", None: "skipped (no labels)"}
    page["sections"].append({
        "title": "Can the quality numbers be trusted? (metric sanity suite)", "nav": "sanity",
        "text": ("FID and KID of the held-out images against themselves, damaged step by step, "
                 "on the domain extractor. A trustworthy extractor gives numbers that grow at "
                 "every step. Overall: " + ("passed." if check.passed else "FAILED: read the "
                                            "quality curves above with care.")),
        "table": [{"check": r["check"], "level": r["level"], "FID": r["fid"], "KID": r["kid"],
                   "check passed": verdicts[check.checks.get(r["check"])]} for r in check.rows],
        "table_caption": "noise: Gaussian pixel noise std (pixels in [0, 1]); blur: Gaussian "
                         "blur std in pixels; drop_classes: classes left out of the sample."})
    page.update(sanity_passed=check.passed, sanity=check.checks)
    report.write_summary(out, page)
    summary["report"] = report.build_report(out)
    return summary

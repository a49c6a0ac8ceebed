"""``tg.compare`` / ``tfgenopt compare``: which model family for this data and this budget?

The GAN, the diffusion model and the VAE, each the toolkit's recommended model with its default
recipe (:func:`tfgenopt.recommended.make_model`: DCGAN networks with ``GAN.compile()``'s recipe,
as ``train gan --images`` builds; a U-Net with ``Diffusion.compile()``'s recipe, as
``train diffusion`` builds; the convolutional VAE with an 8-d latent, as ``train vae`` builds
for images), train on the same images for the same CPU budget each
(:class:`tfgenopt.callbacks.CPUBudget`); quality is measured on one feature extractor with one
sample count for all of them, and one report says which family to pick
(:data:`tfgenopt.report.comparison.PICK_RULE`).
"""

from __future__ import annotations

import os
import time

import keras
import numpy as np

from tfgenopt import callbacks, plotting, report
from tfgenopt._io import make_dir
from tfgenopt._validation import check_float, check_int
from tfgenopt.builders.conv import SUPPORTED_IMAGE_SIZES
from tfgenopt.diffusion import samplers
from tfgenopt.evaluation import extractors
from tfgenopt.recommended import make_model
from tfgenopt.report.comparison import PICK_RULE, comparison_verdict
from tfgenopt.training_images import dataset_arrays, load_images_or_dataset

__all__ = ["compare", "FAMILIES"]

FAMILIES = ("gan", "diffusion", "vae")
_RANGES = {"gan": (-1.0, 1.0), "diffusion": (-1.0, 1.0), "vae": (0.0, 1.0)}  # their outputs'
QUALITY_CAPTION = (
    "FID and KID (lower is better) and coverage (higher is better) of each family's samples "
    "against the held-out images, on the same extractor and sample count, at evenly spaced "
    "points of its training CPU time (measuring is not counted).")


def _check_families(families):
    if isinstance(families, str):
        families = (families,)
    families = tuple(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families or len(set(families)) != len(families):
        raise ValueError(f"`families` must be distinct names among {list(FAMILIES)}; received "
                         f"{list(families)!r}.")
    return families


def _arrays(d):
    """``(x_train, y_train)`` in [0, 1] from a dataset's arrays or a folder's dataset."""
    if d.get("x_train") is not None:
        return d["x_train"], d.get("y_train")
    return dataset_arrays(d["train"], d["labelled"])


def _train_family(family, x, x_val, y_val, shape, budget, ext, metrics, n, measurements,
                  max_epochs, batch_size, widths, seed, out, num_classes):
    keras.utils.set_random_seed(seed)
    model = make_model(family, shape, seed=seed, widths=widths if family == "diffusion" else None)
    low, high = _RANGES[family]
    real = low + x_val * (high - low)
    monitor = callbacks.QualityMonitor((real, y_val) if "coverage" in metrics else real,
                                       metrics=metrics, n_samples=n, seed=seed, extractor=ext,
                                       value_range=(low, high))
    clock = callbacks.CPUBudget(budget, monitor=monitor, measurements=measurements)
    started = time.perf_counter()
    history = model.fit(low + x * (high - low), epochs=max_epochs, batch_size=batch_size,
                        callbacks=[clock], verbose=0)
    wall = time.perf_counter() - started
    cpu0, wall0 = time.process_time(), time.perf_counter()
    samples = model.generate(n, seed=seed)
    sample_cpu, sample_wall = (time.process_time() - cpu0) / n, (time.perf_counter() - wall0) / n
    grid = (np.asarray(samples[:36]).reshape((-1,) + shape) - low) / (high - low)
    plotting.save_figure(plotting.plot_image_grid(grid, value_range=(0, 1), title=family),
                         os.path.join(out, f"samples_{family}.png"))
    sampler = None
    evaluations = 1  # one generator / decoder call per image
    if family == "diffusion":
        name, steps = model.recipe.sampling()
        evaluations = samplers.evaluations(name, steps)
        sampler = f"{name}, {steps} steps"
    record = report.run_record(history, model=report.describe_model(model),
                               recipe=report.describe_recipe(model), wall_s=wall,
                               stop_reason=f"budget: {clock.cpu_s:.1f} of {budget:g} CPU-s "
                                           "used", num_classes=num_classes)
    v = report.verdict(record)
    last = clock.records[-1]
    return {"fid": last.get("val_fid"), "kid": last.get("val_kid"),
            "coverage": last.get("val_coverage"), "epochs": len(history.epoch),
            "train_cpu_s": round(clock.cpu_s, 2), "wall_s": round(wall, 2),
            "sample_cpu_s_per_image": float(f"{sample_cpu:.3g}"),
            "sample_wall_s_per_image": float(f"{sample_wall:.3g}"),
            "evaluations_per_image": int(evaluations), "sampler": sampler,
            "model": record["model"], "recipe": record["recipe"], "status": v["status"],
            "verdict": v["title"], "verdict_text": v["text"], "samples": f"samples_{family}.png",
            "num_classes": num_classes, "curve": clock.records}


def compare(dataset="digits", images=None, budget=60.0, out="runs/compare", image_size=32,
            seed=0, batch_size=64, families=FAMILIES, n_samples=None, measurements=8,
            max_epochs=100_000, widths=None, extractor=None, background="white", verbose=1):
    """Train the GAN, diffusion and VAE defaults for the same CPU budget; report which to pick.

    Every family trains on the same images (``dataset`` or the folder ``images``) from the same
    seed until its epochs have used ``budget`` CPU seconds (``time.process_time`` of this
    process, all cores, checked between epochs; the weights at the end of the budget are
    scored, there is no early stopping). Each is then scored with FID, KID and (with class
    labels and a classifier extractor) coverage on the same extractor and the same number of
    samples, and its sampling cost per image is timed (CPU and wall seconds, and network
    evaluations: 1 for the GAN and the VAE, the sampler's count for diffusion). The pick follows
    :data:`tfgenopt.report.comparison.PICK_RULE`.

    Args:
        dataset: a bundled / cached dataset name, unless ``images``.
        images: a folder of images (class subfolders give labels); quality on a domain extractor.
        budget: CPU seconds of training per family (> 0).
        out: the report folder (``report.html``, ``summary.json``, ``samples_<family>.png``,
            ``quality_vs_time.png``).
        image_size: image side in pixels (8, 16, 28, 32 or 64: the DCGAN builders' sizes).
        seed: seed of the split, the weights, the noise and the samples.
        batch_size: training batch size of every family.
        families: which of ``("gan", "diffusion", "vae")`` to train.
        n_samples: samples per quality measurement (default ``min(validation images, 1000)``).
        measurements: quality measurements per budget (the curves' points; not counted).
        max_epochs: an epoch cap besides the budget.
        widths: the diffusion U-Net's widths (None: the builder's default, cut to fit).
        extractor: the feature extractor (None: the dataset's classifier, or ``"domain"``).
        background: with ``images``: where transparent pixels go.
        verbose: 1 prints one line per family.

    Returns:
        The summary (a dict, also in ``out/summary.json``): ``families`` (one record each),
        ``pick``, ``reason``, ``rule``, ``budget_s``, ``report`` (the page's path).

    Example:
        Not run as a doctest: it trains three models (tests/test_comparison.py runs a tiny one).

        >>> summary = tg.compare("digits", budget=300, out="runs/compare")  # doctest: +SKIP
        >>> summary["pick"], summary["families"]["diffusion"]["fid"]  # doctest: +SKIP
    """
    budget = check_float("budget", budget, 0.0, min_inclusive=False)
    families = _check_families(families)
    if image_size not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(f"`image_size` (--image-size) must be one of {SUPPORTED_IMAGE_SIZES} "
                         f"(the DCGAN builders' sizes); received {image_size!r}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    measurements = check_int("measurements", measurements, minimum=1)
    max_epochs = check_int("max_epochs", max_epochs, minimum=1)
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, minimum=2)
    d = load_images_or_dataset(dataset, images, image_size, seed, batch_size, background,
                               verbose, value_range=(0.0, 1.0))
    make_dir(out, "--out")
    x, _ = _arrays(d)
    x_val, y_val = d["x_val"], d["y_val"]
    ext = extractors.get(extractor if extractor is not None else d["extractor"], real=x_val,
                         labels=y_val)
    coverage = y_val is not None and ext.probability_output is not None
    metrics = ("fid", "kid", "coverage") if coverage else ("fid", "kid")
    n = n_samples or min(len(x_val), 1000)
    shape = tuple(d["shape"])
    records = {}
    for family in families:
        records[family] = _train_family(family, x, x_val, y_val, shape, budget, ext, metrics, n,
                                        measurements, max_epochs, batch_size, widths, seed, out,
                                        d["num_classes"] if coverage else None)
        if verbose:
            r = records[family]
            print(f"compare: {family}: {r['epochs']} epochs in {r['train_cpu_s']:.1f} CPU-s, "
                  f"FID {report.fmt(r['fid'])}, KID {report.fmt(r['kid'])}")
    curves = {f: r["curve"] for f, r in records.items()}
    plotting.save_figure(plotting.plot_quality_vs_time(
        curves, keys=("val_fid", "val_kid", "val_coverage"),
        title=f"quality against training CPU time ({budget:g} CPU-s each)"),
        os.path.join(out, "quality_vs_time.png"))
    verdict = comparison_verdict(records, budget, d["source"])
    table = [{"family": f, "FID": r["fid"], "KID": r["kid"],
              "coverage": r["coverage"] if coverage else "-", "epochs": r["epochs"],
              "training CPU-s": r["train_cpu_s"], "training wall s": r["wall_s"],
              "sampling CPU-s / image": r["sample_cpu_s_per_image"],
              "sampling wall s / image": r["sample_wall_s_per_image"],
              "network evaluations / image": r["evaluations_per_image"],
              "sampler": r["sampler"] or "-", "verdict": r["verdict"]}
             for f, r in records.items()]
    sections = [
        {"title": "Samples side by side", "nav": "samples",
         "gallery": [{"path": r["samples"], "label": f} for f, r in records.items()],
         "gallery_caption": "Each family's samples at the end of its budget (same seed)."},
        {"title": "Quality against training CPU time", "nav": "quality",
         "figures": [{"path": "quality_vs_time.png", "caption": QUALITY_CAPTION}]},
        {"title": "The numbers", "nav": "numbers", "table": table,
         "table_caption": f"Pick rule: {PICK_RULE}. Models: " + "; ".join(
             f"{f}: {r['model']} ({r['recipe']})" for f, r in records.items())},
    ]
    pick = verdict["pick"]
    summary = {
        "title": f"tfgenopt compare: {', '.join(families)} on {d['source']}, "
                 f"{budget:g} CPU-s each",
        "data": d["data"], "comparison": verdict, "pick": pick, "reason": verdict["reason"],
        "rule": PICK_RULE, "budget_s": budget, "families": records, "sections": sections,
        "headline_images": [] if pick is None else [
            {"path": records[pick]["samples"], "label": f"pick: {pick}"}],
        "config": {"dataset": None if images else dataset, "images": images,
                   "image_size": image_size, "seed": seed, "batch_size": batch_size,
                   "n_samples": n, "metrics": list(metrics), "measurements": measurements,
                   "max_epochs": max_epochs},
    }
    report.write_summary(out, summary)
    summary["report"] = report.build_report(out)
    return summary

"""The report of one training run (``tfgenopt train``): headline, sample evolution, curves."""

from __future__ import annotations

import os

import numpy as np

from tfgenopt.callbacks.collapse import sample_diversity
from tfgenopt.report.describe import describe_model, describe_recipe
from tfgenopt.report.html import write_report
from tfgenopt.report.verdict import run_record

__all__ = ["sample_diversity_ratio", "evolution", "write_training_report"]


def sample_diversity_ratio(model, x_real, n=256, seed=0):
    """Pixel diversity of ``model.generate(n)`` divided by that of ``x_real[:n]``.

    1 for samples as varied as the data, 0 for one repeated image (mode collapse); it needs no
    classifier, so it works on any images.

    Example:
        >>> class Constant:
        ...     def generate(self, n, seed=0):
        ...         return np.full((n, 4), 0.5)
        >>> sample_diversity_ratio(Constant(), np.random.default_rng(0).random((8, 4)))
        0.0
    """
    real = np.asarray(x_real[:n], dtype=np.float64)
    fake = np.asarray(model.generate(min(n, max(len(real), 2)), seed=seed), dtype=np.float64)
    return float(sample_diversity(fake) / max(sample_diversity(real), 1e-12))


def evolution(epochs_paths, restored=None, k=6):
    """Pick up to ``k`` sample grids across the run (first, last, restored, evenly between).

    Args:
        epochs_paths: ``[(epoch, path)]`` in epoch order.
        restored: the restored epoch, always kept when it has a grid.
        k: the most grids returned.

    Returns:
        ``[{"path", "label"}]``, labels like ``"epoch 12 · restored"``.

    Example:
        >>> [g["label"] for g in evolution([(e, f"{e}.png") for e in range(1, 11)], 4, k=3)]
        ['epoch 1', 'epoch 4 · restored', 'epoch 10 · last']
    """
    if not epochs_paths:
        return []
    n = len(epochs_paths)
    picks = {int(round(i)) for i in np.linspace(0, n - 1, min(k, n))}
    epochs = [e for e, _ in epochs_paths]
    if restored in epochs and epochs.index(restored) not in picks:
        inner = sorted(picks - {0, n - 1}, key=lambda i: abs(i - epochs.index(restored)))
        if inner:
            picks.discard(inner[0])
        picks.add(epochs.index(restored))
    out = []
    for i in sorted(picks):
        e, path = epochs_paths[i]
        tags = (["restored"] if e == restored else []) + (["last"] if i == n - 1 else [])
        out.append({"path": path, "label": " · ".join([f"epoch {e}"] + tags)})
    return out


def write_training_report(out, model, history, *, data="", x_real=None, early_stopping=None,
                          sample_grid=None, wall_s=None, epochs=None, figures=(),
                          num_classes=None, title=None, rarest_classes=None):
    """Write ``out/summary.json`` and ``out/report.html`` for a finished ``fit``.

    Args:
        out: the run directory.
        model: the trained model (a GAN or VAE gets a sample-diversity verdict).
        history: the ``History`` of ``fit`` (or its dict).
        data: the data in a few words (:func:`tfgenopt.report.describe_data`).
        x_real: real validation images, for the diversity ratio of a generative model.
        early_stopping: the run's ``EarlyStopping`` (stop reason, restored epoch, monitor).
        sample_grid: the run's ``SampleGrid`` with ``out_dir`` (the sample evolution).
        wall_s: wall-clock seconds of the training.
        epochs: the epoch budget.
        figures: more ``[{"path", "caption"}]`` (relative to ``out``), e.g. the loss curves.
        num_classes: the data's class count, if any.
        title: the page title (default: ``"tfgenopt train: <model class>"``).
        rarest_classes: the rarest classes' sample and data shares (see
            :func:`tfgenopt.report.run_record`), shown as one verdict row.

    Returns:
        The path of ``report.html``.
    """
    es = early_stopping
    restored = None
    if es is not None and getattr(es, "restore_best_weights", False) and es.best_epoch is not None:
        restored = int(es.best_epoch) + 1
    stop = getattr(model, "stop_reason", None) or (es.stopped_reason if es is not None else None)
    generative = callable(getattr(model, "generate", None))
    diversity = None
    if generative and x_real is not None and len(x_real) >= 2:
        diversity = sample_diversity_ratio(model, x_real)
    record = run_record(history, model=describe_model(model), recipe=describe_recipe(model),
                        data=data, wall_s=wall_s, epochs=epochs, stop_reason=stop,
                        restored_epoch=restored, num_classes=num_classes, diversity=diversity,
                        monitor=None if es is None else es.monitor,
                        rarest_classes=rarest_classes)
    sections, pics = [], []
    if sample_grid is not None and sample_grid.paths and sample_grid.grids:
        pairs = [(e, os.path.relpath(p, out)) for (e, _), p in
                 zip(sample_grid.grids, sample_grid.paths)]
        sections.append({"title": "Samples across epochs", "nav": "samples",
                         "gallery": evolution(pairs, restored),
                         "gallery_caption": "The same latent codes at a few epochs: look for "
                                            "images that sharpen and differ from each other."})
        pics = [{"path": pairs[-1][1], "label": f"generated (epoch {pairs[-1][0]})"}]
    if figures:
        sections.append({"title": "Training curves", "nav": "curves", "figures": list(figures)})
    return write_report(out, record, sections, headline_images=pics,
                        title=title or f"tfgenopt train: {type(model).__name__}")

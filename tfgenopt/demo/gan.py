"""The demo's GAN section: the default recipe with quality monitoring, early stopping, sample
grids and curvature probes; it returns the run record the report's headline is built from."""

from __future__ import annotations

import os
import time

import numpy as np

from tfgenopt import builders, callbacks, models, plotting
from tfgenopt.demo.sections import Section, save_grid
from tfgenopt.report import describe_model, describe_recipe, fmt, run_record
from tfgenopt.report.run import evolution, sample_diversity_ratio

__all__ = ["gan_section", "curvature_rows"]

QUALITY_CAPTION = (
    "FID and KID (lower is better) compare the samples with the validation images in the "
    "feature space of a classifier; coverage (higher is better) is the share of the data's "
    "classes that appear among the samples. The red star marks each metric's best epoch; "
    "early stopping watches KID and restores its best epoch.")
LOSS_CAPTION = (
    "Discriminator and generator losses (dashed: validation). A GAN's losses do not go down "
    "together: look for a balance. A discriminator loss sinking toward 0 while the generator's "
    "climbs means the discriminator wins and the generator's gradients fade.")
SLICE_CAPTION = (
    "The {player}'s loss along a random (filter-normalised) direction through its weights, "
    "one curve per probed epoch, 0 = the trained weights. A narrow, steep valley is a sharp "
    "minimum (small weight changes cost a lot, training is fragile); a wide, flat bottom is a "
    "flat one. A curve that peaks at 0 means the player sits on a ridge against its current "
    "opponent (common for a GAN's generator: the discriminator keeps moving its target).")
CURVATURE_CAPTION = (
    "Curvature of each player's loss in its own weights. The top Hessian eigenvalue is the "
    "sharpest direction: a rising one means steps of the same learning rate grow riskier (an "
    "eigenvalue near 2/learning-rate oscillates), the usual warning before a GAN diverges. The "
    "trace (Hutchinson estimate, band: 95% interval) is the summed curvature: negative means "
    "the player sits at a saddle or on a ridge of its loss, normal for a player whose opponent "
    "keeps moving; a trace within its interval of 0 is noise.")


def curvature_rows(records):
    """Rows of rounded curvature numbers per probed epoch (``LossLandscape.history`` logs).

    Example:
        >>> curvature_rows([{"epoch": 2, "logs": {"g_hessian_trace": -0.7234,
        ...                                      "g_hessian_trace_std": 0.5}}])
        [{'epoch': 2, 'G trace': '-0.723 ± 0.5 (noise)'}]
    """
    rows = []
    for r in records:
        logs = r.get("logs") or {}
        row = {"epoch": r["epoch"]}
        for tag, name in (("d", "D"), ("g", "G")):
            top = logs.get(f"{tag}_hessian_top")
            if top is not None:
                row[f"{name} top eigenvalue"] = float(top)
            trace = logs.get(f"{tag}_hessian_trace")
            if trace is not None:
                sd = logs.get(f"{tag}_hessian_trace_std")
                text = fmt(trace)
                if sd is not None:
                    text += f" ± {fmt(sd, 2)}" + (" (noise)" if abs(trace) < 1.96 * sd else "")
                row[f"{name} trace"] = text
        if len(row) > 1:
            rows.append(row)
    return rows


def _trend(records, key):
    values = [r["logs"][key] for r in records if key in (r.get("logs") or {})]
    if len(values) < 2:
        return None
    change = (values[-1] - values[0]) / (abs(values[0]) + 1e-12)
    word = "rose" if change > 0.25 else "fell" if change < -0.25 else "stayed about level"
    return f"{fmt(values[0])} → {fmt(values[-1])} ({word})"


def gan_section(run, x_train, x_val, epochs, data=None, gan=None, metrics=("fid", "kid",
                "coverage"), extractor=None):
    """Train a GAN with every instrument; return its :class:`Section` (with ``run``).

    Args:
        run: the :class:`tfgenopt.demo.sections.RunDir`.
        x_train, x_val: training and validation images (``x_val`` is the quality reference).
        epochs: the epoch budget.
        data: the ``summary`` of :func:`tfgenopt.demo.sections.data_section` (data line,
            classes, pixel range).
        gan: a compiled GAN (default: the dense GAN with the default recipe).
        metrics, extractor: passed to ``QualityMonitor`` (coverage needs a classifier).

    Returns:
        A :class:`Section`: ``summary`` for ``summary["gan"]``, ``run`` for the headline.
    """
    t0 = time.perf_counter()
    data = data or {}
    seed, out, quick = run.seed, run.out, run.quick
    if gan is None:
        dim = int(np.prod(x_train.shape[1:]))
        gan = models.GAN(builders.dense_generator(100, output_dim=dim, seed=seed),
                         builders.dense_discriminator(dim, seed=seed + 1), latent_dim=100,
                         seed=seed)
        gan.compile()  # the measured default recipe (README: "Which recipe, and why")
    run.say(f"[2/5] GAN: {describe_recipe(gan)}; up to {epochs} epochs")
    every = max(1, epochs // 15)
    quality = callbacks.QualityMonitor(x_val, metrics=metrics, every=every, seed=seed,
                                       n_samples=256 if quick else 1000, extractor=extractor)
    stopper = callbacks.EarlyStopping(monitor="val_kid", patience=max(4 * every, 6),
                                      restore_best_weights=True, divergence_threshold=None,
                                      smoothing="ema", verbose=run.verbose)
    grids = callbacks.SampleGrid(every=every, n=36, out_dir=os.path.join(out, "samples"),
                                 seed=seed, strip=True)
    probes = callbacks.LossLandscape(
        x_val[: 128 if quick else 256], every=max(2 if quick else 1, epochs // 5),
        kind=("1d", "hessian", "trace"), grid=9 if quick else 15,
        iterations=8 if quick else 15, trace_samples=4 if quick else 8, seed=seed,
        out_dir=os.path.join(out, "landscape"), verbose=0)
    hist = gan.fit(x_train, validation_data=(x_val,), epochs=epochs, batch_size=64,
                   callbacks=[quality, stopper, grids, probes], verbose=0).history
    wall = time.perf_counter() - t0
    stop_reason = getattr(gan, "stop_reason", None) or stopper.stopped_reason or \
        f"budget: completed {epochs} epochs"
    restored = None if stopper.best_epoch is None else int(stopper.best_epoch) + 1
    samples = np.asarray(gan.generate(36, seed=seed))
    diversity = sample_diversity_ratio(gan, x_val, seed=seed)
    record = run_record(hist, model=describe_model(gan), recipe=describe_recipe(gan),
                        data=data.get("description", ""), wall_s=wall, epochs=epochs,
                        stop_reason=stop_reason, restored_epoch=restored, monitor="val_kid",
                        num_classes=data.get("num_classes"), diversity=diversity)
    shape = tuple(data.get("image_shape") or ()) or None
    final = samples[:36] if shape is None else samples[:36].reshape((-1,) + shape)
    restored_grid = save_grid(os.path.join(out, "samples", "restored.png"), final,
                              value_range=data.get("value_range"))
    grid_paths = [(e, os.path.relpath(p, out)) for (e, _), p in zip(grids.grids, grids.paths)]
    curvature = [{"epoch": r["epoch"], **r["logs"]} for r in probes.history if r.get("logs")]
    summary = {
        "epochs_run": len(hist["d_loss"]), "stop_reason": stop_reason, "best_epoch": restored,
        "best_val_kid": None if stopper.best is None else float(stopper.best),
        "diversity": diversity,
        "final": {k: (float(hist[k][-1]) if hist.get(k) else None)
                  for k in ("d_loss", "g_loss", "val_fid", "val_kid", "val_coverage")},
        "curves": {k: [float(v) for v in hist[k]] for k in
                   ("d_loss", "g_loss", "d_real", "d_fake", "val_fid", "val_kid",
                    "val_coverage") if k in hist},
        "curvature": curvature,
        "sample_grids": [os.path.relpath(p, out) for p in grids.paths]}
    qkeys = [k for k in ("val_fid", "val_kid", "val_coverage") if k in quality.history]
    figures = [run.save(plotting.plot_quality(quality, keys=qkeys or None,
                                              title="sample quality"),
                        "gan_quality.png", QUALITY_CAPTION),
               run.save(plotting.plot_history(hist, keys=["d_loss", "g_loss"],
                                              title="GAN losses"),
                        "gan_losses.png", LOSS_CAPTION)]
    plotting.save_figure(plotting.plot_image_grid(final, scale=0.12, title="final samples"),
                         os.path.join(out, "gan_samples.png"))  # for the README's figures
    section = Section(
        "gan", "GAN: samples across epochs and their quality", summary,
        nav="GAN samples, quality",
        text=f"Sample grids of {len(grid_paths)} epochs are in samples/ (all of them stacked: "
             f"samples/samples_strip.png); {min(6, len(grid_paths))} of them below. "
             f"Stopped: {stop_reason}",
        gallery=evolution(grid_paths, restored),
        gallery_caption="The same 36 latent codes at a few epochs (one image pixel per "
                        "screen pixel or more). Look for digits that sharpen and differ from "
                        "each other; the same shape everywhere is mode collapse.",
        figures=figures, run=record,
        headline_images=[{"path": os.path.relpath(restored_grid, out),
                          "label": f"generated (epoch {restored or record['epochs_run']})"}])
    section.landscape = _landscape_section(run, probes)
    section.seconds = time.perf_counter() - t0
    return section


def _landscape_section(run, probes):
    """The loss-landscape and curvature figures and table of the GAN's probes."""
    records = [r for r in probes.history if r.get("logs")]
    figures, text = [], []
    if probes.history:
        for player in ("discriminator", "generator"):
            figures.append(run.save(
                plotting.plot_slices(probes.history, player=player,
                                     title=f"{player} loss, 1-D slices"),
                f"landscape_{player[0]}_slices.png", SLICE_CAPTION.format(player=player)))
    keys = [k for k in ("d_hessian_top", "d_hessian_trace", "g_hessian_top", "g_hessian_trace")
            if any(k in r["logs"] for r in records)]
    if keys:
        figures.append(run.save(plotting.plot_curvature(records, keys=keys, ncols=2,
                                                        title="curvature"),
                                "curvature.png", CURVATURE_CAPTION))
    for key, label in (("d_hessian_top", "discriminator top eigenvalue"),
                       ("g_hessian_top", "generator top eigenvalue")):
        trend = _trend(records, key)
        if trend:
            text.append(f"{label} {trend}")
    return Section("landscape", "GAN: loss landscape and curvature of each player", {},
                   nav="GAN landscape, curvature",
                   text="; ".join(text) + "." if text else "",
                   figures=figures, table=curvature_rows(records),
                   table_caption="Rounded; ± is the standard error of the trace estimate, "
                                 "'(noise)': the trace is within its 95% interval of 0.")

"""The main job (``tfgenopt demo`` / ``make demo``): every instrument on one offline run.

On the bundled digits (28x28, flattened) it (1) finds a learning rate with the LR range test,
(2) trains the default GAN recipe with a QualityMonitor, early stopping on KID, sample
grids and loss-landscape / curvature probes, (3) trains the classic dense autoencoder and a VAE
with early stopping, (4) compares SGD, Adam, RMSprop and Adagrad on the autoencoder and
(5) writes ``report.html`` and ``summary.json`` with the figures beside them.
"""

from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["run_demo", "SUMMARY_KEYS"]

SUMMARY_KEYS = ("config", "lr_find", "gan", "autoencoder", "vae", "optimizer_comparison",
                "timings", "sections")


def _last(history, key):
    values = history.get(key) or []
    return float(values[-1]) if values else None


def _curves(history, keys):
    return {k: [float(v) for v in history[k]] for k in keys if k in history}


def run_demo(out="runs/demo", dataset="digits", epochs=None, seed=0, quick=False, verbose=1):
    """Run the main job and write ``out/report.html`` + ``out/summary.json``; return the summary.

    Args:
        out: output directory.
        dataset: ``"digits"`` (bundled), ``"mnist"`` or ``"fashion_mnist"`` (from the cache).
        epochs: GAN epoch budget (default 300; 4 with ``quick``); the autoencoder and VAE get
            a third of it (at least 1), the optimizer comparison a tenth.
        seed: seed of the split, the weights and the noise.
        quick: a one-minute version (fewer epochs, fewer probes, smaller probe sets).
        verbose: 0 silent, 1 progress lines.

    Example:
        Not run as a doctest: the quick demo takes about a minute.

        >>> summary = run_demo("runs/demo", quick=True)  # doctest: +SKIP
        >>> summary["gan"]["stop_reason"]  # doctest: +SKIP
    """
    import keras

    from tfgenopt import builders, callbacks, data, models, plotting, report, tuning
    from tfgenopt._validation import check_int

    epochs = check_int("epochs", epochs if epochs is not None else (4 if quick else 300),
                       minimum=1)
    keras.utils.set_random_seed(seed)
    os.makedirs(out, exist_ok=True)
    say = print if verbose else (lambda *a, **k: None)
    timings, sections = {}, []

    def save(fig, name):
        plotting.save_figure(fig, os.path.join(out, name))
        return name

    x_train, x_val = data.load(dataset, image_size=28, flatten=True, seed=seed)
    if quick:
        x_train, x_val = x_train[:512], x_val[:256]
    dim = x_train.shape[1]

    # (1) learning-rate range test on the classic autoencoder
    t0 = time.perf_counter()
    say("[1/5] LR range test on the dense autoencoder")
    ae = builders.dense_autoencoder(dim, seed=seed)
    ae.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    found = callbacks.lr_find(ae, x_train, x_train, batch_size=64, min_lr=1e-5, max_lr=1.0,
                              steps=40 if quick else 100, verbose=0)
    ae_lr = float(np.clip(found.suggestion, 1e-4, 1e-2))
    lr_summary = {"suggested_lr": float(found.suggestion), "min_div10": float(found.min_div10),
                  "used_lr": ae_lr, "diverged": bool(found.diverged)}
    sections.append({"title": "1. Learning-rate range test (autoencoder)",
                     "text": f"Suggested {found.suggestion:.2e} (steepest descent); "
                             f"minimum/10 {found.min_div10:.2e}; used {ae_lr:.2e}.",
                     "figures": [save(found.plot(), "lr_find.png")]})
    timings["lr_find"] = time.perf_counter() - t0

    # (2) the default GAN recipe with every instrument attached
    t0 = time.perf_counter()
    say(f"[2/5] GAN: the default recipe (Adam TTUR, lazy R1, EMA generator); up to {epochs} "
        f"epochs")
    gan = models.GAN(builders.dense_generator(100, output_dim=dim, seed=seed),
                     builders.dense_discriminator(dim, seed=seed + 1), latent_dim=100,
                     seed=seed)
    gan.compile()  # the measured default recipe (README: "Which recipe, and why")
    every = max(1, epochs // 15)
    probe_every = max(1, epochs // 5)
    quality = callbacks.QualityMonitor(x_val, metrics=("fid", "kid", "coverage"), every=every,
                                       n_samples=256 if quick else 1000, seed=seed)
    stopper = callbacks.EarlyStopping(monitor="val_kid", patience=max(4 * every, 6),
                                      restore_best_weights=True, divergence_threshold=None,
                                      smoothing="ema", verbose=verbose)
    grids = callbacks.SampleGrid(every=every, n=36, out_dir=os.path.join(out, "samples"),
                                 seed=seed, strip=True)
    probe = x_val[: 128 if quick else 256]
    probes = callbacks.LossLandscape(probe, every=probe_every, kind=("1d", "hessian", "trace"),
                                     grid=9 if quick else 15, iterations=8 if quick else 15,
                                     trace_samples=4 if quick else 8, seed=seed,
                                     out_dir=os.path.join(out, "landscape"), verbose=0)
    hist = gan.fit(x_train, validation_data=(x_val,), epochs=epochs, batch_size=64,
                   callbacks=[quality, stopper, grids, probes], verbose=0).history
    timings["gan"] = time.perf_counter() - t0
    stop_reason = getattr(gan, "stop_reason", None) or stopper.stopped_reason or \
        f"budget: completed {epochs} epochs"
    curvature_keys = sorted(k for k in hist if "hessian" in k)
    gan_summary = {
        "epochs_run": len(hist["d_loss"]), "stop_reason": stop_reason,
        "best_epoch": None if stopper.best_epoch is None else int(stopper.best_epoch) + 1,
        "best_val_kid": None if stopper.best is None else float(stopper.best),
        "final": {k: _last(hist, k) for k in ("d_loss", "g_loss", "val_fid", "val_kid",
                                              "val_coverage")},
        "curves": _curves(hist, ["d_loss", "g_loss", "d_real", "d_fake", "val_fid", "val_kid",
                                 "val_coverage"]),
        "curvature": [{"epoch": r["epoch"], **r["logs"]} for r in probes.history
                      if r.get("logs")],
        "sample_grids": [os.path.relpath(p, out) for p in grids.paths],
    }
    figs = [save(plotting.plot_history(hist, keys=["d_loss", "g_loss"], title="GAN losses"),
                 "gan_losses.png"),
            save(plotting.plot_quality(quality, title="sample quality"), "gan_quality.png"),
            save(plotting.plot_image_grid(gan.generate(36, seed=seed), title="final samples"),
                 "gan_samples.png")]
    strip = [p for p in gan_summary["sample_grids"] if p.endswith("strip.png")]
    landscape_figs = []
    if probes.history:
        landscape_figs.append(save(plotting.plot_slices(probes.history, player="discriminator",
                                                        title="discriminator loss, 1-D slices"),
                                   "landscape_d_slices.png"))
        landscape_figs.append(save(plotting.plot_slices(probes.history, player="generator",
                                                        title="generator loss, 1-D slices"),
                                   "landscape_g_slices.png"))
        if curvature_keys:
            landscape_figs.append(save(plotting.plot_curvature(probes.history, title="curvature"),
                                       "curvature.png"))
    sections.append({"title": "2. GAN recipe with quality monitor and early stopping",
                     "text": f"Stopped: {stop_reason}. Epochs run: {gan_summary['epochs_run']}; "
                             f"best KID {gan_summary['best_val_kid']} at epoch "
                             f"{gan_summary['best_epoch']}.",
                     "figures": figs + strip})
    sections.append({"title": "Loss landscape and curvature of the GAN's players",
                     "figures": landscape_figs,
                     "table": [{"epoch": r["epoch"], **r["logs"]} for r in probes.history
                               if r.get("logs")]})

    # (3) autoencoder and VAE with early stopping
    t0 = time.perf_counter()
    say("[3/5] dense autoencoder and VAE with early stopping")
    ae = builders.dense_autoencoder(dim, seed=seed)
    ae.compile(keras.optimizers.Adam(ae_lr), "binary_crossentropy")
    ae_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    side_epochs = max(1, epochs // 3)
    ae_hist = ae.fit(x_train, x_train, validation_data=(x_val, x_val), epochs=side_epochs,
                     batch_size=64, callbacks=[ae_stop], verbose=0).history
    vae = models.VAE(builders.vae_encoder(dim, latent_dim=8, seed=seed),
                     builders.vae_decoder(8, dim, seed=seed), seed=seed)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae_stop = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    vae_hist = vae.fit(x_train, validation_data=(x_val,), epochs=side_epochs, batch_size=64,
                       callbacks=[callbacks.KLWarmup(0.0, 1.0, epochs=max(1, side_epochs // 4)),
                                  vae_stop], verbose=0).history
    timings["autoencoder_vae"] = time.perf_counter() - t0
    recon = np.concatenate([x_val[:8], ae.predict(x_val[:8], verbose=0)])
    sections.append({"title": "3. Autoencoder and VAE",
                     "text": f"Autoencoder best val_loss {min(ae_hist['val_loss']):.4f} "
                             f"({len(ae_hist['loss'])} epochs); VAE best val_loss "
                             f"{min(vae_hist['val_loss']):.2f} ({len(vae_hist['loss'])} epochs).",
                     "figures": [
                         save(plotting.plot_history(ae_hist, keys=["loss"], title="autoencoder"),
                              "ae_losses.png"),
                         save(plotting.plot_image_grid(recon, ncols=8,
                                                       title="inputs / reconstructions"),
                              "ae_reconstructions.png"),
                         save(plotting.plot_history(vae_hist, keys=["loss", "kl_loss"],
                                                    title="VAE"), "vae_losses.png"),
                         save(plotting.plot_image_grid(vae.generate(36, seed=seed),
                                                       title="VAE samples"), "vae_samples.png")]})

    # (4) optimizer comparison on the autoencoder
    t0 = time.perf_counter()
    say("[4/5] optimizer comparison (SGD, Adam, RMSprop, Adagrad) on the autoencoder")
    histories, fig = tuning.compare_optimizers(
        lambda: builders.dense_autoencoder(dim, seed=seed), x_train, validation_data=x_val,
        loss="binary_crossentropy", epochs=max(1, epochs // 10), batch_size=64, seed=seed,
        verbose=0)
    comparison = {name: {"final_val_loss": _last(h, "val_loss"), "final_loss": _last(h, "loss")}
                  for name, h in histories.items()}
    sections.append({"title": "4. Optimizer comparison (same model, same start, same batches)",
                     "figures": [save(fig, "optimizers.png")],
                     "table": [{"optimizer": k, **v} for k, v in comparison.items()]})
    timings["optimizer_comparison"] = time.perf_counter() - t0

    # (5) summary and report
    summary = {
        "config": {"dataset": dataset, "epochs": epochs, "seed": seed, "quick": quick,
                   "n_train": int(len(x_train)), "n_val": int(len(x_val))},
        "lr_find": lr_summary,
        "gan": gan_summary,
        "autoencoder": {"epochs_run": len(ae_hist["loss"]), "lr": ae_lr,
                        "best_val_loss": float(min(ae_hist["val_loss"])),
                        "stop_reason": ae_stop.stopped_reason or "budget",
                        "curves": _curves(ae_hist, ["loss", "val_loss"])},
        "vae": {"epochs_run": len(vae_hist["loss"]),
                "best_val_loss": float(min(vae_hist["val_loss"])),
                "stop_reason": vae_stop.stopped_reason or "budget",
                "curves": _curves(vae_hist, ["loss", "val_loss", "kl_loss",
                                             "reconstruction_loss", "beta"])},
        "optimizer_comparison": comparison,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "sections": sections,
    }
    report.write_summary(out, summary)
    path = report.build_report(out, title="tfgenopt demo")
    say(f"[5/5] wrote {path}")
    return summary

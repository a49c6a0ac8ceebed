"""``tfgenopt train gan | vae | autoencoder``: train on a dataset, as a plain function.

:func:`train` takes the command's options as keyword arguments (the names of the flags,
``--batch-size`` as ``batch_size``) and returns a small JSON-able dict that the command
prints, so it is as usable from Python as from the shell.
"""

from __future__ import annotations

import contextlib
import os
import time

import numpy as np

from tfgenopt import callbacks, catalog, distribute, plotting, report
from tfgenopt._io import atomic_path, make_dir
from tfgenopt.callbacks._backup import AtomicBackupAndRestore, check_backup_run
from tfgenopt.callbacks._progress import EpochProgressBar
from tfgenopt.cli.watchers import quality_watchers
from tfgenopt.data import load
from tfgenopt.models import protocol
from tfgenopt.recommended import make_model

__all__ = ["train"]


def train(kind, dataset="digits", image_size=28, seed=0, epochs=10, batch_size=64,
          optimizer=None, lr=None, loss=None, ema=None, latent_dim=None, patience=None,
          out="runs/train", backup_dir=None, verbose=1, extractor=None, workers=1, **_ignored):
    """Train the toolkit's model of ``kind`` on ``dataset``; save it, its curves and samples.

    ``gan``: ``GAN(g, d, latent_dim)`` with ``GAN.compile()``'s measured recipe, overridden
    only by the arguments given (see :func:`make_model`); a ``QualityMonitor`` measures FID and
    KID (about 30 times a run), early stopping watches ``val_kid`` (EMA-smoothed, patience
    ``max(4 * every, 10)`` epochs unless ``patience``; best weights restored); sample grids,
    a final ``samples.png`` and the quality curves ``quality.png`` are written. ``vae`` and
    ``autoencoder`` stop early on ``val_loss`` (patience 5 unless given).

    Args:
        kind: ``"gan"``, ``"vae"`` or ``"autoencoder"``.
        dataset, image_size, seed: the data (``tfgenopt.data.load``) and the seed of all draws.
        epochs, batch_size: the budget.
        optimizer, lr, loss, ema, latent_dim: overrides of the recipe (None: the default).
        patience: early-stopping patience in epochs (None: the default above).
        out: output folder (``model.keras``, ``history.json``, ``curves.png``...).
        backup_dir: back up every epoch; rerunning the same call resumes a killed run.
        verbose: 0 silent, 1 one progress bar over the epochs, 2 Keras' line per epoch.
        extractor: the GAN's quality feature extractor (None: the dataset's classifier).
        workers: the workers of the ``TF_CONFIG`` cluster this process belongs to (recorded
            with the backup). With ``TF_CONFIG`` set the model trains under
            ``MultiWorkerMirroredStrategy``; the chief writes ``out``, the other workers write
            into temporary folders removed at the end.

    Returns:
        A JSON-able dict: final validation values, ``epochs_run`` (in this call),
        ``history_epochs`` (the whole run's, across resumes), ``stop_reason``, ``monitor``,
        ``optimizer_steps``, ``early_stopping`` (best, wait), ``cluster``, ``out``...

    Example:
        Not run as a doctest: it trains a model and writes a run folder (tests/test_cli.py runs it).

        >>> result = train("autoencoder", image_size=8, epochs=1, out=str(tmp), verbose=0)  # doctest: +SKIP
    """
    strategy = distribute.strategy_from_tf_config() if os.environ.get("TF_CONFIG") else None
    if strategy is not None:  # created before any other TensorFlow op
        distribute.check_global_batch(batch_size, strategy)
    options = {"kind": kind, "dataset": dataset, "image_size": image_size, "seed": seed,
               "epochs": epochs, "batch_size": batch_size, "optimizer": optimizer, "lr": lr,
               "loss": loss, "ema": ema, "latent_dim": latent_dim, "patience": patience,
               "out": out, "backup_dir": backup_dir}
    if workers > 1:
        options["workers"] = workers
    run = None
    if backup_dir:  # refuse another run's backup before any work
        run = {k: v for k, v in sorted(options.items())}
        if distribute.is_chief():
            check_backup_run(backup_dir, run)
    with distribute.chief_dir(out) as folder:  # a temporary folder on a non-chief worker
        result = _train(kind, dataset, image_size, seed, epochs, batch_size, optimizer, lr, loss,
                        ema, latent_dim, patience, folder, backup_dir, verbose, extractor,
                        strategy, run)
    result["out"] = out
    return result


def _train(kind, dataset, image_size, seed, epochs, batch_size, optimizer, lr, loss, ema,
           latent_dim, patience, out, backup_dir, verbose, extractor, strategy, run):
    make_dir(out, "--out")  # a file or an unwritable --out fails here, not after training
    x_train, x_val = load(dataset, image_size=image_size, flatten=True, seed=seed,
                          value_range=(0.0, 1.0))
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = make_model(kind, x_train.shape[1], optimizer, lr, loss, ema, latent_dim, seed)
    supervised = kind == "autoencoder"
    fit_x = (x_train, x_train) if supervised else (x_train,)
    val = (x_val, x_val) if supervised else (x_val,)
    initial = model.evaluate(*val, verbose=0, return_dict=True)
    quality = None
    if kind == "gan":
        quality, stopper, grids = quality_watchers(
            x_val, epochs, patience, out, seed,
            extractor if extractor is not None else dataset, verbose)
        cbs = [quality, stopper, grids]
        keys = ["d_loss", "g_loss"]
    else:
        stopper = callbacks.EarlyStopping(monitor="val_loss", patience=patience or 5,
                                          restore_best_weights=True, verbose=min(verbose, 1))
        cbs = [stopper]
        if kind == "vae":
            cbs.append(callbacks.SampleGrid(every=max(1, epochs // 5), n=36, seed=seed,
                                            out_dir=os.path.join(out, "samples")))
        keys = ["loss"]
    if verbose == 1:
        cbs.append(EpochProgressBar(epochs, keys + ["val_kid" if kind == "gan" else "val_loss"]))
    backup = None
    if run is not None:  # rerunning the same command after a crash resumes from the backup
        backup = AtomicBackupAndRestore(backup_dir, run=run, stateful=[stopper])
        cbs.append(backup)
    started = time.perf_counter()
    history = model.fit(*fit_x, validation_data=val, epochs=epochs, batch_size=batch_size,
                        callbacks=cbs, verbose=2 if verbose == 2 else 0)
    wall = time.perf_counter() - started
    with atomic_path(os.path.join(out, "model.keras")) as tmp:
        model.save(tmp)
    whole = report.write_history(out, backup.history if backup is not None else history.history)
    plotting.save_figure(plotting.plot_history(whole, keys=keys, title=kind),
                         os.path.join(out, "curves.png"))
    if quality is not None and quality.history:
        plotting.save_figure(plotting.plot_quality(quality, title="sample quality"),
                             os.path.join(out, "quality.png"))
    if kind != "autoencoder":  # the final (restored) model's samples
        plotting.save_figure(plotting.plot_image_grid(
            protocol.sample(model, 36, seed=seed).reshape((36,) + _image_shape(image_size)),
            title="final samples"), os.path.join(out, "samples.png"))
    final = model.evaluate(*val, verbose=0, return_dict=True)
    result = {f"val_{k}": float(v) for k, v in final.items()}
    result.update({f"initial_val_{k}": float(v) for k, v in initial.items()})
    if quality is not None and quality.history.get("val_kid"):
        result["best_val_kid"] = None if stopper.best_epoch is None else float(stopper.best)
    result["monitor"] = stopper.monitor
    result["epochs_run"] = len(history.history[keys[0]])  # in this call
    result["history_epochs"] = len(whole[keys[0]])  # the whole run's, across resumes
    result["first_epoch"] = int(history.epoch[0]) + 1 if history.epoch else None  # > 1: resumed
    result["optimizer_steps"] = _optimizer_steps(model)
    result["stop_reason"] = getattr(model, "stop_reason", None)
    result["report"] = _report(model, history, stopper, cbs, x_train, x_val, wall, dataset,
                               image_size, epochs, out)
    result["early_stopping"] = {"best": float(stopper.best), "wait": int(stopper.wait)}
    if strategy is not None:
        result["cluster"] = distribute.global_batch_report(batch_size, strategy)
    return result


def _image_shape(image_size):
    return (image_size, image_size)


def _report(model, history, stopper, cbs, x_train, x_val, wall, dataset, image_size, epochs,
            out):
    """The run's ``report.html`` (headline, sample evolution, curves), as the demo writes it."""
    info = catalog.dataset(dataset)
    described = report.describe_data(dataset, len(x_train), len(x_val),
                                     (image_size, image_size, info.channels), info.num_classes)
    figures = [{"path": "quality.png", "caption": "FID and KID of the samples (lower is "
                "better); the red star marks the best epoch, the one early stopping restores."}]
    figures = [f for f in figures if os.path.exists(os.path.join(out, f["path"]))]
    figures.append({"path": "curves.png", "caption": "Training losses per epoch (dashed: "
                    "validation)."})
    generative = callable(getattr(model, "generate", None))
    return report.write_training_report(
        out, model, history, data=described, early_stopping=stopper, wall_s=wall, epochs=epochs,
        x_real=x_val if generative else None, num_classes=info.num_classes, figures=figures,
        sample_grid=next((c for c in cbs if isinstance(c, callbacks.SampleGrid)), None))


def _optimizer_steps(model):
    """``{name: iterations}`` of each optimizer of ``model`` (two for a GAN)."""
    if hasattr(model, "optimizers_by_name"):
        return {k: _count(o.iterations) for k, o in model.optimizers_by_name().items()}
    return {"optimizer": _count(model.optimizer.iterations)}


def _count(variable):
    """An int from a step-count variable (a ``MirroredVariable`` under a strategy)."""
    return int(np.asarray(variable.numpy()))

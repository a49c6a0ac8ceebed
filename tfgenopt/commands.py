"""What the ``train``, ``lr-find`` and ``landscape`` subcommands do, as plain functions.

Each takes the parsed ``argparse.Namespace`` of :mod:`tfgenopt.cli` and returns a small
JSON-able dict that the command prints.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from tfgenopt._backup import AtomicBackupAndRestore, check_backup_run
from tfgenopt._io import atomic_path, atomic_write_json

__all__ = ["make_model", "train", "lr_find_command", "landscape_command"]


def _load(args, flatten, value_range=(0.0, 1.0)):
    from tfgenopt.data import load

    return load(args.dataset, image_size=args.image_size, flatten=flatten, seed=args.seed,
                value_range=value_range)


def make_model(kind, input_dim, optimizer="adam", lr=None, loss="non_saturating", ema=None,
               latent_dim=None, seed=0):
    """Build and compile the toolkit's recommended model of ``kind`` for flat ``input_dim`` data.

    ``gan``: the dense 100-64-32-784-style GAN with Adam(2e-4, beta_1=0.5) for both players
    (TTUR-ready); ``vae``: dense VAE; ``autoencoder``: the classic dense autoencoder.

    Example:
        >>> ae = make_model("autoencoder", 784)
    """
    import keras

    from tfgenopt import builders, models

    def opt(default_lr, **kwargs):
        if optimizer == "adam":
            return keras.optimizers.Adam(lr or default_lr, **kwargs)
        try:
            o = keras.optimizers.get(optimizer)
        except ValueError:
            raise ValueError(f"`optimizer` must be a keras.optimizers name ('adam', 'sgd', "
                             f"'rmsprop', ...); received {optimizer!r}.") from None
        o.learning_rate = lr or default_lr
        return o

    if kind == "autoencoder":
        model = builders.dense_autoencoder(input_dim, seed=seed)
        model.compile(opt(1e-3), "binary_crossentropy")
        return model
    if kind == "vae":
        latent = latent_dim or 8
        model = models.VAE(builders.vae_encoder(input_dim, latent, seed=seed),
                           builders.vae_decoder(latent, input_dim, seed=seed), seed=seed)
        model.compile(opt(1e-3))
        return model
    if kind == "gan":
        latent = latent_dim or 100
        model = models.GAN(builders.dense_generator(latent, output_dim=input_dim, seed=seed),
                           builders.dense_discriminator(input_dim, seed=seed + 1),
                           latent_dim=latent, ema=ema, seed=seed)
        model.compile(d_optimizer=opt(2e-4, beta_1=0.5) if optimizer == "adam" else opt(2e-4),
                      g_optimizer=opt(2e-4, beta_1=0.5) if optimizer == "adam" else opt(2e-4),
                      loss=loss)
        return model
    raise ValueError(f"`kind` must be one of ['autoencoder', 'gan', 'vae']; received {kind!r}.")


def train(args):
    """Train a model of ``args.kind`` on ``args.dataset`` and save it with its curves."""
    from tfgenopt import callbacks, plotting
    from tfgenopt.report import _jsonable

    run = None
    if getattr(args, "backup_dir", None):  # refuse another run's backup before any work
        run = {k: v for k, v in sorted(vars(args).items()) if k not in ("verbose", "func")}
        check_backup_run(args.backup_dir, run)
    os.makedirs(args.out, exist_ok=True)  # an unwritable --out fails here, not after training
    x_train, x_val = _load(args, flatten=True)
    model = make_model(args.kind, x_train.shape[1], args.optimizer, args.lr, args.loss, args.ema,
                       args.latent_dim, args.seed)
    supervised = args.kind == "autoencoder"
    fit_x = (x_train, x_train) if supervised else (x_train,)
    val = (x_val, x_val) if supervised else (x_val,)
    monitor = "val_loss" if args.kind != "gan" else "val_g_loss"
    initial = model.evaluate(*val, verbose=0, return_dict=True)
    cbs = [callbacks.EarlyStopping(monitor=monitor, patience=args.patience,
                                   restore_best_weights=True, verbose=min(args.verbose, 1))]
    if args.kind != "autoencoder":
        cbs.append(callbacks.SampleGrid(every=max(1, args.epochs // 5), n=36,
                                        out_dir=os.path.join(args.out, "samples"),
                                        seed=args.seed))
    if run is not None:  # rerunning the same command after a crash resumes from the backup
        cbs.append(AtomicBackupAndRestore(args.backup_dir, run=run))
    history = model.fit(*fit_x, validation_data=val, epochs=args.epochs,
                        batch_size=args.batch_size, callbacks=cbs, verbose=args.verbose)
    with atomic_path(os.path.join(args.out, "model.keras")) as tmp:
        model.save(tmp)
    atomic_write_json(os.path.join(args.out, "history.json"), _jsonable(history.history),
                      indent=2)
    keys = ["loss"] if args.kind != "gan" else ["d_loss", "g_loss"]
    plotting.save_figure(plotting.plot_history(history, keys=keys, title=args.kind),
                         os.path.join(args.out, "curves.png"))
    final = model.evaluate(*val, verbose=0, return_dict=True)
    result = {f"val_{k}": float(v) for k, v in final.items()}
    result.update({f"initial_val_{k}": float(v) for k, v in initial.items()})
    result["epochs_run"] = len(history.history[keys[0]])
    result["first_epoch"] = int(history.epoch[0]) + 1 if history.epoch else None  # > 1: resumed
    result["optimizer_steps"] = _optimizer_steps(model)
    result["stop_reason"] = getattr(model, "stop_reason", None)
    result["out"] = args.out
    return result


def _optimizer_steps(model):
    """``{name: iterations}`` of each optimizer of ``model`` (two for a GAN)."""
    if hasattr(model, "optimizers_by_name"):
        return {k: int(o.iterations) for k, o in model.optimizers_by_name().items()}
    return {"optimizer": int(model.optimizer.iterations)}


def lr_find_command(args):
    """Run the LR range test for a fresh model of ``args.kind``; save the figure."""
    from tfgenopt import lr_find, plotting

    os.makedirs(args.out, exist_ok=True)  # an unwritable --out fails before the range test
    x_train, _ = _load(args, flatten=True)
    model = make_model(args.kind, x_train.shape[1], args.optimizer, seed=args.seed)
    data = (x_train, x_train) if args.kind == "autoencoder" else (x_train, None)
    result = lr_find(model, data[0], data[1], min_lr=args.min_lr, max_lr=args.max_lr,
                     steps=args.steps, batch_size=args.batch_size, verbose=args.verbose)
    path = plotting.save_figure(result.plot(), os.path.join(args.out, "lr_find.png"))
    return {"suggested_lr": float(result.suggestion), "min_div10": float(result.min_div10),
            "monitor": result.monitor, "diverged": bool(result.diverged), "figure": path}


def landscape_command(args):
    """Probe a saved ``.keras`` model's loss landscape on a probe set of the dataset.

    A GAN is probed per player (discriminator and generator, each in its own weights); a VAE
    through its ELBO; any other compiled model through its compiled loss (targets = inputs).
    """
    import keras

    import tfgenopt.models  # noqa: F401  (registers GAN and VAE for load_model)
    from tfgenopt import landscape, plotting

    if not os.path.exists(args.model):
        raise FileNotFoundError(f"`model` {args.model!r} does not exist.")
    os.makedirs(args.out, exist_ok=True)  # an unwritable --out fails before any probe
    if not zipfile.is_zipfile(args.model):
        raise ValueError(f"`model` {args.model!r} is not a .keras file (not a zip archive; "
                         "truncated or another format?).")
    try:
        model = keras.saving.load_model(args.model)
    except Exception as exc:  # KeyError, OSError, TypeError...: one clear error naming the file
        raise ValueError(f"`model` {args.model!r} is not a readable .keras file "
                         f"({type(exc).__name__}: {exc}).") from None
    inputs = model.networks()["discriminator"].inputs if hasattr(model, "generator_loss") else \
        (model.networks()["encoder"].inputs if hasattr(model, "elbo_terms") else model.inputs)
    flat = len(inputs[0].shape) == 2
    x_train, _ = _load(args, flatten=flat)
    probe = x_train[: args.probe_size]
    players = ("discriminator", "generator") if hasattr(model, "generator_loss") else (None,)
    result = {}
    for player in players:
        tag = f"{player}_" if player else ""
        common = {"player": player} if player else {}
        if "1d" in args.kind:
            sl = landscape.slice_1d(model, probe, alphas=np.linspace(-1, 1, args.grid),
                                    seed=args.seed, **common)
            result[f"{tag}slice_loss_at_0"] = float(sl["loss"][args.grid // 2])
            result[f"{tag}slice_loss_max"] = float(np.max(sl["loss"]))
        if "2d" in args.kind:
            surf = landscape.surface_2d(model, probe, grid=args.grid, seed=args.seed,
                                        verbose=args.verbose, **common)
            name = f"{tag}surface.png"
            plotting.save_figure(plotting.plot_surface(surf, title=f"{player or 'loss'} surface"),
                                 os.path.join(args.out, name))
            result[f"{tag}surface_min"] = float(np.min(surf["loss"]))
        if "hessian" in args.kind:
            eig = landscape.hessian_eigenvalues(model, probe, k=1, seed=args.seed, **common)
            result[f"{tag}hessian_top"] = float(np.max(eig))
        if "trace" in args.kind:
            result[f"{tag}hessian_trace"] = float(
                landscape.hessian_trace(model, probe, samples=16, seed=args.seed, **common)["trace"])
        if "noise_scale" in args.kind:
            result[f"{tag}grad_noise_scale"] = float(landscape.gradient_noise_scale(
                model, probe, seed=args.seed, **common)["noise_scale"])
        if "sharpness" in args.kind:
            result[f"{tag}sharpness"] = float(landscape.sharpness(model, probe, **common)["sharpness"])
    result["out"] = args.out
    return result

"""Cell sources of the notebooks; `python notebooks/build.py` writes the .ipynb files."""

NB01 = ("The classic autoencoder: early stopping and an optimizer comparison",
        "The 784-64-32-784 dense autoencoder on the bundled digits (28x28), trained with "
        "`model.fit` and tfgenopt's early stopping, then SGD, Adam, RMSprop and Adagrad "
        "compared from identical starting weights.", [
    ("code", '''EPOCHS = 3 if QUICK else 40
x_train, x_val = tg.data.load_digits(image_size=28, flatten=True, validation_split=0.2)
x_train = x_train[:320] if QUICK else x_train  # 5 batches: the test suite's quick run
ae = tg.builders.dense_autoencoder()          # exactly 784-64-32-784, 78,192 parameters
ae.compile(keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
ae.summary()'''),
    ("code", '''stop = tg.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
history = ae.fit(x_train, x_train, validation_data=(x_val, x_val), epochs=EPOCHS,
                 batch_size=64, callbacks=[stop], verbose=0)
print("epochs run:", len(history.history["loss"]), "| best val_loss:",
      min(history.history["val_loss"]), "| stop reason:", stop.stopped_reason)
tg.plotting.plot_history(history, keys=["loss"], title="autoencoder")'''),
    ("md", "Reconstructions of the first validation digits (top: input, bottom: output)."),
    ("code", '''pairs = np.concatenate([x_val[:8], ae.predict(x_val[:8], verbose=0)])
tg.plotting.plot_image_grid(pairs, ncols=8)'''),
    ("md", "## Which optimizer?\nThe same model, the same initial weights, the same batches; "
           "only the optimizer differs."),
    ("code", '''histories, fig = tg.tuning.compare_optimizers(
    tg.builders.dense_autoencoder, x_train, validation_data=x_val,
    loss="binary_crossentropy", epochs=2 if QUICK else 15, verbose=0)
for name, h in histories.items():
    print(f"{name:8s} final val_loss {h['val_loss'][-1]:.4f}")
fig'''),
])

NB02 = ("A GAN with the custom train_step: losses, EMA and sample grids",
        "`tfgenopt.models.GAN` is a `keras.Model` whose `train_step` updates the discriminator "
        "then the generator (the keras.io recipe, with options as small named steps). Here: the "
        "dense GAN on digits with the default recipe (it covers all 10 digits), then a WGAN-GP.", [
    ("code", '''EPOCHS = 2 if QUICK else 60
x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)
x_train = x_train[:320] if QUICK else x_train  # 5 batches: the test suite's quick run
gan = tg.models.GAN(tg.builders.dense_generator(latent_dim=100),
                    tg.builders.dense_discriminator(), latent_dim=100, seed=0)
# The measured default recipe (README: "Which GAN recipe, and why"): Adam with TTUR
# (D 1e-3, G 5e-4, beta_1 0.5), a lazy R1 penalty and the EMA generator (0.999, ramped).
gan.compile()
print({k: gan.get_compile_config()[k] for k in ("loss", "r1", "r1_every")})
print(tg.losses.names())'''),
    ("code", '''import tempfile
grids = tempfile.mkdtemp()
history = gan.fit(x_train, validation_data=(x_val,), epochs=EPOCHS, batch_size=64, verbose=0,
                  callbacks=[tg.callbacks.SampleGrid(every=max(1, EPOCHS // 4), n=36,
                                                     out_dir=grids, seed=0)])
print(sorted(history.history))
tg.plotting.plot_history(history, keys=["d_loss", "g_loss"], title="dense GAN")'''),
    ("md", "Samples from the EMA generator (used by `generate()` by default) and from the raw "
           "generator, for the same noise."),
    ("code", '''tg.plotting.plot_image_grid(gan.generate(36, seed=0), title="EMA generator")'''),
    ("code", '''tg.plotting.plot_image_grid(gan.generate(36, seed=0, use_ema=False), title="raw generator")'''),
    ("md", "## WGAN-GP\nThe Wasserstein loss with a gradient penalty and 5 critic steps per "
           "generator step (n-critic), as in Gulrajani et al. (2017)."),
    ("code", '''wgan = tg.models.GAN(tg.builders.dense_generator(latent_dim=100),
                     tg.builders.dense_discriminator(), latent_dim=100, seed=0)
wgan.compile(d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
             g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9),
             loss="wasserstein", gradient_penalty=10.0, d_steps=5)
h = wgan.fit(x_train, epochs=1 if QUICK else 20, batch_size=64, verbose=0)
print({k: round(v[-1], 3) for k, v in h.history.items()})'''),
    ("md", "The model saves and reloads as `.keras` with both optimizers' state and the EMA."),
    ("code", '''import os
path = os.path.join(tempfile.mkdtemp(), "gan.keras")
gan.save(path)
again = keras.saving.load_model(path)
np.testing.assert_allclose(again.generate(4, seed=1), gan.generate(4, seed=1), atol=1e-6)
print("reloaded; d_optimizer step", int(again.d_optimizer.iterations))'''),
])

NB03 = ("Schedules, the LR finder and GAN-aware early stopping",
        "Learning-rate schedules for each of a GAN's optimizers, the learning-rate range test "
        "(which restores the model exactly afterwards), and an early stopping that understands "
        "GAN metrics, divergence and collapse.", [
    ("code", '''from tfgenopt import schedules
steps = 2000
for sched in (schedules.WarmupCosine(1e-3, steps, warmup_steps=200),
              schedules.OneCycle(1e-3, steps),
              schedules.Cyclical(1e-4, 1e-3, step_size=250, mode="triangular2"),
              schedules.StepDecay(1e-3, every=500, drop=0.5)):
    print(type(sched).__name__, [round(float(sched(s)), 6) for s in (0, 200, 1000, 1999)])
tg.plotting.plot_schedule(schedules.OneCycle(1e-3, steps), steps, title="OneCycle")'''),
    ("md", "## The learning-rate range test\nAn exponential sweep of the learning rate over "
           "a few hundred batches; the suggestion is the steepest descent of the smoothed loss."),
    ("code", '''x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)
x_train = x_train[:320] if QUICK else x_train  # 5 batches: the test suite's quick run
ae = tg.builders.dense_autoencoder()
ae.compile(keras.optimizers.Adam(), "binary_crossentropy")
before = [w.copy() for w in ae.get_weights()]
result = tg.lr_find(ae, x_train, x_train, min_lr=1e-5, max_lr=1.0, steps=30 if QUICK else 150,
                    batch_size=64, verbose=0)
assert all((a == b).all() for a, b in zip(before, ae.get_weights()))  # weights untouched
print(f"suggested {result.suggestion:.2e}, minimum/10 {result.min_div10:.2e}")
result.plot()'''),
    ("md", "## Early stopping on a quality metric\n`QualityMonitor` writes `val_kid` (and FID, "
           "coverage) into the logs; it must come **before** `EarlyStopping`, which infers that "
           "lower KID is better, smooths the noisy curve, restores every network of the GAN "
           "(generator, discriminator, EMA generator) and records why it stopped. `CollapseMonitor` "
           "stops the run when the discriminator wins outright (its loss below a floor)."),
    ("code", '''EPOCHS = 3 if QUICK else 60
gan = tg.models.GAN(tg.builders.dense_generator(), tg.builders.dense_discriminator(),
                    latent_dim=100, ema=0.99, seed=0)
gan.compile(d_optimizer=keras.optimizers.Adam(schedules.WarmupCosine(2e-4, 23 * EPOCHS, 50),
                                              beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
stop = tg.callbacks.EarlyStopping(monitor="val_kid", patience=8, smoothing="median",
                                  restore_best_weights=True)
# collapse detection is CollapseMonitor's: here only the discriminator-loss floor
collapse = tg.callbacks.CollapseMonitor(min_classes=0, threshold=0.0, d_loss_floor=1e-3,
                                        patience=3)
history = gan.fit(x_train, validation_data=(x_val,), epochs=EPOCHS, batch_size=64, verbose=0,
                  callbacks=[tg.callbacks.QualityMonitor(x_val, metrics=("kid", "coverage"),
                                                         n_samples=200 if QUICK else 1000),
                             stop, collapse, tg.callbacks.LearningRateLogger()])
print("stop reason:", gan.stop_reason, "| best epoch:", stop.best_epoch)  # either callback's
print("logged:", sorted(history.history))
tg.plotting.plot_quality(history)'''),
    ("md", "Keras' own `EarlyStopping(monitor=\"g_loss\")` cannot tell the direction of a "
           "custom metric; ours infers it for the toolkit's names and asks for `mode` otherwise."),
    ("code", '''try:
    tg.callbacks.EarlyStopping(monitor="my_metric")
except ValueError as err:
    print(err)'''),
])

NB04 = ("Loss landscapes and curvature",
        "Where does training go, and how curved is the loss there? Filter-normalized slices and "
        "surfaces, the trajectory on its PCA plane, Hessian eigenvalues, trace, sharpness, the "
        "gradient noise scale, and for a GAN each player's curvature and the game's rotation. "
        "Every probe leaves weights, optimizer state and BatchNorm statistics untouched.", [
    ("code", '''from tfgenopt import landscape as L
x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)
x_train = x_train[:320] if QUICK else x_train  # 5 batches: the test suite's quick run
probe = x_val[:128 if QUICK else 512]
ae = tg.builders.dense_autoencoder()
ae.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
w_init = L.get_weights(ae)
cb = tg.callbacks.LossLandscape(probe, every=1 if QUICK else 5,
                                kind=("1d", "hessian", "trace"), grid=7 if QUICK else 21,
                                iterations=5 if QUICK else 20, trace_samples=4 if QUICK else 16,
                                trajectory=True, seed=0, verbose=0)
history = ae.fit(x_train, x_train, epochs=3 if QUICK else 30, batch_size=64, verbose=0,
                 callbacks=[cb])
print({k: [round(v, 3) for v in vals] for k, vals in history.history.items() if "hessian" in k})'''),
    ("code", '''tg.plotting.plot_slices(cb.history, title="1-D slices across epochs")'''),
    ("code", '''tg.plotting.plot_curvature(cb.history, title="curvature across epochs")'''),
    ("md", "The trajectory of the weights projected on its own PCA plane, over the loss "
           "surface of that plane."),
    ("code", '''surf = cb.trajectory_surfaces["model"]   # one per network probed (a GAN: per player)
print("variance explained by the PCA plane:", np.round(surf["explained_variance_ratio"], 3))
tg.plotting.plot_surface(surf, trajectory=surf["trajectory"], title="trajectory on its PCA plane")'''),
    ("md", "## Probes without a callback"),
    ("code", '''d1, d2 = L.random_directions(ae, 2, seed=0)
surface = L.surface_2d(ae, probe, d1, d2, grid=7 if QUICK else 25)
path = L.interpolate(ae, probe, w_init, alphas=9)          # from the initial weights to now
print("loss along init -> trained:", np.round(path["loss"], 3))
print("top-3 Hessian eigenvalues:", L.hessian_eigenvalues(ae, probe, k=3))
print("sharpness:", L.sharpness(ae, probe, radius=0.05)["sharpness"])
print("gradient noise scale:", L.gradient_noise_scale(ae, probe, batch_size=16)["noise_scale"])
tg.plotting.plot_surface(surface, title="autoencoder loss surface")'''),
    ("code", '''tg.plotting.plot_surface_3d(surface)'''),
    ("md", "## A GAN's two players and the game\nEach player's Hessian of its own loss in its own "
           "weights, and the rotation index of the joint gradient field (0 = plain minimization, "
           "1 = pure rotation)."),
    ("code", '''gan = tg.models.GAN(tg.builders.dense_generator(), tg.builders.dense_discriminator(),
                    latent_dim=100, seed=0)
gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
gan.fit(x_train, epochs=1 if QUICK else 20, batch_size=64, verbose=0)
for player in ("discriminator", "generator"):
    print(player, "top eigenvalue", L.hessian_eigenvalues(gan, probe, player=player,
                                                          iterations=5 if QUICK else 20))
print("rotation index", L.rotation_index(gan, probe))'''),
])

NB05 = ("Keras Tuner experiments",
        "Hyperparameter searches over the package's builders with Keras Tuner: optimizer, "
        "learning rate, batch size, normalization, widths. `search()` wires the tuner, early "
        "stopping and (for GANs) the quality metric; the result exports a table and figures.", [
    ("code", '''import tempfile
x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)
hm = tg.tuning.AutoencoderHyperModel(784, seed=0, overrides={
    "epochs": 2 if QUICK else 10,
    "optimizer": ["sgd", "adam", "rmsprop", "adagrad"],
    "learning_rate": {"min": 1e-4, "max": 3e-2, "sampling": "log"},
})
out = tempfile.mkdtemp()
result = tg.tuning.search(hm, x_train, x_val, tuner="random", max_trials=2 if QUICK else 12,
                          directory=out, project_name="ae", seed=0, verbose=0)
print(result.statuses())
print("best:", result.best_values, "score", result.best_score)'''),
    ("code", '''for row in result.ranked()[:5]:   # one dict per trial, best first
    print(row)'''),
    ("code", '''figs = result.figures()
list(figs)'''),
    ("code", '''next(iter(figs.values()))'''),
    ("md", "The same search as a script: `tfgenopt tune examples/tune_autoencoder.toml` "
           "(add `--resume` to continue it, `--chief` / `--worker N` to distribute it)."),
])

NB06 = ("The VAE",
        "`tfgenopt.models.VAE`: reparameterization, reconstruction + beta * KL in its own "
        "`train_step`, with a KL warm-up callback annealing `beta`.", [
    ("code", '''EPOCHS = 3 if QUICK else 50
x_train, x_val = tg.data.load_digits(image_size=28, flatten=True)
vae = tg.models.VAE(tg.builders.vae_encoder(784, latent_dim=2),
                    tg.builders.vae_decoder(2, 784), beta=1.0, seed=0)
vae.compile(keras.optimizers.Adam(1e-3))
history = vae.fit(x_train, validation_data=(x_val,), epochs=EPOCHS, batch_size=64, verbose=0,
                  callbacks=[tg.callbacks.KLWarmup(start=0.0, end=1.0, epochs=max(1, EPOCHS // 3)),
                             tg.callbacks.EarlyStopping(monitor="val_loss", patience=5,
                                                        restore_best_weights=True)])
print({k: round(v[-1], 3) for k, v in history.history.items()})
tg.plotting.plot_history(history, keys=["loss", "reconstruction_loss", "kl_loss"])'''),
    ("code", '''tg.plotting.plot_image_grid(vae.generate(36, seed=0), title="samples from the prior")'''),
    ("md", "The 2-D latent space: encoded means of the validation digits, coloured by class."),
    ("code", '''(_, _), (xv, yv) = tg.data.load_digits(image_size=28, flatten=True, return_labels=True)
z_mean, _ = vae.encode(xv)
fig, ax = tg.plotting.new_figure(figsize=(5, 4))
sc = ax.scatter(np.asarray(z_mean)[:, 0], np.asarray(z_mean)[:, 1], c=yv, cmap="tab10", s=6)
fig.colorbar(sc, ax=ax)
fig'''),
])

NB07 = ("Diffusion: train, stop on quality, samplers by cost, compare families",
        "`tfgenopt.models.Diffusion` trains a U-Net denoiser with `fit` and its default recipe "
        "(`compile()` with no arguments); `QualityMonitor` and `EarlyStopping` on `val_kid` decide "
        "when to stop, since the loss says little. Then the same model sampled with several "
        "samplers and step counts (the cost is in network evaluations), classifier-free guidance "
        "on a conditional model, and `tg.compare`: GAN, diffusion and VAE on the same data for "
        "the same CPU budget.", [
    ("code", """from tfgenopt.report import describe_recipe

SIZE = 8 if QUICK else 32                      # the default U-Net needs sides divisible by 8
WIDTHS = (8,) if QUICK else (32, 64, 96, 128)     # the builder's default widths (keras.io DDIM)
EPOCHS = 2 if QUICK else 40
(x_train, y_train), (x_val, y_val) = tg.data.load_digits(image_size=SIZE, return_labels=True)
if QUICK:
    x_train, y_train, x_val, y_val = x_train[:256], y_train[:256], x_val[:64], y_val[:64]
model = tg.models.Diffusion(tg.builders.unet((SIZE, SIZE, 1), widths=WIDTHS, seed=0),
                            value_range=(0.0, 1.0), seed=0)
model.compile()                                   # the default recipe
quality = tg.callbacks.QualityMonitor((x_val, y_val), metrics=("fid", "kid", "coverage"),
                                      every=1 if QUICK else 2)
stop = tg.callbacks.EarlyStopping("val_kid", patience=8, smoothing="ema",
                                  restore_best_weights=True)
history = model.fit(x_train, batch_size=64, epochs=EPOCHS, validation_data=(x_val,),
                    callbacks=[quality, stop], verbose=0)   # QualityMonitor BEFORE EarlyStopping
sampler, steps = model.recipe.sampling()
print("recipe:", describe_recipe(model))
print("epochs:", len(history.epoch), "| restored epoch:", (stop.best_epoch or 0) + 1,
      "| samples drawn with", sampler, steps, "steps =",
      tg.diffusion.samplers.evaluations(sampler, steps), "network evaluations")
tg.plotting.plot_quality(quality)"""),
    ("code", """tg.plotting.plot_image_grid(model.generate(36, seed=0), title="samples (EMA network)")"""),
    ("md", "## Samplers by cost\nThe same trained model, several samplers and step counts. A "
           "quality number means little without the sampler and its network evaluations beside it."),
    ("code", """import time

real = tg.evaluation.extract_features(x_val, "digits")
rows = []
for name, k in [("euler", 5), ("euler", 20), ("heun", 5), ("heun", 10), ("ddim", 10),
                ("dpmpp_2m", 10)]:
    started = time.process_time()
    images = model.generate(len(x_val), seed=0, sampler=name, steps=k)
    seconds = time.process_time() - started
    kid, _ = tg.evaluation.kid(real, tg.evaluation.extract_features(images, "digits"),
                               subsets=10, subset_size=min(len(x_val), 200))
    rows.append((name, k, tg.diffusion.samplers.evaluations(name, k), kid, seconds))
print(f"{'sampler':9} {'steps':>5} {'evals':>5} {'KID':>8} {'CPU s':>6}")
for name, k, evals, kid, seconds in rows:
    print(f"{name:9} {k:5d} {evals:5d} {kid:8.4f} {seconds:6.2f}")"""),
    ("md", "## Guidance on a conditional model\nLabels in, `label_dropout` (a recipe default) "
           "teaches the 'no label' class, and `guidance=w` mixes the two predictions."),
    ("code", """cond = tg.models.Diffusion(tg.builders.unet((SIZE, SIZE, 1), widths=WIDTHS,
                                           num_classes=10, seed=0),
                           conditional=True, num_classes=10, value_range=(0.0, 1.0), seed=0)
cond.compile()
cond.fit(x_train, y_train, batch_size=64, epochs=1 if QUICK else 30, verbose=0)
labels = np.repeat(np.arange(10), 4)
grids = [cond.generate(40, labels=labels, seed=0, guidance=w) for w in (1.0, 3.0)]
tg.plotting.plot_image_grid(np.concatenate(grids), ncols=10,
                            title="guidance 1 (top four rows) and 3 (bottom four)")"""),
    ("md", "## Which family for this data and budget?\n`tg.compare` trains the GAN, diffusion "
           "and VAE defaults for the same CPU seconds each, scores them on one extractor and "
           "writes `report.html` with the pick (`tfgenopt compare --budget 300` from a shell)."),
    ("code", """import tempfile

summary = tg.compare("digits", budget=1 if QUICK else 300, image_size=SIZE,
                     widths=WIDTHS if QUICK else None, n_samples=64 if QUICK else None,
                     families=("diffusion", "vae") if QUICK else ("gan", "diffusion", "vae"),
                     out=tempfile.mkdtemp(), verbose=0)
print("pick:", summary["pick"], "-", summary["reason"])
for family, r in summary["families"].items():
    print(f"{family:9} FID {r['fid']:7.1f}  KID {r['kid']:.3f}  epochs {r['epochs']:3d}  "
          f"{r['sample_cpu_s_per_image']:.4f} CPU-s/image ({r['evaluations_per_image']} evals)")
tg.plotting.plot_quality_vs_time({f: r["curve"] for f, r in summary["families"].items()})"""),
])

NOTEBOOKS = {
    "01_autoencoder.ipynb": NB01,
    "02_gan.ipynb": NB02,
    "03_schedules_lr_early_stopping.ipynb": NB03,
    "04_landscape.ipynb": NB04,
    "05_tuning.ipynb": NB05,
    "06_vae.ipynb": NB06,
    "07_diffusion.ipynb": NB07,
}

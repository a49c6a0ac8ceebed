"""Bad-input sweep of the public API: each mistake raises one clear error naming the argument.

Every case is ``(call, exception type, fragment)``: the call must raise exactly that type (not
a TensorFlow error from deep inside), and the message must contain the fragment, which names
the argument (or path) at fault. Models and data come from module-scoped fixtures; no case
trains beyond a step. The CLI's share of the sweep is in ``test_bad_input_cli.py``.
"""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

import tfgenopt as tg

NAN = np.full((8, 12), np.nan, dtype="float32")
X12 = np.random.default_rng(0).random((16, 12)).astype("float32")


@pytest.fixture(autouse=True)
def _seed_everything():
    """Overrides the suite's per-test ``clear_session`` (about 1 s of garbage collection per
    test on 2 cores): these cases build nothing that outlives them but the shared models."""
    yield


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """Tiny networks and models shared by every case (none is trained by a case)."""
    keras.utils.set_random_seed(0)
    # As root, chmod does not stop a write: a folder *below a regular file* is unwritable for
    # everyone (NotADirectoryError), so that is the "unwritable output folder" of the sweep.
    plain = tmp_path_factory.mktemp("bad_api") / "plain_file"
    plain.write_text("a file, not a folder")
    g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=12, seed=0)
    d = tg.builders.dense_discriminator(input_dim=12, hidden=(8,), seed=1)
    gan = tg.models.GAN(g, d, latent_dim=4, seed=0)
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(X12, batch_size=8, epochs=1, verbose=0)  # built optimizers: state to protect
    enc = tg.builders.vae_encoder(12, latent_dim=2, hidden=(8,), seed=0)
    dec = tg.builders.vae_decoder(2, 12, hidden=(8,), seed=0)
    vae = tg.models.VAE(enc, dec, seed=0)
    vae.compile(keras.optimizers.Adam(1e-3))
    vae.fit(X12, batch_size=8, epochs=1, verbose=0)
    ae = tg.builders.dense_autoencoder(12, hidden=(6,), seed=0)
    ae.compile("adam", "mse")
    return SimpleNamespace(g=g, d=d, gan=gan, enc=enc, dec=dec, vae=vae, ae=ae,
                           unwritable=str(plain / "sub"))


def feats(n=20, dim=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim))


C = []  # (id, call(ctx), exception type, fragment the message must contain)


def case(id_, exc, fragment):
    def register(fn):
        C.append(pytest.param(fn, exc, fragment, id=id_))
        return fn
    return register


def cases(exc, fragment, **calls):
    for id_, fn in calls.items():
        case(id_, exc, fragment)(fn)


# -- data ----------------------------------------------------------------------------------
data = tg.data
cases(ValueError, "image_size", data_digits_size=lambda c: data.load_digits(image_size=12))
cases(ValueError, "validation_split",
      data_split_above_1=lambda c: data.load_digits(validation_split=1.5),
      data_split_negative=lambda c: data.load_digits(validation_split=-0.1))
cases(ValueError, "value_range", data_range_reversed=lambda c: data.load_digits(value_range=(1, 0)))
cases(ValueError, "cifar10", data_unknown_name=lambda c: data.load("cifar10"))
cases(TypeError, "x", data_scale_strings=lambda c: data.scale(np.array(["a", "b"])))
cases(ValueError, "x",
      data_as_dataset_empty=lambda c: data.as_dataset(np.zeros((0, 4))),
      data_as_dataset_nan=lambda c: data.as_dataset(NAN),
      data_as_dataset_inf=lambda c: data.as_dataset(np.full((4, 3), np.inf)),
      data_as_dataset_1d=lambda c: data.as_dataset(np.zeros(5)))
cases(TypeError, "x", data_as_dataset_strings=lambda c: data.as_dataset(np.array([["a"], ["b"]])),
      data_as_dataset_none=lambda c: data.as_dataset(None))
cases(ValueError, "y", data_as_dataset_y_length=lambda c: data.as_dataset(X12, np.zeros(3)))
cases(ValueError, "batch_size", data_as_dataset_batch_0=lambda c: data.as_dataset(X12, batch_size=0))

# -- builders ------------------------------------------------------------------------------
B = tg.builders
cases(ValueError, "input_dim", build_ae_input_dim_0=lambda c: B.dense_autoencoder(input_dim=0))
cases(ValueError, "hidden", build_ae_hidden_empty=lambda c: B.dense_autoencoder(hidden=()),
      build_ae_hidden_negative=lambda c: B.dense_autoencoder(hidden=(8, -2)))
cases(ValueError, "activation", build_ae_activation=lambda c: B.dense_autoencoder(activation="nope"))
cases(ValueError, "latent_dim", build_g_latent_negative=lambda c: B.dense_generator(latent_dim=-1),
      build_vae_encoder_latent_0=lambda c: B.vae_encoder(12, latent_dim=0))
cases(ValueError, "kernel_initializer",
      build_g_initializer=lambda c: B.dense_generator(kernel_initializer="nope"))
cases(ValueError, "dropout", build_d_dropout=lambda c: B.dense_discriminator(dropout=1.5))
cases(ValueError, "normalization",
      build_d_normalization=lambda c: B.dense_discriminator(normalization="nope"))
cases(ValueError, "num_classes", build_g_one_class=lambda c: B.dense_generator(num_classes=1))
cases(ValueError, "image_shape",
      build_dcgan_g_size=lambda c: B.dcgan_generator(image_shape=(30, 30, 1)),
      build_dcgan_d_rank=lambda c: B.dcgan_discriminator(image_shape=(28, 28)))
cases(TypeError, "filters", build_conv_ae_filters=lambda c: B.conv_autoencoder(filters=1.5))
cases(ValueError, "output_shape", build_vae_decoder_shape=lambda c: B.vae_decoder(2, -3))
cases(TypeError, "seed", build_ae_seed_string=lambda c: B.dense_autoencoder(seed="0"))

# -- GAN -----------------------------------------------------------------------------------
GAN = tg.models.GAN
cases(ValueError, "latent_dim", gan_latent_mismatch=lambda c: GAN(c.g, c.d, latent_dim=5))
cases(TypeError, "discriminator", gan_d_not_a_model=lambda c: GAN(c.g, "d", latent_dim=4))
cases(ValueError, "ema", gan_ema_one=lambda c: GAN(c.g, c.d, latent_dim=4, ema=1.0))
cases(ValueError, "num_classes",
      gan_conditional_no_classes=lambda c: GAN(c.g, c.d, latent_dim=4, conditional=True),
      gan_classes_unconditional=lambda c: GAN(c.g, c.d, latent_dim=4, num_classes=3))
cases(ValueError, "loss", gan_compile_unknown_loss=lambda c: c.gan.compile(loss="nope"))
cases(ValueError, "d_steps", gan_compile_d_steps_0=lambda c: c.gan.compile(d_steps=0))
cases(ValueError, "gradient_penalty",
      gan_compile_negative_gp=lambda c: c.gan.compile(gradient_penalty=-1.0))
cases(ValueError, "gradient_penalty",
      gan_compile_nan_gp=lambda c: c.gan.compile(gradient_penalty=float("nan")))
cases(ValueError, "label_smoothing",
      gan_compile_smoothing_hinge=lambda c: c.gan.compile(loss="hinge", label_smoothing=0.1))
cases(ValueError, "d_optimizer", gan_compile_unknown_optimizer=lambda c: c.gan.compile(
    d_optimizer="nope"))


def _same_optimizer(c):
    opt = keras.optimizers.Adam()
    c.gan.compile(d_optimizer=opt, g_optimizer=opt)


cases(ValueError, "g_optimizer", gan_compile_same_optimizer=_same_optimizer)
cases(ValueError, "NaN", gan_fit_nan=lambda c: c.gan.fit(NAN, batch_size=4, verbose=0))
cases(ValueError, "discriminator",
      gan_fit_wrong_width=lambda c: c.gan.fit(np.zeros((8, 10), "float32"), verbose=0))
cases(ValueError, "empty", gan_fit_empty=lambda c: c.gan.fit(np.zeros((0, 12), "float32"), verbose=0))
cases(TypeError, "x", gan_fit_strings=lambda c: c.gan.fit(np.full((8, 12), "a"), verbose=0))
cases(ValueError, "n", gan_generate_zero=lambda c: c.gan.generate(0))
cases(TypeError, "n", gan_generate_string=lambda c: c.gan.generate("3"))
cases(ValueError, "labels", gan_generate_labels_unconditional=lambda c: c.gan.generate(
    2, labels=[0, 1]))

# -- VAE -----------------------------------------------------------------------------------
VAE = tg.models.VAE
cases(ValueError, "beta", vae_beta_negative=lambda c: VAE(c.enc, c.dec, beta=-1.0))
cases(ValueError, "reconstruction", vae_reconstruction=lambda c: VAE(c.enc, c.dec,
                                                                      reconstruction="l1"))
cases(TypeError, "encoder", vae_encoder_none=lambda c: VAE(None, c.dec))
cases(ValueError, "NaN", vae_fit_nan=lambda c: c.vae.fit(NAN, batch_size=4, verbose=0))
cases(ValueError, "n", vae_generate_negative=lambda c: c.vae.generate(-1))

# -- losses and schedules ------------------------------------------------------------------
cases(ValueError, "non_saturating", losses_unknown_lists_known=lambda c: tg.losses.get("nope"))
cases(TypeError, "loss", losses_not_a_name=lambda c: tg.losses.get(3))
S = tg.schedules
cases(ValueError, "peak_lr", sched_warmup_peak_0=lambda c: S.WarmupCosine(0.0, 100))
cases(ValueError, "total_steps", sched_warmup_short=lambda c: S.WarmupCosine(1e-3, 5,
                                                                               warmup_steps=10))
cases(ValueError, "pct_start", sched_onecycle_pct=lambda c: S.OneCycle(1e-3, 100, pct_start=2.0))
cases(ValueError, "mode", sched_cyclical_mode=lambda c: S.Cyclical(1e-4, 1e-3, 10, mode="saw"))
cases(ValueError, "max_lr", sched_cyclical_max_below_base=lambda c: S.Cyclical(1e-3, 1e-4, 10))
cases(ValueError, "drop", sched_step_drop_0=lambda c: S.StepDecay(1e-3, 10, drop=0.0))
cases(ValueError, "warmup_cosine", sched_get_unknown=lambda c: S.get("nope"))
cases(TypeError, "total_steps", sched_float_steps=lambda c: S.WarmupCosine(1e-3, 10.5))

# -- callbacks -----------------------------------------------------------------------------
CB = tg.callbacks
cases(ValueError, "patience", cb_es_patience=lambda c: CB.EarlyStopping(patience=-1))
cases(ValueError, "mode", cb_es_mode=lambda c: CB.EarlyStopping(mode="up"),
      cb_es_unknown_monitor=lambda c: CB.EarlyStopping(monitor="my_score"))
cases(ValueError, "real_data", cb_quality_nan=lambda c: CB.QualityMonitor(NAN),
      cb_quality_empty=lambda c: CB.QualityMonitor(np.zeros((0, 8, 8, 1))))
cases(ValueError, "metrics", cb_quality_metric=lambda c: CB.QualityMonitor(X12, metrics=("nope",)))
cases(ValueError, "every", cb_quality_every=lambda c: CB.QualityMonitor(X12, every=0),
      cb_samples_every=lambda c: CB.SampleGrid(every=0))
cases(ValueError, "n", cb_samples_n=lambda c: CB.SampleGrid(n=0))
cases(ValueError, "mode", cb_samples_mode=lambda c: CB.SampleGrid(mode="x"))
cases(ValueError, "probe_data", cb_landscape_nan=lambda c: CB.LossLandscape(NAN))
cases(ValueError, "kind", cb_landscape_kind=lambda c: CB.LossLandscape(X12, kind=("4d",)))
cases(ValueError, "grid", cb_landscape_grid=lambda c: CB.LossLandscape(X12, grid=1))
cases(ValueError, "min_lr", cb_lrfinder_min_0=lambda c: CB.LRFinder(min_lr=0.0))
cases(ValueError, "max_lr", cb_lrfinder_max_below=lambda c: CB.LRFinder(min_lr=1.0, max_lr=0.1))
cases(ValueError, "steps", cb_lrfinder_steps=lambda c: CB.LRFinder(steps=2))
cases(ValueError, "factor", cb_plateau_factor=lambda c: CB.ReduceLROnPlateau(factor=1.5))
cases(ValueError, "patience", cb_plateau_patience=lambda c: CB.ReduceLROnPlateau(patience=-1))

# -- evaluation ----------------------------------------------------------------------------
E = tg.evaluation
cases(ValueError, "features_a", eval_fid_3d=lambda c: E.fid(np.zeros((4, 2, 2)), feats()),
      eval_fid_nan=lambda c: E.fid(np.full((4, 4), np.nan), feats()),
      eval_fid_empty=lambda c: E.fid(np.zeros((0, 4)), feats()))
cases(ValueError, "feature dimension", eval_fid_dims=lambda c: E.fid(feats(dim=3), feats(dim=4)))
cases(ValueError, "subsets", eval_kid_subsets=lambda c: E.kid(feats(), feats(), subsets=0))
cases(ValueError, "features_b", eval_kid_one_sample=lambda c: E.kid(feats(), feats(n=1)))
cases(ValueError, "k", eval_pr_k_0=lambda c: E.precision_recall(feats(), feats(), k=0),
      eval_pr_k_too_big=lambda c: E.precision_recall(feats(n=3), feats(), k=5))
cases(ValueError, "fake_features", eval_pr_nan=lambda c: E.precision_recall(
    feats(), np.full((5, 4), np.inf)))
cases(TypeError, "real_features", eval_pr_strings=lambda c: E.precision_recall(
    np.array([["a"]]), feats()))

# -- landscape -----------------------------------------------------------------------------
L = tg.landscape
cases(ValueError, "data", ls_slice_nan=lambda c: L.slice_1d(c.ae, NAN))
cases(ValueError, "grid", ls_surface_grid=lambda c: L.surface_2d(c.ae, X12, grid=1))
cases(ValueError, "k", ls_hessian_k=lambda c: L.hessian_eigenvalues(c.ae, X12, k=0))
cases(ValueError, "player", ls_slice_player=lambda c: L.slice_1d(c.gan, X12, player="referee"))
cases(ValueError, "samples", ls_trace_samples=lambda c: L.hessian_trace(c.ae, X12, samples=0))
cases(ValueError, "radius", ls_sharpness_radius=lambda c: L.sharpness(c.ae, X12, radius=-1.0))
cases(ValueError, "method", ls_hessian_method=lambda c: L.hessian_eigenvalues(c.ae, X12,
                                                                                method="qr"))

# -- unwritable output folders: the error names the path, and no training step runs --------
cases(NotADirectoryError, "plain_file/sub",
      out_sample_grid=lambda c: c.gan.fit(X12, epochs=1, verbose=0, callbacks=[
          CB.SampleGrid(out_dir=c.unwritable)]),
      out_loss_landscape=lambda c: c.gan.fit(X12, epochs=1, verbose=0, callbacks=[
          CB.LossLandscape(X12, out_dir=c.unwritable)]),
      out_write_summary=lambda c: __import__("tfgenopt.report").report.write_summary(
          c.unwritable, {"a": 1}),
      out_save_figure=lambda c: tg.plotting.save_figure(tg.plotting.new_figure()[0],
                                                         c.unwritable + "/f.png"))

# -- tuning (only what the search() rework will not change) --------------------------------
cases(ValueError, "tuner", tune_unknown_tuner=lambda c: tg.tuning.search(
    tg.tuning.AutoencoderHyperModel(12), X12, tuner="annealing", max_trials=1))


@pytest.mark.parametrize("call, exc, fragment", C)
def test_bad_input_raises_one_clear_error(ctx, call, exc, fragment):
    with pytest.raises(Exception) as info:
        call(ctx)
    assert type(info.value) is exc or isinstance(info.value, exc), (
        f"{type(info.value).__name__}: {info.value}")
    assert fragment in str(info.value), str(info.value)


def test_the_sweep_has_at_least_60_distinct_cases():
    assert len({p.id for p in C}) == len(C) >= 60


def _state(model):
    weights = [np.array(w) for w in model.weights]
    steps = {k: int(o.iterations) for k, o in model.optimizers_by_name().items()} \
        if hasattr(model, "optimizers_by_name") else {"optimizer": int(model.optimizer.iterations)}
    return weights, steps


@pytest.mark.parametrize("name, call", [
    ("gan", lambda c: c.gan.fit(NAN, batch_size=4, verbose=0)),
    ("gan", lambda c: c.gan.fit(np.zeros((8, 10), "float32"), verbose=0)),
    ("gan", lambda c: c.gan.compile(loss="nope")),
    ("gan", lambda c: c.gan.compile(d_steps=0)),
    ("vae", lambda c: c.vae.fit(NAN, batch_size=4, verbose=0)),
    ("gan", lambda c: c.gan.fit(X12, epochs=1, verbose=0, callbacks=[
        CB.SampleGrid(out_dir=c.unwritable)])),
], ids=["gan_fit_nan", "gan_fit_shape", "gan_compile_loss", "gan_compile_d_steps", "vae_fit_nan",
        "gan_fit_unwritable_samples"])
def test_a_failed_fit_or_compile_loses_no_state(ctx, name, call):
    model = getattr(ctx, name)
    weights, steps = _state(model)
    recipe = model.get_compile_config() if name == "gan" else None
    with pytest.raises((ValueError, OSError)):
        call(ctx)
    new_weights, new_steps = _state(model)
    assert new_steps == steps and sum(steps.values()) > 0
    for a, b in zip(weights, new_weights):
        np.testing.assert_array_equal(a, b)
    if recipe is not None:
        assert model.get_compile_config() == recipe
    model.fit(X12, batch_size=8, epochs=1, verbose=0)  # and the model still trains afterwards
    assert sum(_state(model)[1].values()) > sum(steps.values())

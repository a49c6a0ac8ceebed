"""tfgenopt.catalog is the one source of truth: every consumer agrees with it."""

import ast
import inspect
import os
import pathlib
import types

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt import catalog
from tfgenopt.callbacks import EarlyStopping, LossLandscape, QualityMonitor, SampleGrid
from tfgenopt.callbacks._monitor import infer_mode
from tfgenopt.tuning.search import resolve_objective

QM = "tfgenopt.callbacks.QualityMonitor"
DIRECTED = sorted(k for k, m in catalog.METRICS.items() if m.direction)
UNDIRECTED = sorted(k for k, m in catalog.METRICS.items() if m.direction is None)


class TestCatalogItself:
    def test_module_sits_at_the_bottom_of_the_package(self):
        tree = ast.parse(pathlib.Path(catalog.__file__).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m and m.startswith("tfgenopt")} - {
            "tfgenopt._validation"}
        assert not {m for m in imported if m and m.split(".")[0] in ("tensorflow", "keras")}

    def test_every_metric_has_a_direction_or_none_and_a_producer(self):
        for key, m in catalog.METRICS.items():
            assert m.key == key and m.direction in ("min", "max", None) and m.producer

    def test_issue_13_directions(self):
        assert [catalog.direction(k) for k in (
            "val_density", "val_class_kl", "val_confidence", "val_kid_std")] == [
            "max", "min", "max", "min"]

    @pytest.mark.parametrize("key,producer,direction", [
        ("val_d_loss", "tfgenopt.models.GAN", "min"), ("val_loss", "keras.Model", "min"),
        ("d_hessian_top", "tfgenopt.callbacks.LossLandscape", None),
        ("g_hessian_top_3", "tfgenopt.callbacks.LossLandscape", None),
        ("g_lr", "tfgenopt.callbacks.LearningRateLogger", None),
        ("val_kid_smoothed", "tfgenopt.callbacks.EarlyStopping", "min")])
    def test_families_resolve_to_their_base_metric(self, key, producer, direction):
        m = catalog.metric(key)
        assert (m.key, m.producer, m.direction) == (key, producer, direction)

    @pytest.mark.parametrize("key", ["val_val_fid", "val_hessian_top", "d_rotation_index", "xyz"])
    def test_unknown_keys_are_not_in_the_catalog(self, key):
        assert catalog.metric(key) is None


class TestMetricConsumers:
    @pytest.mark.parametrize("key", DIRECTED)
    def test_monitors_and_tuner_take_the_catalog_direction(self, key):
        want = catalog.METRICS[key].direction
        assert infer_mode(key) == want
        assert EarlyStopping(key).mode == want
        assert tg.callbacks.ReduceLROnPlateau(monitor=key).mode == want
        assert resolve_objective(key).direction == want

    @pytest.mark.parametrize("key", UNDIRECTED)
    def test_diagnostics_without_direction_ask_for_one(self, key):
        with pytest.raises(ValueError, match="mode="):
            infer_mode(key)
        with pytest.raises(ValueError):
            resolve_objective(key)

    def test_hypermodels_default_objectives_take_the_catalog_direction(self):
        for hm in (tg.tuning.AutoencoderHyperModel, tg.tuning.VAEHyperModel,
                   tg.tuning.GANHyperModel):
            name, direction = hm.default_objective
            assert catalog.direction(name) == direction, hm.__name__

    def test_evaluation_metric_modes_are_the_quality_keys_of_the_catalog(self):
        assert tg.evaluation.METRIC_MODES == {
            k: catalog.METRICS[k].direction for k in catalog.keys_by_producer(QM)}

    def test_quality_monitor_writes_exactly_the_catalog_quality_keys(self):
        x = np.random.default_rng(0).uniform(size=(8, 64)).astype("float32")
        qm = QualityMonitor(x, metrics=("fid", "kid", "coverage", "precision_recall"))
        assert sorted(qm.log_keys) == sorted(catalog.keys_by_producer(QM))


    def test_gan_and_vae_metrics_are_in_the_catalog(self):
        g = tg.builders.dense_generator(latent_dim=4, hidden=(8,), output_dim=16)
        d = tg.builders.dense_discriminator(input_dim=16, hidden=(8,))
        gan = tg.models.GAN(generator=g, discriminator=d, latent_dim=4)
        gan.compile(gradient_penalty=1.0, r1=1.0)
        names = {m.name for m in gan.metrics} | set(getattr(gan, "trackers", {}))  # every option
        assert {"d_loss", "g_loss", "gp", "r1"} <= names
        for name in names:
            assert catalog.metric(name).producer == "tfgenopt.models.GAN", name
        enc = tg.builders.vae_encoder(input_shape=16, latent_dim=2, hidden=(8,))
        dec = tg.builders.vae_decoder(output_shape=16, latent_dim=2, hidden=(8,))
        vae = tg.models.VAE(enc, dec)
        for name in (m.name for m in vae.metrics):
            assert catalog.metric(name) is not None, name

    def test_loss_landscape_keys_are_in_the_catalog(self):
        rng = np.random.default_rng(0)
        x = rng.uniform(size=(32, 8)).astype("float32")
        ae = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2), keras.layers.Dense(8)])
        ae.compile("sgd", "mse")
        cb = LossLandscape(x, kind=("hessian", "trace", "noise_scale", "sharpness"), k=2,
                           iterations=4, trace_samples=2, verbose=0)
        history = ae.fit(x, x, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
        written = set(history.history) - {"loss"}
        assert written == {"hessian_top", "hessian_top_2", "hessian_trace",
                           "hessian_trace_std", "grad_noise_scale", "sharpness"}
        for key in written:
            assert catalog.metric(key).producer == "tfgenopt.callbacks.LossLandscape", key

    def test_collapse_monitor_keys_are_in_the_catalog(self):
        from tfgenopt.callbacks import collapse

        for key in collapse.LOG_KEYS:
            assert catalog.metric(key) is not None, key
        assert catalog.keys_by_producer("tfgenopt.callbacks.CollapseMonitor") == tuple(
            k for k in collapse.LOG_KEYS if k != "val_coverage")

    def test_quality_figure_draws_the_catalog_quality_keys(self):
        from tfgenopt.plotting import quality

        assert set(quality._QUALITY_KEYS) | {"val_kid_std"} == set(catalog.keys_by_producer(QM))

    def test_callback_diagnostics_are_in_the_catalog(self):
        assert catalog.metric(tg.models.protocol.lr_log_key("")).key == "lr"
        assert catalog.metric(tg.models.protocol.lr_log_key("d")).producer.endswith(
            "LearningRateLogger")
        assert catalog.direction("sample_diversity") == "max"


class TestQualityDeclaration:
    """Each quality metric is declared once (catalog.QUALITY); the rest derives from it."""

    def test_catalog_metrics_are_the_declared_ones(self):
        declared = [m for q in catalog.QUALITY.values() for m in q.metrics]
        assert [catalog.METRICS[m.key] for m in declared] == declared  # the same entries
        assert tuple(m.key for m in declared) == catalog.keys_by_producer(QM)
        assert all(m.producer == QM for m in declared)

    @pytest.mark.parametrize("name", ["fid", "kid", "coverage", "precision_recall",
                                      "precision", "recall"])
    def test_monitor_metric_names_and_keys_derive_from_the_declaration(self, name):
        spec = catalog.quality_metric(name)
        qm = QualityMonitor(np.zeros((4, 2), "float32"), metrics=(name,))
        assert qm.metrics == (spec.name,) and qm.log_keys == spec.keys
        from tfgenopt.callbacks.quality import QUALITY_METRICS

        assert set(QUALITY_METRICS.names()) == {
            n for q in catalog.QUALITY.values() for n in (q.name, *q.aliases)}

    @pytest.mark.parametrize("key", catalog.keys_by_producer(QM))
    def test_tuner_objective_map_derives_from_the_declaration(self, key):
        from tfgenopt.tuning.search import default_callbacks

        x = np.zeros((4, 2), "float32")
        added = default_callbacks(None, resolve_objective(key), x, [], True, 2)
        assert [type(cb).__name__ for cb in added] == ["QualityMonitor", "EarlyStopping"]
        assert added[0].metrics == (catalog.quality_metric_of(key).name,)
        assert key in added[0].log_keys and added[1].monitor == key

    def test_unknown_quality_metric_lists_the_declared_names(self):
        with pytest.raises(ValueError, match=r"known: \['coverage', 'fid', 'kid'"):
            catalog.quality_metric("inception_score")
        assert catalog.quality_metric_of("val_loss") is None


class TestDatasetConsumers:
    @pytest.fixture
    def cached(self, tmp_path, monkeypatch):
        """Tiny stand-ins for the MNIST / Fashion-MNIST files in a private Keras cache."""
        import gzip

        monkeypatch.setenv("KERAS_HOME", str(tmp_path))
        folder = tmp_path / "datasets"
        (folder / "fashion-mnist").mkdir(parents=True)
        x = np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
        y = (np.arange(20) % 10).astype(np.uint8)
        np.savez(folder / "mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
        for prefix in ("train", "t10k"):
            for name, arr in ((f"{prefix}-images-idx3-ubyte.gz", x),
                              (f"{prefix}-labels-idx1-ubyte.gz", y)):
                header = bytes([0, 0, 8, arr.ndim]) + b"".join(
                    int(d).to_bytes(4, "big") for d in arr.shape)
                with gzip.open(folder / "fashion-mnist" / name, "wb") as fh:
                    fh.write(header + arr.tobytes())

    @pytest.mark.parametrize("name", sorted(catalog.DATASETS))
    def test_loaders_accept_exactly_the_catalog_sizes(self, name, cached):
        spec = catalog.dataset(name)
        loader = getattr(tg.data, spec.loader)
        for size in catalog.image_sizes():
            if size in spec.image_sizes:
                x = loader(image_size=size, validation_split=0.0)
                assert x.shape[1:] == (size, size, spec.channels)
            else:
                with pytest.raises(ValueError, match="image_size"):
                    loader(image_size=size, validation_split=0.0)
        for size in (7, 64):
            with pytest.raises(ValueError, match="image_size"):
                loader(image_size=size)

    @pytest.mark.parametrize("value_range", catalog.VALUE_RANGES)
    def test_digits_match_their_catalog_entry(self, value_range):
        spec = catalog.dataset("digits")
        x, y = tg.data.load_digits(image_size=spec.native_size, validation_split=0.0,
                                   value_range=value_range, return_labels=True)
        assert len(x) == spec.samples["all"] and len(np.unique(y)) == spec.num_classes
        assert (x.min(), x.max()) == value_range  # raw 0..16 spans the whole range
        with np.load(pathlib.Path(tg.__file__).parent / "_data" / "digits.npz") as f:
            raw = f["images"]
        assert (raw.min(), raw.max()) == spec.raw_range

    def test_load_by_name_knows_exactly_the_catalog_names(self):
        x = tg.data.load("digits", validation_split=0.0)
        assert len(x) == catalog.DATASETS["digits"].samples["all"]
        with pytest.raises(ValueError, match="dataset"):
            tg.data.load("cifar10")

    def test_cli_offers_the_catalog_names_and_sizes(self):
        from tfgenopt.cli import UsageError, build_parser

        parser = build_parser()
        for name in catalog.DATASETS:
            for size in catalog.image_sizes():
                args = parser.parse_args(["train", "gan", "--dataset", name,
                                          "--image-size", str(size)])
                assert (args.dataset, args.image_size) == (name, size)
        for bad in (["--image-size", "12"], ["--dataset", "cifar10"]):
            with pytest.raises(UsageError):
                parser.parse_args(["train", "gan", *bad])

    @pytest.mark.parametrize("name", sorted(catalog.DATASETS))
    def test_domain_classifier_takes_exactly_the_catalog_sizes(self, name):
        from tfgenopt.evaluation.classifier import DATASETS, classifier_path

        assert DATASETS == tuple(catalog.DATASETS)
        for size in catalog.image_sizes():
            if size in catalog.image_sizes(name):
                assert f"-{size}px-" in os.path.basename(classifier_path(name, image_size=size))
            else:
                with pytest.raises(ValueError, match="image_size"):
                    classifier_path(name, image_size=size)


def _fired(callback, epochs, initial_epoch):
    """The 1-based epoch numbers at whose end ``callback`` acts, driven without training."""
    callback.set_params({"epochs": epochs})
    for index in range(initial_epoch, epochs):
        callback.on_epoch_end(index, {})
    if isinstance(callback, SampleGrid):
        return tuple(e for e, _ in callback.grids)
    if isinstance(callback, LossLandscape):
        return tuple(r["epoch"] for r in callback.history)
    return tuple(catalog.epoch_number(i) for i in callback.evaluated_epochs)


def _sample_grid(every):
    cb = SampleGrid(every=every)
    cb.grid = lambda: np.zeros((3, 3, 3))
    return cb


def _landscape(every):
    cb = LossLandscape(np.zeros((4, 2), "float32"), every=every, verbose=0)
    cb._tasks = lambda: []
    return cb


def _quality(every):
    cb = QualityMonitor(np.zeros((4, 2), "float32"), every=every)
    cb.set_model(types.SimpleNamespace())
    cb.measure = lambda: {}
    return cb


def _collapse(every):
    cb = tg.callbacks.CollapseMonitor(every=every)
    cb.set_model(types.SimpleNamespace())
    cb.measure = lambda: {"coverage": 1.0, "covered": 10, "diversity": 1.0}
    cb._collapse_reason = lambda values: None
    cb._snapshot = lambda: None
    return cb


class TestEveryRule:
    def test_is_due_counts_epochs_from_one(self):
        assert [n for n in range(1, 10) if catalog.is_due(n, 4)] == [4, 8]
        assert catalog.epoch_number(0) == 1
        assert catalog.due_epochs(3, 7) == (3, 6, 7)
        with pytest.raises(ValueError, match="every"):
            catalog.is_due(1, 0)
        with pytest.raises(ValueError, match="epoch"):
            catalog.is_due(0, 2)

    @pytest.mark.parametrize("every", [1, 2, 3, 5])
    @pytest.mark.parametrize("epochs,initial_epoch", [(6, 0), (7, 0), (7, 2)])
    def test_every_callback_fires_on_the_catalog_epochs(self, every, epochs, initial_epoch):
        expected = catalog.due_epochs(every, epochs, initial_epoch)
        assert _fired(_sample_grid(every), epochs, initial_epoch) == expected
        assert _fired(_landscape(every), epochs, initial_epoch) == expected
        # The monitors also measure the run's first epoch: their keys must be in logs.
        with_first = tuple(sorted(set(expected) | {initial_epoch + 1}))
        assert _fired(_quality(every), epochs, initial_epoch) == with_first
        assert _fired(_collapse(every), epochs, initial_epoch) == with_first

    def test_no_other_callback_takes_every(self):
        with_every = sorted(
            name for name, obj in vars(tg.callbacks).items()
            if isinstance(obj, type) and issubclass(obj, keras.callbacks.Callback)
            and "every" in inspect.signature(obj.__init__).parameters)
        assert with_every == ["CollapseMonitor", "LossLandscape", "QualityMonitor", "SampleGrid"]

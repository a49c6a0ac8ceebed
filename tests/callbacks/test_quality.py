"""Tests for tfgenopt/callbacks/quality.py on a real tiny GAN trained on 8x8 digits."""

import copy

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, tiny_vae
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.callbacks import QualityMonitor
from tfgenopt.evaluation import FeatureExtractor
from tfgenopt.plotting import plot_quality

ALL_KEYS = ("val_fid", "val_kid", "val_kid_std", "val_coverage", "val_class_kl",
            "val_confidence", "val_precision", "val_recall", "val_density")


@pytest.fixture(scope="module")
def tfgenopt_cache(_tfgenopt_cache):
    """The run's cache folder (tests/conftest.py): the classifier trains once."""
    return _tfgenopt_cache


@pytest.fixture(scope="module")
def digits():
    """8x8 digits as flat 64-vectors in [0, 1]: (x_train, x_val)."""
    return tg.data.load_digits(image_size=8, flatten=True)


def tiny_gan(seed=0, ema=0.999, lr=2e-3):
    return _tiny_gan(latent_dim=8, dim=64, hidden=(32,), seed=seed, net_seeds=(seed, seed),
                     ema=ema, lr=lr)


def monitor(x_val, extractor, **kwargs):
    kwargs.setdefault("n_samples", 120)
    kwargs.setdefault("kid_subsets", 5)
    return QualityMonitor(x_val, extractor=extractor, **kwargs)


# Runs that several tests only read (their history, monitor and generator); a test that trains
# again, edits weights or needs a callback of its own keeps its own GAN.
@pytest.fixture(scope="module")
def all_metrics_run(digits, extractor):
    """``(history, monitor, calls)`` of 3 epochs with every metric; ``calls``: the sizes of
    every ``FeatureExtractor.predict`` call during the fit."""
    x_train, x_val = digits
    calls = []
    original = FeatureExtractor.predict

    def counting(self, images, *args, **kwargs):
        calls.append(len(images))
        return original(self, images, *args, **kwargs)

    keras.utils.set_random_seed(0)
    qm = monitor(x_val, extractor, metrics=("fid", "kid", "coverage", "precision_recall"),
                 n_samples=100)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FeatureExtractor, "predict", counting)
        history = tiny_gan().fit(x_train, epochs=3, batch_size=128, verbose=0, callbacks=[qm])
    return history, qm, list(calls)


@pytest.fixture(scope="module")
def fid_run(digits, extractor):
    """``(gan, monitor, history)`` of 1 epoch measuring the FID of 150 samples of seed 3."""
    x_train, x_val = digits
    keras.utils.set_random_seed(0)
    gan = tiny_gan()
    qm = monitor(x_val, extractor, metrics=("fid",), n_samples=150, seed=3)
    history = gan.fit(x_train, epochs=1, batch_size=128, verbose=0, callbacks=[qm])
    return gan, qm, history


@pytest.fixture(scope="module")
def every_three_run(digits, extractor):
    """``(gan, monitor, history)`` of 5 epochs measuring FID and KID every 3 epochs."""
    x_train, x_val = digits
    keras.utils.set_random_seed(0)
    gan = tiny_gan()
    qm = monitor(x_val, extractor, metrics=("fid", "kid"), every=3)
    history = gan.fit(x_train, epochs=5, batch_size=128, verbose=0, callbacks=[qm])
    return gan, qm, history


class TestQualityMonitorLogs:
    def test_keys_appear_in_history_every_epoch(self, all_metrics_run):
        history, qm, _ = all_metrics_run
        for key in ALL_KEYS:
            assert len(history.history[key]) == 3, key
            assert np.all(np.isfinite(history.history[key])), key
        assert history.history["val_fid"][-1] > 0
        assert 0.0 <= history.history["val_coverage"][-1] <= 1.0
        assert qm.evaluated_epochs == [0, 1, 2]

    def test_values_equal_the_offline_metrics_on_the_same_samples(self, digits, extractor,
                                                                  fid_run):
        _, x_val = digits
        gan, _, history = fid_run
        fake = extractor.features(gan.generate(150, seed=3), value_range=(0, 1))
        expected = tg.evaluation.fid(extractor.features(x_val), fake)
        assert history.history["val_fid"][0] == pytest.approx(expected, rel=1e-6)

    def test_every_three_measures_the_first_third_and_last_epoch(self, every_three_run):
        _, qm, history = every_three_run
        fids = history.history["val_fid"]
        # Epoch numbers 1 (first of the run), 3 (every=3, counted from 1) and 5 (the last).
        assert qm.evaluated_epochs == [0, 2, 4]
        assert len(fids) == 5 and fids[1] == fids[0]  # skipped epoch carries the last value
        assert fids[3] == fids[2]
        assert qm.history["val_fid"] == [fids[0], fids[2], fids[4]]

    def test_first_epoch_of_a_resumed_run_is_measured(self, digits, extractor):
        x_train, x_val = digits
        qm = monitor(x_val, extractor, metrics=("fid",), every=3)
        history = tiny_gan().fit(x_train, epochs=4, initial_epoch=1, batch_size=128,
                                 verbose=0, callbacks=[qm])
        # Numbers 2 (first of this run), 3 (every=3) and 4 (the last).
        assert qm.evaluated_epochs == [1, 2, 3] and len(history.history["val_fid"]) == 3

    def test_real_features_are_computed_once_per_run(self, digits, all_metrics_run):
        _, x_val = digits
        *_, calls = all_metrics_run  # every metric of the run reads one extraction per epoch
        assert calls == [len(x_val), 100, 100, 100]

    def test_non_finite_samples_give_nan_values_instead_of_crashing(self, digits, extractor):
        x_train, x_val = digits
        gan = tiny_gan()
        qm = monitor(x_val, extractor, metrics=("fid", "coverage"))
        gan.fit(x_train, epochs=1, batch_size=128, verbose=0, callbacks=[qm])
        for net in (gan.generator, gan.ema_generator):  # samples come from the EMA generator
            kernel = net.get_layer("output").kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))
        values = qm.measure()
        assert set(values) == set(qm.log_keys) and all(np.isnan(list(values.values())))


class TestQualityMonitorOnOtherModels:
    def test_vae_prior_samples_are_measured(self, digits, extractor):
        x_train, x_val = digits
        vae = tiny_vae(dim=64, hidden=(32,), net_seeds=(None, None),
                       optimizer=keras.optimizers.Adam(1e-2))
        qm = monitor(x_val, extractor, metrics=("fid", "coverage"))
        history = vae.fit(x_train, epochs=2, batch_size=128, verbose=0, callbacks=[qm])
        assert len(history.history["val_fid"]) == 2 and "loss" in history.history
        assert np.isfinite(history.history["val_fid"]).all()

    def test_gan_ema_generator_samples_are_measured(self, digits, extractor):
        x_train, x_val = digits
        gan = tiny_gan(ema=0.9, lr=None)  # the default recipe
        qm = monitor(x_val, extractor, metrics=("fid",), n_samples=100, seed=5)
        history = gan.fit(x_train, epochs=1, batch_size=128, verbose=0, callbacks=[qm])
        real = extractor.features(x_val)
        with_ema = tg.evaluation.fid(real, extractor.features(gan.generate(100, seed=5)))
        raw = tg.evaluation.fid(real, extractor.features(gan.generate(100, seed=5,
                                                                      use_ema=False)))
        assert history.history["val_fid"][0] == pytest.approx(with_ema, rel=1e-6)
        assert with_ema != raw  # the EMA generator's samples, not the raw generator's


class TestQualityMonitorWithEarlyStopping:
    def test_val_kid_drives_keras_early_stopping(self, digits, extractor):
        x_train, x_val = digits
        # min_delta so large that no epoch counts as an improvement: stops after patience.
        stop = keras.callbacks.EarlyStopping(monitor="val_kid", mode="min", patience=1,
                                             min_delta=1e9)
        history = tiny_gan().fit(x_train, epochs=10, batch_size=128, verbose=0,
                                 callbacks=[monitor(x_val, extractor, metrics=("kid",)), stop])
        assert len(history.history["val_kid"]) == 2
        assert stop.stopped_epoch == 1

    def test_val_kid_drives_tfgenopt_early_stopping_with_inferred_mode(self, digits, extractor):
        x_train, x_val = digits
        stop = tg.callbacks.EarlyStopping(monitor="val_kid", patience=1, min_delta=1e9,
                                          verbose=0)
        gan = tiny_gan()
        history = gan.fit(x_train, epochs=10, batch_size=128, verbose=0,
                          callbacks=[monitor(x_val, extractor, metrics=("kid",)), stop])
        assert len(history.history["val_kid"]) == 2
        assert isinstance(gan.stop_reason, str) and "val_kid" in gan.stop_reason

    @pytest.mark.slow  # ~3 s; tests/tuning/test_generative.py searches on val_kid in make test
    def test_val_kid_is_a_keras_tuner_objective(self, digits, extractor, tmp_path):
        import keras_tuner as kt

        x_train, x_val = digits
        tuner = kt.RandomSearch(lambda hp: tiny_gan(seed=hp.Choice("seed", [0])),
                                objective=kt.Objective("val_kid", "min"), max_trials=1,
                                directory=tmp_path, project_name="quality", overwrite=True)
        qm = monitor(x_val, extractor, metrics=("kid",))
        tuner.search(x_train, epochs=2, batch_size=128, verbose=0, callbacks=[qm])
        trial = tuner.oracle.get_best_trials(1)[0]
        observed = [v for obs in trial.metrics.get_history("val_kid") for v in obs.value]
        assert trial.status == "COMPLETED" and np.isfinite(trial.score)
        assert trial.score == pytest.approx(min(observed))
        assert qm.evaluated_epochs == []  # the tuner ran a deep copy

    def test_early_stopping_restores_a_measured_epoch_when_every_skips(self, digits,
                                                                        extractor):
        x_train, x_val = digits
        qm = monitor(x_val, extractor, metrics=("kid",), every=3)
        stop = tg.callbacks.EarlyStopping(monitor="val_kid", patience=100, smoothing="ema",
                                          restore_best_weights=True, verbose=0)
        gan = tiny_gan()
        gan.fit(x_train, epochs=7, batch_size=128, verbose=0, callbacks=[qm, stop])
        assert qm.evaluated_epochs == [0, 2, 5, 6]
        assert stop.best_epoch in qm.evaluated_epochs
        # The restored generator gives the KID measured at that epoch.
        assert qm.measure()["val_kid"] == pytest.approx(
            qm.history["val_kid"][qm.evaluated_epochs.index(stop.best_epoch)], rel=1e-6)
        assert gan.carried_log_keys == ()  # the last epoch is always measured

    def test_listed_after_early_stopping_raises(self, digits, extractor):
        x_train, x_val = digits
        # The order contract (models.protocol.announce_keys) binds tfgenopt's monitors.
        stop = tg.callbacks.EarlyStopping(monitor="val_fid", mode="min")
        with pytest.raises(ValueError, match="QualityMonitor must come before EarlyStopping"):
            tiny_gan().fit(x_train, epochs=1, verbose=0,
                           callbacks=[stop, monitor(x_val, extractor, metrics=("fid",))])


class TestQualityMonitorCopiesAndConfig:
    def test_deepcopy_shares_extractor_and_data_and_runs_again(self, digits, fid_run):
        x_train, _ = digits
        _, qm, _ = fid_run  # a monitor used in one run
        clone = copy.deepcopy(qm)
        assert clone._extractor is qm._extractor and clone.model is None
        assert clone.history is not qm.history
        history = tiny_gan(seed=1).fit(x_train, epochs=2, batch_size=128, verbose=0,
                                       callbacks=[clone])
        assert len(history.history["val_fid"]) == 2 and clone.evaluated_epochs == [0, 1]
        assert qm.evaluated_epochs == [0]

    def test_config_roundtrip(self, digits):
        qm = QualityMonitor(digits[1][:20], metrics=("fid", "kid"), every=2, n_samples=50,
                            labels=np.arange(20) % 10, value_range=(0, 1))
        clone = check_config_roundtrip(qm)
        assert clone.log_keys == ("val_fid", "val_kid", "val_kid_std")

    def test_class_shares_list_the_three_rarest_classes_per_measured_epoch(self, digits,
                                                                            extractor, capsys):
        x_train, x_val = digits
        labels = np.r_[np.zeros(len(x_val) - 12), np.arange(12) % 3 + 1].astype(int)
        qm = monitor(x_val, extractor, metrics=("coverage",), labels=labels, verbose=1)
        tiny_gan().fit(x_train, epochs=2, batch_size=128, verbose=0, callbacks=[qm])
        assert sorted(qm.class_shares) == [0, 1]
        rarest = qm.class_shares[1]
        assert [r["class"] for r in rarest] == [1, 2, 3]  # 4 samples each, the rest are 0s
        assert all(r["data_share"] == pytest.approx(4 / len(x_val), abs=1e-6) for r in rarest)
        lines = [x for x in capsys.readouterr().out.splitlines() if "rarest classes" in x]
        assert len(lines) == 2 and lines[1].startswith("QualityMonitor epoch 2: rarest classes")

    def test_coverage_rule_sets_its_default_threshold_and_round_trips(self, digits):
        assert QualityMonitor(digits[1]).min_share == 0.25
        qm = QualityMonitor(digits[1][:20], coverage_rule="absolute", metrics=("fid",))
        assert qm.min_share == 0.02
        assert check_config_roundtrip(qm).coverage_rule == "absolute"
        with pytest.raises(ValueError, match="coverage_rule"):
            QualityMonitor(digits[1], coverage_rule="median")

    def test_monitor_history_plots_measured_epochs(self, every_three_run):
        _, qm, _ = every_three_run  # measured at epochs 1, 3 and 5 (the last) of 5
        fig = plot_quality(qm)
        np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 3, 5])


class TestQualityMonitorValidation:
    def test_unknown_metric_lists_known_ones(self, digits):
        with pytest.raises(ValueError, match=r"known: \['coverage', 'fid', 'kid'"):
            QualityMonitor(digits[1], metrics=("fid", "inception_score"))

    def test_precision_and_recall_aliases_share_one_metric(self, digits):
        qm = QualityMonitor(digits[1], metrics=("precision", "recall", "fid"))
        assert qm.metrics == ("precision_recall", "fid")
        assert qm.log_keys == ("val_precision", "val_recall", "val_density", "val_fid")

    def test_every_below_one_raises(self, digits):
        with pytest.raises(ValueError, match="`every` must be >= 1"):
            QualityMonitor(digits[1], every=0)

    def test_labels_of_wrong_length_raise(self, digits):
        with pytest.raises(ValueError, match="one entry per real sample"):
            QualityMonitor((digits[1], np.zeros(3)))

    def test_model_without_generate_raises_on_fit(self, digits, extractor):
        x_train, x_val = digits
        ae = tg.builders.dense_autoencoder(input_dim=64, hidden=(16,))
        ae.compile("adam", "mse")
        with pytest.raises(TypeError, match="generate"):
            ae.fit(x_train, x_train, epochs=1, verbose=0,
                   callbacks=[monitor(x_val, extractor, metrics=("fid",))])

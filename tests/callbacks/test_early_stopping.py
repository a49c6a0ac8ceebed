"""Tests for tfgenopt/callbacks/early_stopping.py: scripted logs, real runs, every network."""

import copy
import inspect
import math

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip, tiny_vae
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.callbacks import EarlyStopping
from tfgenopt.callbacks._monitor import infer_mode
from tfgenopt.models import protocol


class FakeModel:
    """Just what a callback touches: ``stop_training``, ``stop_reason``, one network."""

    def __init__(self, generate=None):
        self.net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        self.stop_training = False
        self.stop_reason = None
        if generate is not None:
            self.generate = generate

    def networks(self):
        return {"net": self.net}


def run_script(cb, values, key="val_loss", model=None, extra=None):
    """Feed ``values`` as epoch logs; return the epoch index at which training stopped."""
    model = model or FakeModel()
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, value in enumerate(values):
        logs = {key: value, **(extra(epoch) if extra else {})}
        cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            cb.on_train_end()
            return epoch
    cb.on_train_end()
    return None


def keras_stop_epoch(values, **kwargs):
    cb = keras.callbacks.EarlyStopping(monitor="val_loss", **kwargs)
    return run_script(cb, values)


def tiny_gan(ema=None, seed=0):
    return _tiny_gan(hidden=(16,), seed=seed, net_seeds=(seed, seed), ema=ema, lr=5e-3)


class WeightRecorder(keras.callbacks.Callback):
    """Copies of every network's weights at the end of each epoch."""

    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        nets = tg.models.protocol.networks(self.model)
        self.weights.append({k: [w.copy() for w in n.get_weights()] for k, n in nets.items()})


class TestDirection:
    @pytest.mark.parametrize("name,mode", [
        ("val_kid", "min"), ("val_fid", "min"), ("g_loss", "min"), ("val_d_loss", "min"),
        ("val_class_kl", "min"), ("val_coverage", "max"), ("val_precision", "max"),
        ("recall", "max"), ("val_accuracy", "max"), ("val_density", "max"),
        ("sample_diversity", "max")])
    def test_infers_direction_of_toolkit_names(self, name, mode):
        assert infer_mode(name) == mode
        assert EarlyStopping(name).mode == mode

    def test_unknown_name_asks_for_mode(self):
        with pytest.raises(ValueError, match="mode="):
            EarlyStopping("d_real")

    def test_explicit_mode_accepts_unknown_name(self):
        assert EarlyStopping("d_real", mode="max").mode == "max"

    def test_keras_own_cannot_infer_g_loss_but_ours_can(self):
        x = np.random.default_rng(0).uniform(size=(32, 16)).astype("float32")
        with pytest.raises(ValueError, match="g_loss"):
            tiny_gan().fit(x, epochs=1, verbose=0,
                           callbacks=[keras.callbacks.EarlyStopping(monitor="g_loss")])
        history = tiny_gan().fit(x, epochs=1, verbose=0, callbacks=[EarlyStopping("g_loss")])
        assert len(history.history["g_loss"]) == 1


class TestScriptedLogs:
    @pytest.mark.parametrize("values,kwargs", [
        ([5, 4, 4.5, 4.2, 4.1, 3], {"patience": 2}),
        ([5, 4, 4.5, 4.2, 4.1, 3], {"patience": 0}),
        ([5, 4.95, 4.9, 4.85, 4.8], {"patience": 1, "min_delta": 0.1}),
        ([5, 4, 4.5, 4.6, 4.7], {"patience": 2, "baseline": 2.45}),
        ([5, 6, 7, 8, 9, 10, 11], {"patience": 1, "start_from_epoch": 3}),
    ])
    def test_stops_at_same_epoch_as_keras_on_finite_scripts(self, values, kwargs):
        ours = run_script(EarlyStopping("val_loss", verbose=0, **kwargs), values)
        assert ours == keras_stop_epoch(values, **kwargs)
        assert ours is not None

    def test_stops_at_expected_epoch_with_patience_two(self):
        cb = EarlyStopping("val_loss", patience=2, verbose=0)
        assert run_script(cb, [5, 4, 4.5, 4.2, 4.1]) == 3
        assert cb.best == 4 and cb.best_epoch == 1
        assert "no improvement" in cb.stopped_reason

    def test_max_mode_metric_stops_when_it_stops_rising(self):
        cb = EarlyStopping("val_coverage", patience=2, verbose=0)
        assert run_script(cb, [0.2, 0.5, 0.4, 0.45, 0.9], key="val_coverage") == 3
        assert cb.best == 0.5

    def test_nan_monitor_stops_at_once_unlike_keras(self):
        values = [5, 4, math.nan, 3, 2, 1]
        cb = EarlyStopping("val_loss", patience=3, verbose=0)
        model = FakeModel()
        assert run_script(cb, values, model=model) == 2
        assert keras_stop_epoch(values, patience=3) is None  # Keras keeps training on NaN
        assert "non-finite val_loss" in cb.stopped_reason
        assert model.stop_reason == cb.stopped_reason

    def test_nan_in_any_logged_value_stops(self):
        cb = EarlyStopping("val_loss", patience=5, verbose=0)
        extra = lambda e: {"d_loss": math.inf if e == 1 else 0.5}  # noqa: E731
        assert run_script(cb, [5, 4, 3], extra=extra) == 1
        assert "d_loss=inf" in cb.stopped_reason

    def test_nan_elsewhere_ignored_without_check_finite(self):
        cb = EarlyStopping("val_loss", patience=5, check_finite=False, verbose=0)
        assert run_script(cb, [5, 4, 3], extra=lambda e: {"d_loss": math.nan}) is None

    def test_divergence_threshold_stops_at_first_crossing(self):
        cb = EarlyStopping("val_loss", patience=10, divergence_threshold=10.0, verbose=0)
        assert run_script(cb, [5, 4, 9, 12, 3]) == 3
        assert cb.stopped_reason.startswith("divergence")

    def test_divergence_threshold_in_max_mode_is_a_lower_bound(self):
        cb = EarlyStopping("val_coverage", patience=10, divergence_threshold=0.1, verbose=0)
        assert run_script(cb, [0.5, 0.6, 0.05], key="val_coverage") == 2

    def test_median_smoothing_ignores_a_single_spike(self):
        values = [5, 4, 4.2, 3.5, 3.7, 3.0, 3.2, 2.5]  # falling, but every other epoch up
        plain = EarlyStopping("val_loss", patience=0, verbose=0)
        smooth = EarlyStopping("val_loss", patience=0, smoothing="median", smoothing_window=3,
                               verbose=0)
        assert run_script(plain, values) == 2
        assert run_script(smooth, values) is None

    def test_ema_smoothing_value_is_bias_corrected_mean(self):
        cb = EarlyStopping("val_loss", smoothing=0.5, verbose=0)
        cb.set_model(FakeModel())
        cb.on_train_begin()
        logs = [{"val_loss": 4.0}, {"val_loss": 2.0}]
        for e, log in enumerate(logs):
            cb.on_epoch_end(e, log)
        # s1 = 0.5*4 / (1-0.5) = 4 ; s2 = (0.5*2 + 0.5*2) / (1 - 0.25) = 2.666...
        assert logs[0]["val_loss_smoothed"] == pytest.approx(4.0)
        assert logs[1]["val_loss_smoothed"] == pytest.approx(2.0 / 0.75)

    def test_carried_values_are_never_the_best_epoch_nor_smoothed_in(self):
        # Measured at epochs 0, 3, 6; carried (model.carried_log_keys) in between. With EMA
        # smoothing the carried 1.0s would keep pulling the smoothed value down after epoch 3.
        values = [3.0, 3.0, 3.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
        measured = {0, 3, 6}
        model = FakeModel()

        def mark(epoch):
            protocol.set_carried_keys(model, () if epoch in measured else ("val_kid",))
            return {}

        cb = EarlyStopping("val_kid", patience=100, smoothing=0.5, verbose=0)
        run_script(cb, values, key="val_kid", model=model, extra=mark)
        assert cb.best_epoch == 3
        # s0 = 3; s3 = (0.25*3 + 0.5*1) / 0.75: two measured values, not four.
        assert cb.best == pytest.approx((0.5 * 0.5 * 3.0 + 0.5 * 1.0) / 0.75)

    def test_carried_values_still_count_towards_patience(self):
        model = FakeModel()

        def mark(epoch):
            protocol.set_carried_keys(model, () if epoch % 2 == 0 else ("val_kid",))
            return {}

        cb = EarlyStopping("val_kid", patience=2, verbose=0)
        # Measured: 3 (e0), 2 (e2), 2.5 (e4); stops 2 epochs after the best (epoch 2).
        assert run_script(cb, [3, 3, 2, 2, 2.5, 2.5, 1], "val_kid", model, mark) == 4

    def test_missing_quality_key_warns_about_callback_order(self):
        cb = EarlyStopping("val_kid", verbose=0)
        with pytest.warns(UserWarning, match="QualityMonitor.*BEFORE"):
            run_script(cb, [1.0], key="val_loss")


class TestArguments:
    def test_rejects_negative_patience(self):
        with pytest.raises(ValueError, match="patience"):
            EarlyStopping(patience=-1)

    def test_rejects_unknown_smoothing(self):
        with pytest.raises(ValueError, match="smoothing"):
            EarlyStopping(smoothing="mean")

    @pytest.mark.parametrize("smoothing", [1.0, -0.1, True, "0.5"])
    def test_rejects_bad_smoothing_factor(self, smoothing):
        with pytest.raises(ValueError, match="smoothing"):
            EarlyStopping(smoothing=smoothing)

    def test_ema_defaults_to_factor_0_6(self):
        assert EarlyStopping(smoothing="ema").smoothing_factor == 0.6
        assert EarlyStopping(smoothing="median").smoothing_factor is None

    def test_takes_at_most_twelve_arguments_with_keras_eight_first(self):
        params = inspect.signature(EarlyStopping).parameters
        named = [p for p in params.values() if p.kind is not p.VAR_KEYWORD]
        keras_names = list(inspect.signature(keras.callbacks.EarlyStopping).parameters)
        assert len(named) <= 12 and [p.name for p in named[:8]] == keras_names

    @pytest.mark.parametrize("name,value", [
        ("d_loss_floor", 1e-3), ("d_collapse_patience", 3), ("d_loss_key", "d_loss"),
        ("diversity_floor", 0.1), ("diversity_patience", 2), ("diversity_samples", 64),
        ("seed", 0), ("sample_fn", None)])
    def test_collapse_arguments_point_at_collapse_monitor(self, name, value):
        with pytest.raises(TypeError, match=f"{name}.*CollapseMonitor"):
            EarlyStopping("val_loss", **{name: value})

    def test_smoothing_factor_points_at_smoothing(self):
        with pytest.raises(TypeError, match="smoothing=0.5"):
            EarlyStopping("val_loss", smoothing="ema", smoothing_factor=0.5)

    def test_unknown_argument_is_a_plain_type_error(self):
        with pytest.raises(TypeError, match="unexpected keyword argument 'patients'"):
            EarlyStopping("val_loss", patients=3)

    @pytest.mark.parametrize("smoothing", ["median", "ema", 0.25, None])
    def test_config_roundtrip(self, smoothing):
        clone = check_config_roundtrip(EarlyStopping("val_kid", patience=3, smoothing=smoothing,
                                                     divergence_threshold=5.0))
        assert clone.smoothing == smoothing

    def test_prints_keras_messages_when_verbose(self, capsys):
        cb = EarlyStopping("val_loss", patience=1, restore_best_weights=True, verbose=1)
        assert run_script(cb, [3, 2, 4, 5]) == 2
        out = capsys.readouterr().out
        assert "Epoch 3: early stopping" in out
        assert "Restoring model weights from the end of the best epoch: 2." in out
        assert cb.monitor_op is keras.ops.less

    def test_deepcopy_then_reset_on_train_begin(self):
        cb = EarlyStopping("val_loss", patience=0, verbose=0)
        run_script(cb, [3, 4])
        clone = copy.deepcopy(cb)
        assert clone.stopped_epoch == 1
        assert run_script(clone, [3, 2, 1]) is None and clone.stopped_reason is None


class TestRealRuns:
    def test_autoencoder_stops_where_keras_rule_says_and_restores_best(self, digits8):
        x = digits8[0].reshape(len(digits8[0]), -1)
        x_train, x_val = x[:256], x[256:320]
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(64, activation="sigmoid")])
        model.compile(keras.optimizers.Adam(0.3), "binary_crossentropy")  # large: plateaus
        cb = EarlyStopping("val_loss", patience=1, min_delta=0.002, restore_best_weights=True,
                           verbose=0)
        rec = WeightRecorder()
        history = model.fit(x_train, x_train, batch_size=32, epochs=15, verbose=0,
                            validation_data=(x_val, x_val), callbacks=[rec, cb])
        values = history.history["val_loss"]
        assert len(values) < 15 and cb.stopped_epoch == len(values) - 1
        assert keras_stop_epoch(values, patience=1, min_delta=0.002) == cb.stopped_epoch
        best = cb.best_epoch
        assert cb.best == values[best] and values[best] - min(values) < 0.002
        for got, want in zip(model.get_weights(), rec.weights[best]["model"]):
            np.testing.assert_array_equal(got, want)

    def test_gan_restores_every_network_including_ema(self, digits8):
        x = digits8[0].reshape(len(digits8[0]), -1)[:256, :16]
        gan = tiny_gan(ema=0.5)
        cb = EarlyStopping("g_loss", patience=2, restore_best_weights=True, verbose=0)
        rec = WeightRecorder()
        gan.fit(x, batch_size=32, epochs=6, verbose=0, callbacks=[rec, cb])
        best = cb.best_epoch
        assert set(rec.weights[best]) == {"generator", "discriminator", "ema_generator"}
        last = rec.weights[-1]
        for name, net in gan.networks().items():
            for got, want in zip(net.get_weights(), rec.weights[best][name]):
                np.testing.assert_array_equal(got, want)
            if best != len(rec.weights) - 1:
                assert any(not np.array_equal(a, b)
                           for a, b in zip(net.get_weights(), last[name])), name

    def test_planted_nan_stops_and_restores_finite_weights(self, digits8):
        x = digits8[0].reshape(len(digits8[0]), -1)[:128]
        vae = tiny_vae(dim=64, hidden=(16,), net_seeds=(None, None),
                       optimizer=keras.optimizers.Adam(1e-3))

        class PlantNaN(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:
                    w = self.model.decoder.get_weights()
                    w[0][0, 0] = np.nan
                    self.model.decoder.set_weights(w)

        cb = EarlyStopping("loss", patience=5, restore_best_weights=True, verbose=0)
        # PlantNaN after cb: cb snapshots epoch 2's weights before the NaN is planted
        history = vae.fit(x, batch_size=32, epochs=6, verbose=0, callbacks=[cb, PlantNaN()])
        assert len(history.history["loss"]) == 3  # epoch 3 (index 2) is NaN, stop there
        assert cb.stopped_epoch == 2 and "non-finite" in vae.stop_reason
        for net in vae.networks().values():
            assert all(np.all(np.isfinite(w)) for w in net.get_weights())

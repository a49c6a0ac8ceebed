"""Tests for tfgenopt/callbacks/lr.py and lr_finder.py: every optimizer, the range test."""

import copy

import keras
import numpy as np
import pytest

import tfgenopt as tg
from tests.helpers import check_config_roundtrip
from tests.helpers import tiny_gan as _tiny_gan
from tfgenopt.callbacks import LearningRateLogger, LRFinder, ReduceLROnPlateau
from tfgenopt.callbacks.lr import get_lr
from tfgenopt.callbacks.lr_finder import suggest_lr
from tfgenopt.schedules import StepDecay


def tiny_gan(d_lr=1e-3, g_lr=2e-3, seed=0):
    return _tiny_gan(hidden=(16,), seed=seed, net_seeds=(seed, seed), lr=(d_lr, g_lr))


def dense_model(lr=0.01, optimizer=keras.optimizers.SGD, inputs=4):
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(1)])
    model.compile(optimizer(lr), "mse")
    return model


def feed(cb, model, values, key="val_loss"):
    cb.set_model(model)
    cb.on_train_begin()
    logs = []
    for epoch, value in enumerate(values):
        log = {key: value}
        cb.on_epoch_end(epoch, log)
        logs.append(log)
    return logs


@pytest.fixture(scope="module")
def gan_data():
    return np.random.default_rng(0).uniform(size=(128, 16)).astype("float32")


@pytest.fixture(scope="module")
def idle_gan():
    """A compiled tiny GAN, never fitted: for the checks refused before any state changes."""
    return tiny_gan()


class TestLearningRateLogger:
    def test_plain_model_logs_lr_in_history(self):
        model = dense_model(0.05)
        history = model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=2, verbose=0,
                            callbacks=[LearningRateLogger()])
        assert history.history["lr"] == pytest.approx([0.05, 0.05])

    def test_gan_logs_both_rates(self, gan_data):
        history = tiny_gan(1e-3, 4e-3).fit(gan_data, epochs=1, batch_size=64, verbose=0,
                                           callbacks=[LearningRateLogger()])
        assert history.history["d_lr"] == pytest.approx([1e-3])
        assert history.history["g_lr"] == pytest.approx([4e-3])

    def test_schedule_is_read_at_the_optimizer_step(self):
        model = dense_model()
        model.compile(keras.optimizers.SGD(StepDecay(0.1, every=3, drop=0.5)), "mse")
        cb = LearningRateLogger()
        model.fit(np.ones((8, 4)), np.ones((8, 1)), batch_size=2, epochs=2, verbose=0,
                  callbacks=[cb])  # 4 steps per epoch: steps 4 and 8 at the epoch ends
        assert cb.history["lr"] == pytest.approx([0.1 * 0.5 ** (4 // 3), 0.1 * 0.5 ** (8 // 3)])


class TestReduceLROnPlateau:
    def test_reduces_after_patience_like_keras(self):
        values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82]
        ours, theirs = dense_model(1.0), dense_model(1.0)
        logs = feed(ReduceLROnPlateau("val_loss", factor=0.5, patience=2), ours, values)
        cb = keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=2)
        keras_logs = feed(cb, theirs, values)
        assert [log["lr"] for log in logs] == pytest.approx(
            [log["learning_rate"] for log in keras_logs])
        assert [log["lr"] for log in logs] == pytest.approx([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5])

    def test_reduces_both_gan_rates(self, gan_data):
        gan = tiny_gan(1e-3, 2e-3)
        cb = ReduceLROnPlateau("g_loss", factor=0.5, patience=0, min_delta=100.0)
        history = gan.fit(gan_data, epochs=3, batch_size=64, verbose=0, callbacks=[cb])
        assert history.history["d_lr"] == pytest.approx([1e-3, 1e-3, 5e-4])  # used per epoch
        assert history.history["g_lr"] == pytest.approx([2e-3, 2e-3, 1e-3])
        assert get_lr(gan.d_optimizer) == pytest.approx(2.5e-4)
        assert get_lr(gan.g_optimizer) == pytest.approx(5e-4)

    def test_per_optimizer_factor_and_missing_name_is_left_alone(self):
        gan = tiny_gan(1.0, 1.0)
        feed(ReduceLROnPlateau("g_loss", factor={"d": 0.5, "g": 0.2}, patience=0), gan,
             [1.0, 1.0], key="g_loss")
        assert (get_lr(gan.d_optimizer), get_lr(gan.g_optimizer)) == pytest.approx((0.5, 0.2))
        gan = tiny_gan(1.0, 1.0)
        feed(ReduceLROnPlateau("g_loss", factor={"g": 0.1}, patience=0), gan, [1.0, 1.0],
             key="g_loss")
        assert (get_lr(gan.d_optimizer), get_lr(gan.g_optimizer)) == pytest.approx((1.0, 0.1))

    def test_min_lr_is_a_floor(self):
        model = dense_model(1.0)
        feed(ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05), model, [1, 1, 1, 1])
        assert get_lr(model.optimizer) == pytest.approx(0.05)

    def test_cooldown_delays_next_reduction_like_keras(self):
        logs = feed(ReduceLROnPlateau(factor=0.5, patience=0, cooldown=2), dense_model(1.0),
                    [1] * 6)
        keras_logs = feed(keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=0, cooldown=2),
                          dense_model(1.0), [1] * 6)
        assert [log["lr"] for log in logs] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25])
        assert [log["lr"] for log in logs] == pytest.approx(
            [log["learning_rate"] for log in keras_logs])

    def test_unknown_optimizer_name_lists_known(self, idle_gan):
        cb = ReduceLROnPlateau("g_loss", factor={"gen": 0.5})
        cb.set_model(idle_gan)
        with pytest.raises(ValueError, match=r"\['d', 'g'\]"):
            cb.on_train_begin()

    def test_scheduled_optimizer_is_skipped_with_warning(self):
        model = dense_model()
        model.compile(keras.optimizers.SGD(StepDecay(0.1, every=100)), "mse")
        with pytest.warns(UserWarning, match="LearningRateSchedule"):
            logs = feed(ReduceLROnPlateau(factor=0.5, patience=0), model, [1, 1, 1])
        assert [log["lr"] for log in logs] == pytest.approx([0.1, 0.1, 0.1])

    def test_rejects_factor_of_one(self):
        with pytest.raises(ValueError, match="factor"):
            ReduceLROnPlateau(factor=1.0)

    def test_config_roundtrip_and_deepcopy(self):
        cb = ReduceLROnPlateau("val_kid", factor={"d": 0.5, "g": 0.2}, patience=3)
        assert check_config_roundtrip(cb).mode == "min"
        model = dense_model(1.0)
        feed(cb := ReduceLROnPlateau(factor=0.5, patience=0), model, [1, 1])
        clone = copy.deepcopy(cb)
        assert clone.reductions == [(1, {"lr": 0.5})]


def all_state(model):
    state = [v.numpy().copy() for v in model.variables]
    for opt in tg.models.protocol.optimizers(model).values():
        state += [v.numpy().copy() for v in opt.variables]
    return state


class TestSuggestLR:
    def test_steepest_of_a_sigmoid_is_its_center(self):
        lrs = np.logspace(-5, 0, 101)
        loss = 1.0 / (1.0 + np.exp(6.0 * (np.log10(lrs) + 2.5)))
        steepest, min_div10 = suggest_lr(lrs, loss)
        assert steepest == pytest.approx(10 ** -2.5, rel=0.13)  # one grid step
        assert min_div10 == pytest.approx(lrs[-1] / 10)

    def test_ignores_divergent_tail(self):
        lrs = np.logspace(-4, 0, 41)
        loss = np.concatenate([np.linspace(1, 0.1, 30), [0.5, 2.0, np.inf] + [np.nan] * 8])
        assert suggest_lr(lrs, loss)[1] == pytest.approx(lrs[29] / 10)


class TestLRFinder:
    @pytest.mark.slow  # a grid of trainings (~7 s); the finder's mechanics run in make test
    def test_suggests_within_factor_10_of_best_grid_rate_on_autoencoder(self, digits8):
        x = digits8[0].reshape(len(digits8[0]), -1)
        val = {}
        for lr in (1e-3, 1e-2, 1e-1):  # the known good rate: best of a small grid
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, "relu"),
                                      keras.layers.Dense(64, "sigmoid")])
            model.compile(keras.optimizers.Adam(lr), "binary_crossentropy")
            val[lr] = model.fit(x[:300], x[:300], batch_size=32, epochs=3, verbose=0,
                                validation_data=(x[300:], x[300:])).history["val_loss"][-1]
        good = min(val, key=val.get)
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, "relu"),
                                  keras.layers.Dense(64, "sigmoid")])
        model.compile(keras.optimizers.Adam(), "binary_crossentropy")
        result = tg.lr_find(model, x, x, batch_size=32, min_lr=1e-6, max_lr=10.0, steps=80,
                            verbose=0)
        assert good / 10 <= result.suggestion <= good * 10, (good, result)
        assert good / 10 <= result.min_div10 <= good * 10, (good, result)

    def test_restores_weights_and_optimizer_state_bitwise(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(128, 4)).astype("float32")
        y = x @ rng.normal(size=(4, 1)).astype("float32")
        model = dense_model(0.01, keras.optimizers.Adam)
        model.fit(x, y, epochs=1, verbose=0)  # non-trivial Adam moments and iterations
        before = all_state(model)
        result = tg.lr_find(model, x, y, steps=30, min_lr=1e-4, max_lr=1.0, verbose=0)
        after = all_state(model)
        assert len(result.lrs) > 5
        assert len(after) == len(before)
        for a, b in zip(after, before):
            np.testing.assert_array_equal(a, b)
        assert get_lr(model.optimizer) == pytest.approx(0.01)

    def test_sweep_is_exponential_and_stops_on_divergence(self):
        rng = np.random.default_rng(1)
        x = rng.normal(size=(256, 4)).astype("float32")
        y = x @ rng.normal(size=(4, 1)).astype("float32")
        result = tg.lr_find(dense_model(), x, y, batch_size=32, min_lr=1e-3, max_lr=1e3,
                            steps=60, verbose=0)
        assert result.diverged and len(result.lrs) < 60
        ratios = result.lrs[1:] / result.lrs[:-1]
        np.testing.assert_allclose(ratios, (1e6) ** (1 / 59), rtol=1e-9)
        assert result.lrs[-1] < 100.0  # SGD on unit-variance inputs diverges far below 1e3

    def test_gan_sweeps_only_the_chosen_optimizer_and_restores_both(self, gan_data):
        gan = tiny_gan(1e-3, 2e-3)
        before = all_state(gan)

        class Spy(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                seen.append((get_lr(self.model.d_optimizer), get_lr(self.model.g_optimizer)))

        seen = []
        finder = LRFinder(1e-5, 1e-1, steps=12, which="g", divergence=1e9)
        gan.fit(gan_data, epochs=10, batch_size=32, verbose=0, callbacks=[finder, Spy()])
        result = finder.result
        assert result.monitor == "g_loss" and result.optimizers == ("g",)
        assert len(result.lrs) == 12
        assert all(d == pytest.approx(1e-3) for d, _ in seen)
        assert seen[0][1] == pytest.approx(1e-5, rel=1e-5)
        for a, b in zip(all_state(gan), before):
            np.testing.assert_array_equal(a, b)

    def test_dataset_input_is_repeated_for_the_whole_sweep(self):
        import tensorflow as tf

        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 4)).astype("float32")
        ds = tf.data.Dataset.from_tensor_slices((x, x[:, :1])).batch(16)  # 4 batches only
        result = tg.lr_find(dense_model(), ds, steps=12, min_lr=1e-5, max_lr=1e-2, verbose=0)
        assert len(result.lrs) == 12 and not result.diverged
        assert result.lrs[-1] == pytest.approx(1e-2)

    def test_gan_both_optimizers_follow_the_sweep_on_d_loss(self, gan_data):
        result = tg.lr_find(tiny_gan(), gan_data, batch_size=32, which="both", steps=8,
                            min_lr=1e-5, max_lr=1e-3, divergence=1e9, verbose=0)
        assert result.monitor == "d_loss" and result.optimizers == ("d", "g")
        assert len(result.lrs) == 8 and np.all(np.isfinite(result.losses))

    def test_figure_marks_both_suggestions(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(128, 4)).astype("float32")
        result = tg.lr_find(dense_model(), x, x[:, :1], steps=20, verbose=0)
        ax = result.figure.axes[0]
        assert ax.get_xscale() == "log"
        assert len(ax.lines) == 4  # raw, smoothed, two suggestion markers
        np.testing.assert_allclose(ax.lines[1].get_ydata(), result.smoothed)

    def test_scheduled_optimizer_is_refused(self):
        model = dense_model()
        model.compile(keras.optimizers.SGD(StepDecay(0.1, every=10)), "mse")
        with pytest.raises(ValueError, match="LearningRateSchedule"):
            tg.lr_find(model, np.ones((8, 4)), np.ones((8, 1)), steps=5, verbose=0)

    def test_unknown_which_lists_optimizers(self, idle_gan, gan_data):
        with pytest.raises(ValueError, match=r"\['d', 'g'\]"):
            tg.lr_find(idle_gan, gan_data, which="generator", steps=5, verbose=0)

    def test_rejects_max_not_above_min(self):
        with pytest.raises(ValueError, match="max_lr"):
            LRFinder(min_lr=1.0, max_lr=0.5)

    def test_config_roundtrip(self):
        check_config_roundtrip(LRFinder(1e-6, 1.0, steps=50, which=["d", "g"]))


class TestUnderKerasTuner:
    @pytest.mark.slow  # a Keras Tuner search (~7 s); deep copies are checked in make test
    def test_callbacks_run_in_every_trial_and_originals_stay_untouched(self, tmp_path):
        import keras_tuner as kt

        from tfgenopt.callbacks import EarlyStopping

        rng = np.random.default_rng(0)
        x = rng.normal(size=(64, 4)).astype("float32")

        def build(hp):
            model = keras.Sequential([keras.Input((4,)),
                                      keras.layers.Dense(hp.Int("units", 2, 8, step=2)),
                                      keras.layers.Dense(1)])
            model.compile(keras.optimizers.SGD(0.01), "mse")
            return model

        tuner = kt.RandomSearch(build, objective="val_loss", max_trials=2, seed=0,
                                directory=str(tmp_path), project_name="cb")
        callbacks = [LearningRateLogger(), ReduceLROnPlateau(factor=0.5, patience=0),
                     EarlyStopping("val_loss", patience=1, restore_best_weights=True,
                                   verbose=0)]
        tuner.search(x, x.sum(1, keepdims=True), validation_split=0.25, epochs=3, verbose=0,
                     callbacks=callbacks)
        trials = list(tuner.oracle.trials.values())
        assert [t.status for t in trials] == ["COMPLETED", "COMPLETED"]
        assert all(t.metrics.exists("lr") for t in trials)
        assert callbacks[0].history == {} and callbacks[2].best_weights is None

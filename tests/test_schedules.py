"""Tests for tfgenopt/schedules.py: closed forms at chosen steps, configs, optimizers, plots."""

import math

import keras
import numpy as np
import pytest

from tests.helpers import check_config_roundtrip, check_keras_roundtrip
from tfgenopt import schedules
from tfgenopt.schedules import Cyclical, OneCycle, StepDecay, WarmupCosine


def at(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


class TestWarmupCosine:
    def test_warmup_is_linear_from_initial_to_peak(self):
        s = WarmupCosine(1.0, total_steps=110, warmup_steps=10, initial_lr=0.1)
        for t in (0, 3, 7):
            assert at(s, t) == pytest.approx(0.1 + 0.9 * t / 10, rel=1e-6)

    def test_cosine_decay_matches_closed_form(self):
        s = WarmupCosine(2.0, total_steps=110, warmup_steps=10, final_lr=0.5)
        for t in (10, 35, 60, 85, 110):
            p = (t - 10) / 100
            expected = 0.5 + 0.5 * (2.0 - 0.5) * (1 + math.cos(math.pi * p))
            assert at(s, t) == pytest.approx(expected, rel=1e-5)

    def test_constant_at_final_after_total_steps(self):
        s = WarmupCosine(1.0, total_steps=50, final_lr=0.01)
        assert at(s, 50) == pytest.approx(0.01, rel=1e-5)
        assert at(s, 500) == pytest.approx(0.01, rel=1e-5)

    def test_rejects_total_not_beyond_warmup(self):
        with pytest.raises(ValueError, match="total_steps"):
            WarmupCosine(1.0, total_steps=10, warmup_steps=10)


class TestOneCycle:
    def test_starts_at_max_over_div_and_peaks_at_pct_start(self):
        s = OneCycle(1.0, total_steps=100, pct_start=0.25, div_factor=20.0)
        assert at(s, 0) == pytest.approx(0.05, rel=1e-6)
        assert at(s, 25) == pytest.approx(1.0, rel=1e-6)

    def test_cosine_phases_match_closed_form(self):
        s = OneCycle(1.0, total_steps=100, pct_start=0.25, div_factor=20.0, final_div_factor=100.0)
        lo, end = 0.05, 0.05 / 100

        def cos(a, b, f):
            return b + (a - b) * (1 + math.cos(math.pi * f)) / 2

        assert at(s, 10) == pytest.approx(cos(lo, 1.0, 10 / 25), rel=1e-5)
        assert at(s, 70) == pytest.approx(cos(1.0, end, 45 / 75), rel=1e-5)
        assert at(s, 100) == pytest.approx(end, rel=1e-4)

    def test_linear_anneal_is_linear(self):
        s = OneCycle(1.0, total_steps=100, pct_start=0.5, div_factor=10.0,
                     final_div_factor=10.0, anneal="linear")
        assert at(s, 25) == pytest.approx(0.1 + 0.9 * 0.5, rel=1e-6)
        assert at(s, 75) == pytest.approx(1.0 + (0.01 - 1.0) * 0.5, rel=1e-5)

    def test_rejects_pct_start_outside_open_interval(self):
        with pytest.raises(ValueError, match="pct_start"):
            OneCycle(1.0, 100, pct_start=1.0)


def clr_reference(t, base, top, size, mode, gamma=1.0):
    """Smith's published formula, written independently with NumPy."""
    cycle = np.floor(1 + t / (2 * size))
    x = np.abs(t / size - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / (2 ** (cycle - 1)),
             "exp_range": gamma ** t}[mode]
    return base + (top - base) * np.maximum(0, 1 - x) * scale


class TestCyclical:
    @pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
    def test_matches_reference_over_three_cycles(self, mode):
        s = Cyclical(0.001, 0.01, step_size=20, mode=mode, gamma=0.99)
        steps = np.arange(0, 121)
        got = np.array([at(s, int(t)) for t in steps[::7]])
        ref = clr_reference(steps[::7].astype(float), 0.001, 0.01, 20, mode, 0.99)
        np.testing.assert_allclose(got, ref, rtol=1e-5)

    def test_triangular2_halves_the_amplitude_each_cycle(self):
        s = Cyclical(0.0, 1.0, step_size=10, mode="triangular2")
        assert [round(at(s, t), 6) for t in (10, 30, 50)] == [1.0, 0.5, 0.25]

    def test_rejects_unknown_mode_listing_known(self):
        with pytest.raises(ValueError, match="triangular2"):
            Cyclical(0.0, 1.0, 10, mode="sawtooth")

    def test_rejects_max_not_above_base(self):
        with pytest.raises(ValueError, match="max_lr"):
            Cyclical(0.1, 0.1, 10)


class TestStepDecay:
    def test_drops_by_factor_every_n_steps(self):
        s = StepDecay(0.8, every=10, drop=0.5)
        assert [at(s, t) for t in (0, 9, 10, 25, 39)] == pytest.approx(
            [0.8, 0.8, 0.4, 0.2, 0.1])

    def test_never_below_min_lr(self):
        assert at(StepDecay(1.0, every=1, drop=0.1, min_lr=1e-3), 50) == pytest.approx(1e-3)


ALL = [WarmupCosine(1e-3, 100, warmup_steps=10, initial_lr=1e-5, final_lr=1e-6),
       OneCycle(0.1, 200, pct_start=0.2, anneal="linear"),
       Cyclical(1e-4, 1e-2, 25, mode="exp_range", gamma=0.995),
       StepDecay(0.1, every=30, drop=0.3, min_lr=1e-4)]


class TestSerialization:
    @pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
    def test_config_roundtrip_gives_same_values(self, schedule):
        clone = check_config_roundtrip(schedule)
        for t in (0, 17, 99, 250):
            assert at(clone, t) == at(schedule, t)

    @pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
    def test_keras_serialize_roundtrip_resolves_registered_class(self, schedule):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
        assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()

    def test_model_with_scheduled_optimizer_saves_and_reloads(self, tmp_path):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(keras.optimizers.Adam(ALL[0]), "mse")
        model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=1, verbose=0)
        loaded = check_keras_roundtrip(model, np.ones((2, 3), "float32"), tmp_path)
        assert isinstance(loaded.optimizer.get_config()["learning_rate"], dict)
        assert float(loaded.optimizer.learning_rate) == pytest.approx(
            float(model.optimizer.learning_rate), rel=1e-6)


class TestOnOptimizers:
    def test_optimizer_follows_schedule_with_its_own_iterations(self):
        s = StepDecay(0.5, every=2, drop=0.1)
        opt = keras.optimizers.SGD(s)
        var = keras.Variable(np.zeros(1, "float32"))
        opt.build([var])
        rates = []
        for _ in range(5):
            rates.append(float(opt.learning_rate))
            opt.apply_gradients([(np.ones(1, "float32"), var)])
        assert rates == pytest.approx([0.5, 0.5, 0.05, 0.05, 0.005])

    def test_two_optimizers_two_independent_schedules(self):
        d = keras.optimizers.Adam(Cyclical(0.0, 1.0, 4))
        g = keras.optimizers.Adam(WarmupCosine(1.0, 10, warmup_steps=5))
        d.iterations.assign(2)
        g.iterations.assign(3)
        assert float(d.learning_rate) == pytest.approx(0.5)
        assert float(g.learning_rate) == pytest.approx(0.6)


class TestRegistry:
    def test_get_builds_from_name_and_dict(self):
        a = schedules.get("cyclical", base_lr=0.0, max_lr=1.0, step_size=3)
        b = schedules.get({"name": "step_decay", "initial_lr": 0.1, "every": 5})
        assert isinstance(a, Cyclical) and a.step_size == 3
        assert isinstance(b, StepDecay) and b.every == 5

    def test_unknown_name_lists_known(self):
        with pytest.raises(ValueError, match="warmup_cosine"):
            schedules.get("linear_warmup")

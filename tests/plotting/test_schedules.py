"""Tests for tfgenopt/plotting/schedules.py: schedule curves and the LR-finder figure."""

import keras
import numpy as np
import pytest

from tfgenopt.plotting import plot_lr_finder, plot_schedule, schedule_values
from tfgenopt.schedules import Cyclical, WarmupCosine


def at(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


class TestScheduleValues:
    def test_vectorized_values_equal_per_step_calls(self):
        s = Cyclical(1e-4, 1e-2, 25, mode="exp_range", gamma=0.995)
        values, steps = schedule_values(s, 60)
        assert steps.tolist() == list(range(60))
        np.testing.assert_allclose(values, [at(s, t) for t in range(60)], rtol=1e-6)

    def test_plain_python_callable_falls_back_to_a_loop(self):
        values, _ = schedule_values(lambda step: 0.1 if int(step) < 2 else 0.01, 4)
        assert values.tolist() == pytest.approx([0.1, 0.1, 0.01, 0.01])

    def test_rejects_non_callable(self):
        with pytest.raises(TypeError, match="schedule"):
            schedule_values(0.1, 10)


class TestPlotSchedule:
    def test_figure_line_holds_schedule_values(self):
        s = WarmupCosine(1e-3, 100, warmup_steps=10)
        fig = plot_schedule(s, 100)
        np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), schedule_values(s, 100)[0])
        assert fig.axes[0].get_title() == "WarmupCosine"

    def test_log_axis_on_request(self):
        assert plot_schedule(WarmupCosine(1e-3, 10), 10, logy=True).axes[0].get_yscale() == "log"


class TestPlotLRFinder:
    def test_marks_suggestions_from_a_dict(self):
        lrs = np.logspace(-5, 0, 20)
        curve = {"lrs": lrs, "losses": np.linspace(2, 1, 20), "smoothed": np.linspace(2, 1, 20),
                 "steepest": 1e-3, "min_div10": 1e-2}
        ax = plot_lr_finder(curve).axes[0]
        assert ax.get_xscale() == "log"
        assert [line.get_xdata()[0] for line in ax.lines[2:]] == [1e-3, 1e-2]

    def test_empty_result_is_refused(self):
        with pytest.raises(ValueError, match="no points"):
            plot_lr_finder({"lrs": [], "losses": [], "smoothed": []})

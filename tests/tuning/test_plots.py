"""Tests of tfgenopt/plotting/tuning.py (kept with the tuning tests that produce its input)."""

import matplotlib.figure
import numpy as np

from tfgenopt.plotting import tuning as plots

ROWS = [
    {"trial_id": "0", "status": "COMPLETED", "score": 0.5, "learning_rate": 1e-4,
     "optimizer": "sgd", "batch_size": 32, "epochs": 2},
    {"trial_id": "1", "status": "COMPLETED", "score": 0.3, "learning_rate": 1e-2,
     "optimizer": "adam", "batch_size": 64, "epochs": 2},
    {"trial_id": "2", "status": "FAILED", "score": None, "learning_rate": 1e-3,
     "optimizer": "adam", "batch_size": 64, "epochs": 2},
    {"trial_id": "3", "status": "COMPLETED", "score": 0.4, "learning_rate": 1e-3,
     "optimizer": "rmsprop", "batch_size": 32, "epochs": 2},
]


class TestObjectiveVsTrial:
    def test_plots_completed_trials_and_the_running_best(self):
        fig = plots.plot_objective_vs_trial(ROWS, "val_loss", "min")
        assert isinstance(fig, matplotlib.figure.Figure)
        points, best = fig.axes[0].get_lines()
        np.testing.assert_allclose(points.get_ydata(), [0.5, 0.3, 0.4])
        np.testing.assert_allclose(best.get_ydata(), [0.5, 0.3, 0.3])

    def test_running_best_follows_max_direction(self):
        fig = plots.plot_objective_vs_trial(ROWS, "val_recall", "max")
        np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), [0.5, 0.5, 0.5])


class TestObjectiveVsHyperparameters:
    def test_one_panel_per_varying_hyperparameter_with_log_learning_rate(self):
        fig = plots.plot_objective_vs_hyperparameters(ROWS, "val_loss")
        visible = [ax for ax in fig.axes if ax.get_visible()]
        labels = [ax.get_xlabel() for ax in visible]
        assert labels == ["learning_rate", "optimizer", "batch_size"]  # epochs does not vary
        assert visible[0].get_xscale() == "log"
        assert visible[2].get_xscale() == "linear"
        assert [t.get_text() for t in visible[1].get_xticklabels()] == ["adam", "rmsprop", "sgd"]


class TestCurves:
    def test_learning_curves_draw_validation_and_training(self):
        fig = plots.plot_learning_curves({"trial 1": {"val_loss": [0.4, 0.3], "loss": [0.5, 0.35]}})
        lines = fig.axes[0].get_lines()
        assert len(lines) == 2
        np.testing.assert_allclose(lines[0].get_ydata(), [0.4, 0.3])
        assert lines[1].get_linestyle() == "--"

    def test_optimizer_comparison_puts_metrics_side_by_side(self):
        hist = {"sgd": {"loss": [1.0, 0.9], "val_loss": [1.1, 1.0]},
                "adam": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}}
        fig = plots.plot_optimizer_comparison(hist)
        assert [ax.get_title() for ax in fig.axes] == ["loss", "val_loss"]
        assert [line.get_label() for line in fig.axes[0].get_lines()] == ["sgd", "adam"]

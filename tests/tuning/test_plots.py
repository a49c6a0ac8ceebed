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


class TestParallelCoordinates:
    def test_one_line_per_scored_trial_scaled_per_axis(self):
        rows = ROWS + [{"trial_id": "4", "status": "PRUNED", "score": 0.6, "learning_rate": 1e-2,
                        "optimizer": "sgd", "batch_size": 64, "epochs": 2}]
        fig = plots.plot_parallel_coordinates(rows, "val_loss", "min")
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "learning_rate", "optimizer", "batch_size", "val_loss"]
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == [
            "trial 0", "trial 1", "trial 3", "trial 4 (pruned)"]  # the FAILED row is left out
        assert [line.get_linestyle() for line in lines] == ["-", "-", "-", "--"]
        heights = np.array([line.get_ydata() for line in lines])
        # learning rate on a log axis from 1e-4 to 1e-2; optimizers sorted: adam, rmsprop, sgd;
        # batch size 32..64; the objective 0.3..0.6.
        np.testing.assert_allclose(heights[:, 0], [0.0, 1.0, 0.5, 1.0])
        np.testing.assert_allclose(heights[:, 1], [1.0, 0.0, 0.5, 1.0])
        np.testing.assert_allclose(heights[:, 2], [0.0, 1.0, 0.0, 1.0])
        np.testing.assert_allclose(heights[:, 3], [2 / 3, 0.0, 1 / 3, 1.0])

    def test_best_trial_gets_the_bright_end_of_the_colour_scale(self):
        import matplotlib

        for direction, best in (("min", "1"), ("max", "0")):
            fig = plots.plot_parallel_coordinates(ROWS, "val_loss", direction)
            colors = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()}
            top = matplotlib.colormaps["viridis"](1.0)
            np.testing.assert_allclose(colors[f"trial {best}"], top)

    def test_no_scored_trial_still_gives_a_figure(self):
        fig = plots.plot_parallel_coordinates([ROWS[2]], "val_loss")
        assert isinstance(fig, matplotlib.figure.Figure) and not fig.axes[0].get_lines()


class TestImportanceFigure:
    def test_bars_sorted_with_the_largest_on_top(self):
        fig = plots.plot_hyperparameter_importance({"optimizer": 0.8, "units": 0.2, "lr": 0.5})
        ax = fig.axes[0]
        np.testing.assert_allclose([p.get_width() for p in ax.patches], [0.2, 0.5, 0.8])
        assert [t.get_text() for t in ax.get_yticklabels()] == ["units", "lr", "optimizer"]

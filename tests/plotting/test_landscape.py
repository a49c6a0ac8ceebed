import matplotlib.figure
import numpy as np
import pytest

from tfgenopt import plotting

A = np.linspace(-1, 1, 5)
SURFACE = {"alphas": A, "betas": A[:4], "loss": np.add.outer(A[:4] ** 2, A ** 2) + 1.0}


def _records():
    return [{"epoch": e, "logs": {"hessian_top": 1.0 + e, "hessian_trace": 2.0 * e,
                                  "hessian_trace_std": 0.1},
             "slices": {"model": {"alphas": A, "loss": A**2 * e}}, "surfaces": {}}
            for e in (1, 2, 3)]


class TestLandscapeFigures:
    def test_slices_draw_one_curve_per_epoch(self):
        fig = plotting.plot_slices(_records())
        assert isinstance(fig, matplotlib.figure.Figure)
        lines = fig.axes[0].get_lines()
        assert len(lines) == 3
        np.testing.assert_allclose(lines[2].get_ydata(), A**2 * 3)

    def test_contour_draws_the_trajectory(self):
        path = np.array([[0.5, 0.5], [0.2, 0.1], [0.0, 0.0]])
        fig = plotting.plot_surface(SURFACE, trajectory=path)
        drawn = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "trajectory"]
        np.testing.assert_allclose(drawn[0].get_xydata(), path)

    def test_surface_3d_has_a_3d_axes(self):
        fig = plotting.plot_surface_3d(SURFACE, log=True)
        assert fig.axes[0].name == "3d"

    def test_curvature_has_one_panel_per_key_and_a_trace_band(self):
        fig = plotting.plot_curvature(_records())
        assert [ax.get_title() for ax in fig.axes] == ["hessian_top", "hessian_trace"]
        assert len(fig.axes[1].collections) == 1  # the confidence band
        np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [2.0, 3.0, 4.0])

    def test_path_angle_has_two_panels(self):
        fig = plotting.plot_path_angle({"alphas": A, "cosine": -A, "norm": A**2})
        assert len(fig.axes) == 2

    def test_figures_save_to_png(self, tmp_path):
        path = plotting.save_figure(plotting.plot_surface(SURFACE), tmp_path / "s.png")
        assert (tmp_path / "s.png").stat().st_size > 0 and path is not None

    def test_history_without_slices_is_rejected(self):
        with pytest.raises(ValueError, match="no 1-D slices"):
            plotting.plot_slices([{"epoch": 1, "logs": {"a": 1.0}, "slices": {},
                                   "surfaces": {}}])

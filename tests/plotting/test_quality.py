"""Tests for tfgenopt/plotting/quality.py."""

import pytest

from tfgenopt.plotting import plot_quality, save_figure


class TestPlotQuality:
    def test_one_panel_per_metric_with_kid_std_band(self):
        logs = {"val_fid": [9.0, 5.0, 6.0], "val_kid": [0.3, 0.1, 0.2],
                "val_kid_std": [0.05, 0.03, 0.02], "loss": [1.0, 0.5, 0.4]}
        fig = plot_quality(logs)
        visible = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title() for ax in visible] == ["fid", "kid"]
        assert len(visible[1].collections) == 1  # the +-std band

    def test_best_epoch_is_marked_by_direction(self):
        fig = plot_quality({"val_fid": [9.0, 5.0, 6.0], "val_coverage": [0.5, 0.9, 0.7]})
        for ax in fig.axes[:2]:
            star = [line for line in ax.lines if line.get_marker() == "*"][0]
            assert star.get_xdata()[0] == 2  # epoch 2 (1-based) is best for both

    def test_saves_a_png(self, tmp_path):
        path = save_figure(plot_quality({"val_kid": [0.2, 0.1]}), tmp_path / "q.png")
        assert path.stat().st_size > 1000

    def test_missing_key_lists_available_ones(self):
        with pytest.raises(ValueError, match="available"):
            plot_quality({"val_fid": [1.0]}, keys=["val_kid"])


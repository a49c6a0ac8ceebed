"""tfgenopt.plotting.training: loss curves and image grids."""

import numpy as np
import pytest

from tfgenopt.plotting import image_grid_array, plot_history, plot_image_grid, save_figure


class TestImageGrid:
    def test_grid_places_each_image_in_its_cell(self):
        images = np.stack([np.full((2, 2, 1), v) for v in (0.0, 0.5, 1.0)])
        grid = image_grid_array(images, ncols=2, pad=1)
        assert grid.shape == (7, 7, 1)
        assert grid[1, 1, 0] == 0.0 and grid[1, 4, 0] == 0.5 and grid[4, 1, 0] == 1.0
        assert grid[4, 4, 0] == 1.0  # empty cell stays white

    def test_symmetric_range_is_mapped_to_unit(self):
        grid = image_grid_array(np.array([[[-1.0, 1.0]]]).reshape(1, 1, 2, 1), pad=0)
        np.testing.assert_allclose(grid[0, :, 0], [0.0, 1.0])

    def test_flat_square_vectors_are_reshaped(self):
        assert image_grid_array(np.zeros((4, 64)), pad=0).shape == (16, 16, 1)

    def test_non_square_vectors_raise(self):
        with pytest.raises(ValueError, match="square"):
            image_grid_array(np.zeros((4, 10)))

    def test_saved_png_is_written(self, tmp_path):
        fig = plot_image_grid(np.random.rand(9, 8, 8, 1))
        path = save_figure(fig, tmp_path / "sub" / "g.png")
        assert (tmp_path / "sub" / "g.png").stat().st_size > 100 and str(path).endswith("g.png")


def test_history_plot_draws_train_and_validation_curves():
    fig = plot_history({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0], "lr": [1, 1, 1]},
                       keys=["loss"])
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["loss", "val_loss"]
    np.testing.assert_allclose(lines[1].get_ydata(), [3.5, 2.5, 2.0])

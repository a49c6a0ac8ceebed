"""Every matplotlib figure of the package; functions return ``Figure``s, never show them.

One module per area keeps files short: ``training`` (curves, image grids) and, as the
capabilities land, ``landscape``, ``quality``, ``schedules`` and ``tuning``.
"""

from tfgenopt.plotting._base import new_figure, save_figure
from tfgenopt.plotting.training import image_grid_array, plot_history, plot_image_grid

__all__ = ["new_figure", "save_figure", "plot_history", "plot_image_grid", "image_grid_array"]

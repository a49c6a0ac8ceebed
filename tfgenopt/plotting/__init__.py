"""Every matplotlib figure of the package; functions return ``Figure``s, never show them.

One module per area keeps files short: ``training`` (curves, image grids) and, as the
capabilities land, ``landscape``, ``quality``, ``schedules`` and ``tuning``.
"""

from tfgenopt.plotting._base import new_figure, save_figure
from tfgenopt.plotting.landscape import (
    plot_curvature,
    plot_path_angle,
    plot_slices,
    plot_surface,
    plot_surface_3d,
)
from tfgenopt.plotting.quality import plot_quality, plot_quality_vs_time
from tfgenopt.plotting.schedules import plot_lr_finder, plot_schedule, schedule_values
from tfgenopt.plotting.spectrum import plot_hessian_spectrum
from tfgenopt.plotting.training import image_grid_array, plot_history, plot_image_grid
from tfgenopt.plotting.tuning import (
    plot_learning_curves,
    plot_objective_vs_hyperparameters,
    plot_objective_vs_trial,
    plot_optimizer_comparison,
)

__all__ = ["new_figure", "save_figure", "plot_history", "plot_image_grid", "image_grid_array",
           "plot_quality", "plot_quality_vs_time", "plot_objective_vs_trial",
           "plot_objective_vs_hyperparameters",
           "plot_learning_curves", "plot_optimizer_comparison",
           "plot_slices", "plot_surface", "plot_surface_3d", "plot_curvature", "plot_path_angle",
           "plot_hessian_spectrum", "plot_schedule", "plot_lr_finder", "schedule_values"]

"""Loss-landscape and curvature probes, usable without a callback.

Directions (:func:`random_direction`, :func:`random_directions`, :func:`trajectory_pca`,
:func:`direction_between`), slices (:func:`slice_1d`, :func:`surface_2d`,
:func:`interpolate`), curvature (:func:`hvp`, :func:`hessian_eigenvalues`,
:func:`hessian_trace`, :func:`sharpness`, :func:`gradient_norm`,
:func:`gradient_noise_scale`), the eigenvalue density (:func:`hessian_spectrum`) and two-player games (:func:`path_angle`,
:func:`rotation_index`). Every probe leaves the model's state bitwise unchanged.
"""

from tfgenopt.landscape._engine import STRATEGIES
from tfgenopt.landscape.curvature import (
    gradient_noise_scale,
    gradient_norm,
    hessian_eigenvalues,
    hessian_trace,
    hvp,
    sharpness,
)
from tfgenopt.landscape.directions import (
    TrajectoryPCA,
    direction_between,
    get_weights,
    normalize_direction,
    random_direction,
    random_directions,
    trajectory_pca,
)
from tfgenopt.landscape.game import Game, game, path_angle, rotation_index
from tfgenopt.landscape.objectives import Objective, objective, probe_variables
from tfgenopt.landscape.spectrum import hessian_spectrum
from tfgenopt.landscape.surface import interpolate, slice_1d, surface_2d, trajectory_surface

__all__ = [
    "STRATEGIES",
    "Objective",
    "objective",
    "probe_variables",
    "get_weights",
    "random_direction",
    "random_directions",
    "normalize_direction",
    "direction_between",
    "trajectory_pca",
    "TrajectoryPCA",
    "slice_1d",
    "surface_2d",
    "interpolate",
    "trajectory_surface",
    "hvp",
    "hessian_eigenvalues",
    "hessian_trace",
    "hessian_spectrum",
    "gradient_norm",
    "sharpness",
    "gradient_noise_scale",
    "Game",
    "game",
    "rotation_index",
    "path_angle",
]

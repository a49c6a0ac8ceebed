import tfgenopt as tg
import tfgenopt.callbacks
import tfgenopt.plotting  # noqa: F401

PROMISED = ["surface_2d", "slice_1d", "interpolate", "trajectory_surface", "hvp",
            "hessian_eigenvalues", "hessian_spectrum", "hessian_trace", "gradient_norm", "sharpness",
            "gradient_noise_scale", "random_direction", "random_directions",
            "normalize_direction", "direction_between", "trajectory_pca", "get_weights",
            "objective", "Objective", "probe_variables", "Game", "game", "rotation_index",
            "path_angle", "TrajectoryPCA"]
CONSTANTS = {"STRATEGIES": ("auto", "vectorize", "loop", "loop_xla")}


class TestPublicAPI:
    def test_landscape_exports_the_promised_names(self):
        assert sorted(tg.landscape.__all__) == sorted(PROMISED + list(CONSTANTS))
        for name in PROMISED:
            assert callable(getattr(tg.landscape, name)), name
        for name, value in CONSTANTS.items():
            assert sorted(getattr(tg.landscape, name)) == sorted(value), name

    def test_callback_and_figures_are_exported(self):
        assert "LossLandscape" in tg.callbacks.__all__
        for name in ("plot_slices", "plot_surface", "plot_surface_3d", "plot_curvature",
                     "plot_path_angle"):
            assert name in tg.plotting.__all__, name

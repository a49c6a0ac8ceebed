"""The names the design promises users and tests (tfgenopt's public API)."""

import importlib

import pytest

import tfgenopt as tg

PROMISED = {
    "diffusion": ["formulations", "noise", "samplers"],
    "data": ["load_digits", "load_mnist", "load_fashion_mnist", "as_dataset", "load", "scale",
             "load_images", "write_image_folder", "make_shapes", "SHAPE_CLASSES"],
    "builders": ["dense_autoencoder", "dense_generator", "dense_discriminator",
                 "dcgan_generator", "dcgan_discriminator", "conv_autoencoder", "vae_encoder",
                 "vae_decoder", "unet"],
    "models": ["GAN", "GANRecipe", "VAE", "Diffusion", "DiffusionRecipe", "protocol"],
    "losses": ["minimax", "non_saturating", "hinge", "wasserstein", "least_squares",
               "gradient_penalty", "r1_penalty", "get", "names"],
    "schedules": ["WarmupCosine", "OneCycle", "Cyclical", "StepDecay", "get"],
    "callbacks": ["EarlyStopping", "QualityMonitor", "LossLandscape", "LRFinder",
                  "ReduceLROnPlateau", "LearningRateLogger", "SampleGrid", "KLWarmup", "lr_find",
                  "CollapseMonitor", "TensorBoard", "MonitorCallback"],
    "landscape": ["surface_2d", "slice_1d", "interpolate", "hessian_eigenvalues", "hvp",
                  "hessian_trace", "sharpness", "gradient_noise_scale", "hessian_spectrum", "random_directions",
                  "direction_between", "trajectory_pca"],
    "evaluation": ["fid", "fid_from_images", "kid", "precision_recall", "mode_coverage",
                   "domain_classifier", "FeatureExtractor", "domain_extractor",
                   "check_extractor", "ExtractorCheck", "inception_weights_path"],
    "tuning": ["AutoencoderHyperModel", "VAEHyperModel", "GANHyperModel",
               "DiffusionHyperModel", "search", "compare_optimizers"],
    "plotting": ["plot_history", "plot_image_grid", "save_figure", "plot_quality",
                 "plot_schedule", "plot_lr_finder", "plot_surface", "plot_curvature",
                 "plot_optimizer_comparison", "plot_hessian_spectrum"],
    "distribute": ["strategy_from_tf_config", "check_tf_config", "check_global_batch",
                   "global_batch_report", "is_chief", "chief_dir", "ReplicaSeedGenerator",
                   "reducible_logs"],
}


@pytest.mark.parametrize("module", sorted(PROMISED))
def test_module_exports_promised_names(module):
    mod = getattr(tg, module)
    missing = [name for name in PROMISED[module] if not hasattr(mod, name)]
    assert not missing, f"tfgenopt.{module} lacks {missing}"


def test_top_level_exports():
    assert callable(tg.lr_find) and callable(tg.compare)
    assert tg.__version__.count(".") == 2
    assert set(tg.__all__) >= {"data", "builders", "models", "callbacks", "landscape",
                               "evaluation", "tuning", "lr_find"}


def test_unknown_loss_name_lists_known_ones():
    with pytest.raises(ValueError, match="hinge"):
        tg.losses.get("nope")


# The exact public surface: every namespace's ``__all__``, sorted. A name is added or removed
# here on purpose, in the same commit that adds or removes it from the package.
SNAPSHOT = {
    "tfgenopt": [
        "__version__", "augment", "builders", "callbacks", "catalog", "compare", "data",
        "diffusion", "distribute", "evaluation", "landscape", "layers", "losses", "lr_find", "models", "plotting",
        "schedules", "tuning"
    ],
    "augment": ["AdaptiveAugment", "POLICIES", "diff_augment", "parse_policy"],
    "builders": [
        "conv_autoencoder", "dcgan_discriminator", "dcgan_generator", "dense_autoencoder",
        "dense_discriminator", "dense_generator", "known_initializers", "unet", "vae_decoder",
        "vae_encoder"
    ],
    "diffusion": ["formulations", "noise", "samplers"],
    "diffusion.formulations": ["EDM", "FORMULATIONS", "Flow", "SPACINGS", "VP", "get"],
    "diffusion.noise": [
        "CosineSchedule", "LinearSchedule", "SCHEDULES", "edm_loss_weight", "edm_preconditioning",
        "eps_to_x0", "get_schedule", "karras_sigmas", "min_snr_weight", "snr", "v_target",
        "v_to_eps", "v_to_x0", "velocity_target", "velocity_to_eps", "velocity_to_x0",
        "vp_scales", "x0_to_eps"
    ],
    "diffusion.samplers": ["SAMPLERS", "check_sampler", "default_spacing", "evaluations", "sample"],
    "cli": ["UsageError", "build_parser", "main"],
    "callbacks": [
        "CPUBudget", "CollapseMonitor", "EarlyStopping", "EpochCosineDecay", "KLWarmup", "LRFinder",
        "LearningRateLogger",
        "LossLandscape", "MonitorCallback", "QualityMonitor", "ReduceLROnPlateau", "SampleGrid",
        "TensorBoard", "lr_find"
    ],
    "catalog": [
        "DATASETS", "Dataset", "METRICS", "Metric", "QUALITY", "QualityMetric", "VALUE_RANGES",
        "dataset", "direction", "due_at_epoch_end", "due_epochs", "epoch_number", "image_sizes",
        "is_due", "keys_by_producer", "metric", "quality_metric", "quality_metric_of"
    ],
    "data": [
        "COLORS", "DIGIT_SIZES", "SHAPES", "SHAPE_CLASSES", "VALUE_RANGES", "as_dataset",
        "keras_cache_dir", "load", "load_digits", "load_fashion_mnist", "load_images",
        "load_mnist", "make_shapes", "scale", "write_image_folder"
    ],
    "distribute": [
        "DEFAULT_SEED", "ReplicaSeedGenerator", "check_global_batch", "check_tf_config",
        "chief_dir", "global_batch_report", "in_multi_worker_mode", "is_chief", "num_replicas",
        "reducible_logs", "shared_seed", "strategy_from_tf_config"
    ],
    "evaluation": [
        "ExtractorCheck", "FeatureExtractor", "KIDResult", "METRIC_MODES", "cache_dir",
        "check_extractor", "classifier_path", "domain_classifier", "domain_extractor",
        "domain_extractor_path", "extract_features", "extractors", "feature_statistics", "fid",
        "fid_from_images", "frechet_distance", "get_extractor", "inception_extractor",
        "inception_weights_path", "infer_value_range", "kid", "knn_radii", "mode_coverage",
        "mode_coverage_from_probabilities", "polynomial_mmd2", "precision_recall"
    ],
    "landscape": [
        "Game", "Objective", "STRATEGIES", "TrajectoryPCA", "direction_between", "game",
        "get_weights", "gradient_noise_scale", "gradient_norm", "hessian_eigenvalues",
        "hessian_spectrum", "hessian_trace", "hvp", "interpolate", "normalize_direction",
        "objective", "path_angle", "probe_variables", "random_direction", "random_directions",
        "rotation_index", "sharpness", "slice_1d", "surface_2d", "trajectory_pca",
        "trajectory_surface"
    ],
    "layers": ["LeCamEMA", "MinibatchStdDev", "Pack", "SinusoidalEmbedding"],
    "losses": [
        "AdversarialLoss", "get", "gradient_penalty", "hinge", "least_squares", "lecam_penalty",
        "minimax", "names", "non_saturating", "r1_penalty", "ra_d_loss", "ra_g_loss",
        "relativistic_average", "wasserstein"
    ],
    "models": ["Diffusion", "DiffusionRecipe", "GAN", "GANRecipe", "VAE", "protocol"],
    "plotting": [
        "image_grid_array", "new_figure", "plot_curvature", "plot_hessian_spectrum",
        "plot_history", "plot_image_grid", "plot_learning_curves", "plot_lr_finder",
        "plot_objective_vs_hyperparameters", "plot_objective_vs_trial",
        "plot_optimizer_comparison", "plot_path_angle", "plot_quality", "plot_quality_vs_time",
        "plot_schedule",
        "plot_slices", "plot_surface", "plot_surface_3d", "save_figure", "schedule_values"
    ],
    "report": [
        "build_report", "describe_data", "describe_model", "describe_recipe", "fmt",
        "read_summary", "run_record", "sample_diversity_ratio", "verdict", "write_history",
        "write_report", "write_summary", "write_training_report"
    ],
    "schedules": ["Cyclical", "OneCycle", "SCHEDULES", "StepDecay", "WarmupCosine", "get"],
    "tuning": [
        "AutoencoderHyperModel", "DiffusionHyperModel", "GANHyperModel", "MedianPruner",
        "OPTIMIZERS", "PRUNERS", "Param", "SearchResult", "SearchSpace", "TUNERS",
        "TunableHyperModel", "VAEHyperModel", "compare_optimizers", "make_optimizer",
        "make_tuner", "resolve_objective", "search", "trial_table"
    ],
}


def _namespace(name):
    return tg if name == "tfgenopt" else importlib.import_module(f"tfgenopt.{name}")


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_all_matches_the_snapshot_exactly(name):
    exported = sorted(_namespace(name).__all__)
    added = sorted(set(exported) - set(SNAPSHOT[name]))
    removed = sorted(set(SNAPSHOT[name]) - set(exported))
    assert not added and not removed, (
        f"tfgenopt.{name}.__all__ changed: added {added}, removed {removed}. If on purpose, "
        "update SNAPSHOT in tests/test_public_api.py in the same commit.")
    assert len(exported) == len(set(exported)), f"tfgenopt.{name}.__all__ repeats a name"


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_every_exported_name_exists_and_none_is_private(name):
    module = _namespace(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
    assert [n for n in module.__all__ if n.startswith("_") and n != "__version__"] == []


def test_every_public_namespace_is_in_the_snapshot():
    import types

    modules = {n for n in tg.__all__ if isinstance(getattr(tg, n), types.ModuleType)}
    extra = {"tfgenopt", "report", "cli", "diffusion.formulations", "diffusion.noise",
             "diffusion.samplers"}
    assert modules | extra == set(SNAPSHOT)

"""The names the design promises users and tests (tfgenopt's public API)."""

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
    "tuning": ["AutoencoderHyperModel", "VAEHyperModel", "GANHyperModel", "search",
               "compare_optimizers"],
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
    assert callable(tg.lr_find)
    assert tg.__version__.count(".") == 2
    assert set(tg.__all__) >= {"data", "builders", "models", "callbacks", "landscape",
                               "evaluation", "tuning", "lr_find"}


def test_unknown_loss_name_lists_known_ones():
    with pytest.raises(ValueError, match="hinge"):
        tg.losses.get("nope")

"""Keras Tuner experiments: HyperModels, ``search()``, results, TOML scripts, distributed runs."""

from tfgenopt.tuning.compare import compare_optimizers
from tfgenopt.tuning.diffusion import DiffusionHyperModel
from tfgenopt.tuning.generative import GANHyperModel, VAEHyperModel
from tfgenopt.tuning.hypermodels import (
    OPTIMIZERS,
    AutoencoderHyperModel,
    EpochCosineDecay,  # noqa: F401  (its home is tfgenopt.callbacks; kept importable from here)
    TunableHyperModel,
    make_optimizer,
)
from tfgenopt.tuning.pruning import PRUNERS, MedianPruner
from tfgenopt.tuning.results import SearchResult, trial_table
from tfgenopt.tuning.search import TUNERS, make_tuner, resolve_objective, search
from tfgenopt.tuning.space import Param, SearchSpace

__all__ = [
    "AutoencoderHyperModel",
    "VAEHyperModel",
    "GANHyperModel",
    "DiffusionHyperModel",
    "TunableHyperModel",
    "make_optimizer",
    "OPTIMIZERS",
    "search",
    "make_tuner",
    "resolve_objective",
    "TUNERS",
    "MedianPruner",
    "PRUNERS",
    "SearchResult",
    "trial_table",
    "Param",
    "SearchSpace",
    "compare_optimizers",
]

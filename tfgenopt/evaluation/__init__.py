"""Offline quality metrics of generative models: FID, KID, precision/recall, mode coverage.

Features come from a domain classifier trained on the bundled digits on first use and cached
(``tfgenopt.evaluation.domain_classifier``), from a domain extractor trained on your own images
(``domain_extractor``; check it with ``check_extractor``), from any ``keras.Model``, or from
InceptionV3 built on a local weights file. Nothing downloads; SciPy is not needed at run time.
"""

from tfgenopt import catalog as _catalog
from tfgenopt.evaluation import extractors
from tfgenopt.evaluation.classifier import cache_dir, classifier_path, domain_classifier
from tfgenopt.evaluation.coverage import mode_coverage, mode_coverage_from_probabilities
from tfgenopt.evaluation.domain import domain_extractor, domain_extractor_path
from tfgenopt.evaluation.extractors import extract_features
from tfgenopt.evaluation.extractors import get as get_extractor
from tfgenopt.evaluation.features import (
    FeatureExtractor,
    inception_extractor,
    inception_weights_path,
    infer_value_range,
)
from tfgenopt.evaluation.fid import feature_statistics, fid, fid_from_images, frechet_distance
from tfgenopt.evaluation.kid import KIDResult, kid, polynomial_mmd2
from tfgenopt.evaluation.manifold import knn_radii, precision_recall
from tfgenopt.evaluation.sanity import ExtractorCheck, check_extractor

# Direction of every ``logs`` key QualityMonitor writes (what EarlyStopping / tuners optimize),
# read from the catalog.
METRIC_MODES = {key: _catalog.METRICS[key].direction
                for key in _catalog.keys_by_producer("tfgenopt.callbacks.QualityMonitor")}

__all__ = [
    "ExtractorCheck",
    "FeatureExtractor",
    "KIDResult",
    "METRIC_MODES",
    "cache_dir",
    "check_extractor",
    "classifier_path",
    "domain_classifier",
    "domain_extractor",
    "domain_extractor_path",
    "extract_features",
    "extractors",
    "feature_statistics",
    "fid",
    "fid_from_images",
    "frechet_distance",
    "get_extractor",
    "inception_extractor",
    "inception_weights_path",
    "infer_value_range",
    "kid",
    "knn_radii",
    "mode_coverage",
    "mode_coverage_from_probabilities",
    "polynomial_mmd2",
    "precision_recall",
]

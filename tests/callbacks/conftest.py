"""Fixtures the callback tests share."""

import pytest

import tfgenopt as tg
from tfgenopt.evaluation.features import FeatureExtractor


@pytest.fixture(scope="module")
def extractor(_tfgenopt_cache):
    """The digits' domain classifier as a feature extractor (from the run's cache folder)."""
    return FeatureExtractor(tg.evaluation.domain_classifier())

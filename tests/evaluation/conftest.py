"""Evaluation fixtures: a temporary tfgenopt cache and the digits classifier, once per session."""

import os
import pathlib

import pytest


@pytest.fixture(scope="session")
def tfgenopt_cache(_tfgenopt_cache):
    """The session's ``TFGENOPT_CACHE`` folder (set by tests/conftest.py, never the home one)."""
    return pathlib.Path(os.environ["TFGENOPT_CACHE"])


@pytest.fixture(scope="session")
def classifier(tfgenopt_cache):
    """``(model, info)`` of the default digits classifier (trained on first use, then cached)."""
    from tfgenopt.evaluation import domain_classifier

    return domain_classifier(return_info=True)


@pytest.fixture(scope="session")
def extractor(classifier):
    from tfgenopt.evaluation import FeatureExtractor

    return FeatureExtractor(classifier[0])

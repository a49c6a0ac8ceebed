"""Tests for tfgenopt/evaluation/manifold.py against a brute-force SciPy reference."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from tfgenopt.evaluation import knn_radii, manifold, precision_recall


def reference_prdc(real, fake, k):
    """Precision, recall, density, coverage from full distance matrices (scipy cdist)."""
    rr = np.sort(cdist(real, real), axis=1)[:, k]
    rf = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)  # (n, m)
    return {
        "precision": float((d <= rr[:, None]).any(axis=0).mean()),
        "recall": float((d <= rf[None, :]).any(axis=1).mean()),
        "density": float((d <= rr[:, None]).sum() / (k * fake.shape[0])),
        "coverage": float((d.min(axis=1) <= rr).mean()),
    }


class TestKnnRadii:
    def test_match_sorted_scipy_distances(self, rng):
        x = rng.normal(size=(40, 3))
        np.testing.assert_allclose(knn_radii(x, 3), np.sort(cdist(x, x), axis=1)[:, 3],
                                   rtol=1e-9, atol=1e-12)

    def test_k_not_below_sample_count_raises(self, rng):
        with pytest.raises(ValueError, match="`k` must be smaller"):
            knn_radii(rng.normal(size=(3, 2)), k=3)


class TestPrecisionRecall:
    def test_identical_sets_score_one(self, rng):
        a = rng.normal(size=(200, 5))
        r = precision_recall(a, a, k=3)
        assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["coverage"] == 1.0

    def test_shifted_set_scores_drop(self, rng):
        a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
        near = precision_recall(a, b)
        far = precision_recall(a, b + 1.5)
        assert near["precision"] > 0.7 and near["recall"] > 0.7
        for key in ("precision", "recall", "density", "coverage"):
            assert far[key] < near[key] - 0.3, key

    def test_blocked_computation_matches_reference(self, rng, monkeypatch):
        monkeypatch.setattr(manifold, "_BLOCK", 7)  # several row blocks
        real, fake = rng.normal(size=(53, 3)), rng.normal(size=(41, 3)) * 1.2 + 0.3
        got = precision_recall(real, fake, k=4)
        expected = reference_prdc(real, fake, 4)
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-12), key

    def test_collapsed_generator_has_low_recall_and_coverage(self, rng):
        real = rng.normal(size=(300, 4))
        fake = real[:1] + 0.01 * rng.normal(size=(300, 4))  # one mode
        r = precision_recall(real, fake)
        assert r["precision"] == 1.0 and r["recall"] < 0.05 and r["coverage"] < 0.05

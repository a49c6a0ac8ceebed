"""Tests for tfgenopt/evaluation/kid.py: an explicit-loop reference and unbiasedness."""

import numpy as np
import pytest

from tfgenopt.evaluation import KIDResult, kid, polynomial_mmd2


def loop_mmd2(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3, written with explicit pair loops."""
    m, d = x.shape

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def biased_mmd2(x, y):
    """The V-statistic (diagonal included): biased upwards, the contrast for unbiasedness."""
    d = x.shape[1]
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


class TestPolynomialMmd2:
    def test_agrees_with_explicit_loop_reference(self, rng):
        x, y = rng.normal(size=(25, 5)), rng.normal(size=(25, 5)) + 0.4
        assert polynomial_mmd2(x, y) == pytest.approx(loop_mmd2(x, y), rel=1e-9)

    def test_unequal_sample_counts_raise(self, rng):
        with pytest.raises(ValueError, match="same number of samples"):
            polynomial_mmd2(rng.normal(size=(5, 2)), rng.normal(size=(6, 2)))


class TestKid:
    def test_whole_set_subset_agrees_with_reference_to_1e6(self, rng):
        # One subset holding every sample is a permutation of the sets: MMD^2 is invariant.
        x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 6)) * 1.3 + 0.2
        result = kid(x, y, subsets=1, subset_size=40)
        assert result.mean == pytest.approx(loop_mmd2(x, y), rel=1e-6)
        assert result.std == 0.0

    def test_mean_and_std_are_those_of_the_subset_estimates(self, rng):
        a, b = rng.normal(size=(60, 3)), rng.normal(size=(70, 3)) + 0.5
        draws = np.random.default_rng(7)
        values = []
        for _ in range(5):
            x = a[draws.choice(60, 20, replace=False)]
            y = b[draws.choice(70, 20, replace=False)]
            values.append(loop_mmd2(x, y))
        result = kid(a, b, subsets=5, subset_size=20, seed=7)
        assert isinstance(result, KIDResult)
        assert result.mean == pytest.approx(np.mean(values), rel=1e-6)
        assert result.std == pytest.approx(np.std(values), rel=1e-6)

    def test_unbiased_near_zero_for_one_distribution(self):
        rng = np.random.default_rng(1)
        pairs = [(rng.normal(size=(20, 4)), rng.normal(size=(20, 4))) for _ in range(300)]
        unbiased = np.array([polynomial_mmd2(x, y) for x, y in pairs])
        biased = np.array([biased_mmd2(x, y) for x, y in pairs])
        stderr = unbiased.std() / np.sqrt(len(pairs))
        assert abs(unbiased.mean()) < 3 * stderr
        assert biased.mean() > 10 * stderr  # the V-statistic is clearly biased upwards

    def test_positive_for_shifted_distribution(self, rng):
        a = rng.normal(size=(300, 8))
        same = kid(a, rng.normal(size=(300, 8)), subsets=10, subset_size=100)
        shifted = kid(a, rng.normal(size=(300, 8)) + 1.0, subsets=10, subset_size=100)
        assert shifted.mean > 10 * max(abs(same.mean), same.std)

    def test_subset_size_is_capped_at_the_smaller_set(self, rng):
        a, b = rng.normal(size=(30, 3)), rng.normal(size=(12, 3))
        assert np.isfinite(kid(a, b, subsets=3, subset_size=1000).mean)

    def test_invalid_subsets_raise(self, rng):
        a = rng.normal(size=(10, 2))
        with pytest.raises(ValueError, match="`subsets` must be >= 1"):
            kid(a, a, subsets=0)

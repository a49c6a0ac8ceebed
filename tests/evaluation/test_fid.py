"""Tests for tfgenopt/evaluation/fid.py: closed forms and an independent SciPy reference."""

import numpy as np
import pytest
import scipy.linalg

from tfgenopt.evaluation import feature_statistics, fid, fid_from_images, frechet_distance


def scipy_fid(a, b):
    """The textbook FID with scipy.linalg.sqrtm (independent of the package's eigh route)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean))


def correlated(rng, n, d, shift=0.0):
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mix + shift


class TestFeatureStatistics:
    def test_matches_numpy_mean_and_unbiased_covariance(self, rng):
        x = rng.normal(size=(50, 4))
        mu, sigma = feature_statistics(x)
        np.testing.assert_allclose(mu, x.mean(0), rtol=1e-12)
        np.testing.assert_allclose(sigma, np.cov(x, rowvar=False), rtol=1e-10)


class TestFrechetDistance:
    def test_one_dimensional_gaussians_match_closed_form(self):
        # d^2 = (m1 - m2)^2 + (s1 - s2)^2 for N(m1, s1^2), N(m2, s2^2).
        got = frechet_distance([1.0], [[4.0]], [3.0], [[9.0]])
        assert got == pytest.approx((1 - 3) ** 2 + (2 - 3) ** 2, rel=1e-12)

    def test_commuting_covariances_match_closed_form(self, rng):
        # Same eigenvectors: tr sqrt(S1 S2) = sum sqrt(a_i b_i).
        q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
        a, b = rng.uniform(0.5, 3, 6), rng.uniform(0.5, 3, 6)
        mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
        expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
        got = frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
        assert got == pytest.approx(expected, rel=1e-10)

    def test_mismatched_dimensions_raise(self):
        with pytest.raises(ValueError, match="same dimension"):
            frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


class TestFid:
    def test_set_with_itself_is_zero(self, rng):
        a = correlated(rng, 400, 16)
        assert abs(fid(a, a)) < 1e-9

    def test_rank_deficient_set_with_itself_is_near_zero_and_finite(self, rng):
        a = correlated(rng, 10, 32)  # fewer samples than dimensions: singular covariance
        value = fid(a, a)
        assert np.isfinite(value) and value < 1e-6 * np.trace(np.cov(a, rowvar=False))

    def test_gaussian_samples_match_closed_form_of_sample_statistics(self, rng):
        a, b = correlated(rng, 500, 8), correlated(rng, 600, 8, shift=0.5)
        expected = frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                    b.mean(0), np.cov(b, rowvar=False))
        assert fid(a, b) == pytest.approx(expected, rel=1e-12)

    def test_agrees_with_scipy_sqrtm_reference(self, rng):
        a, b = correlated(rng, 800, 32), correlated(rng, 700, 32, shift=0.3) * 1.2
        assert fid(a, b) == pytest.approx(scipy_fid(a, b), rel=1e-6)

    def test_grows_with_the_mean_shift(self, rng):
        a = rng.normal(size=(500, 4))
        b = rng.normal(size=(500, 4))
        assert fid(a, b) < fid(a, b + 1.0) < fid(a, b + 2.0)

    def test_feature_dimension_mismatch_raises(self, rng):
        with pytest.raises(ValueError, match="same feature dimension"):
            fid(rng.normal(size=(10, 3)), rng.normal(size=(10, 4)))

    def test_non_matrix_features_raise(self, rng):
        with pytest.raises(ValueError, match=r"2-D array of feature vectors"):
            fid(rng.normal(size=(10, 3, 2)), rng.normal(size=(10, 3, 2)))


class TestFidFromImages:
    def test_real_halves_are_closer_than_real_vs_noise(self, extractor, digits28, rng):
        x_train, x_val = digits28
        noise = rng.uniform(size=x_val.shape).astype("float32")
        close = fid_from_images(x_train[:400], x_val, extractor=extractor)
        far = fid_from_images(x_train[:400], noise, extractor=extractor)
        assert close * 5 < far


class TestRuntimeDependencies:
    def test_evaluation_modules_never_import_scipy(self):
        import pathlib
        import re

        import tfgenopt.evaluation

        root = pathlib.Path(tfgenopt.evaluation.__file__).parent
        sources = {p.name: p.read_text() for p in root.glob("*.py")}
        assert "fid.py" in sources
        offenders = [name for name, text in sources.items()
                     if re.search(r"^\s*(import|from)\s+scipy\b", text, re.M)]
        assert offenders == []

"""Tests for tfgenopt/evaluation/coverage.py: real digits, a collapsed set, closed-form KL."""

import numpy as np
import pytest

import tfgenopt as tg
from tfgenopt.evaluation import mode_coverage, mode_coverage_from_probabilities


class TestModeCoverage:
    def test_real_digits_cover_ten_of_ten_classes(self, extractor):
        x, y = tg.data.load_digits(image_size=28, flatten=True, validation_split=0,
                                   return_labels=True)
        result = mode_coverage(x, extractor, real_labels=y)
        assert result["covered"] == 10 and result["coverage"] == 1.0
        assert result["kl"] < 0.01 and result["confidence"] > 0.9

    def test_single_repeated_digit_covers_one_of_ten(self, extractor, digits28):
        x = np.repeat(digits28[1][:1], 200, axis=0)
        result = mode_coverage(x, extractor)
        assert result["covered"] == 1 and result["coverage"] == pytest.approx(0.1)
        assert result["kl"] == pytest.approx(np.log(10), rel=1e-6)


class TestModeCoverageFromProbabilities:
    def test_uniform_classes_have_zero_kl(self):
        p = np.eye(4)[np.arange(400) % 4]
        result = mode_coverage_from_probabilities(p)
        assert result["covered"] == 4 and result["kl"] == pytest.approx(0.0, abs=1e-8)

    def test_kl_matches_closed_form_against_real_histogram(self):
        p = np.eye(3)[[0] * 60 + [1] * 30 + [2] * 10]
        real = [0] * 20 + [1] * 20 + [2] * 20
        gen = np.array([0.6, 0.3, 0.1])
        expected = float(np.sum(gen * np.log(gen / (1 / 3))))
        result = mode_coverage_from_probabilities(p, real_labels=real)
        assert result["kl"] == pytest.approx(expected, rel=1e-6)
        np.testing.assert_allclose(result["histogram"], gen)

    def test_rare_class_below_min_share_is_not_covered(self):
        p = np.eye(2)[[0] * 999 + [1]]  # class 1 gets 0.1 % against 50 % among real samples
        assert mode_coverage_from_probabilities(p, min_share=0.1)["covered"] == 1
        assert mode_coverage_from_probabilities(p, min_share=0.0)["covered"] == 2

    def test_a_dropped_rare_class_is_uncovered_under_the_relative_rule_only(self):
        real = [0] * 450 + [1] * 450 + [2] * 100  # class 2: 10% of the data...
        p = np.eye(3)[[0] * 500 + [1] * 480 + [2] * 20]  # ...2% of the samples
        relative = mode_coverage_from_probabilities(p, real)
        absolute = mode_coverage_from_probabilities(p, real, rule="absolute")
        assert relative["covered"] == 2 and absolute["covered"] == 3
        assert relative["rarest"][0] == {"class": 2, "share": 0.02, "data_share": 0.1,
                                         "covered": False}
        assert [r["class"] for r in relative["rarest"]] == [2, 0, 1]

    def test_a_faithful_very_rare_class_is_covered_under_the_relative_rule_only(self):
        real = [0] * 99 + [1]  # class 1: 1% of the data and 1% of the samples
        p = np.eye(2)[[0] * 990 + [1] * 10]
        assert mode_coverage_from_probabilities(p, real)["covered"] == 2
        assert mode_coverage_from_probabilities(p, real, rule="absolute")["covered"] == 1

    def test_default_thresholds_per_rule_and_explicit_ones(self):
        p = np.eye(4)[[0] * 97 + [1] * 1 + [2] * 1 + [3] * 1]  # uniform data: 25% each
        assert mode_coverage_from_probabilities(p)["covered"] == 1  # needs 6.25%
        assert mode_coverage_from_probabilities(p, min_share=0.04)["covered"] == 4  # 1%
        assert mode_coverage_from_probabilities(p, rule="absolute")["covered"] == 1  # needs 2%
        assert mode_coverage_from_probabilities(p, min_share=0.01,
                                                rule="absolute")["covered"] == 4

    def test_unknown_rule_raises_naming_it(self):
        with pytest.raises(ValueError, match="`rule` must be one of"):
            mode_coverage_from_probabilities(np.eye(3), rule="median")

    def test_confidence_is_mean_top_probability(self):
        p = np.array([[0.9, 0.1], [0.3, 0.7]])
        assert mode_coverage_from_probabilities(p)["confidence"] == pytest.approx(0.8)

    def test_out_of_range_real_labels_raise(self):
        with pytest.raises(ValueError, match="class indices in"):
            mode_coverage_from_probabilities(np.eye(3), real_labels=[0, 5])

    def test_invalid_min_share_raises(self):
        with pytest.raises(ValueError, match="`min_share` must be <= 1"):
            mode_coverage_from_probabilities(np.eye(3), min_share=2.0)

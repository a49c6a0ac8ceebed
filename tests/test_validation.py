"""Tests for tfgenopt/_validation.py: the shared argument checks."""

import pytest

from tfgenopt import catalog
from tfgenopt._validation import check_value_range


class TestCheckValueRange:
    @pytest.mark.parametrize("value, expected", [
        ((0, 1), (0.0, 1.0)), ([-1, 1], (-1.0, 1.0)), ((0, 255), (0.0, 255.0))])
    def test_any_increasing_pair_returns_floats(self, value, expected):
        out = check_value_range("value_range", value)
        assert out == expected and all(isinstance(v, float) for v in out)

    @pytest.mark.parametrize("value", [None, 3, "01", (1, 2, 3), ("a", 1)])
    def test_not_a_pair_raises_naming_the_argument_and_value(self, value):
        with pytest.raises(ValueError, match=r"`vr` must be a pair \(low, high\)"):
            check_value_range("vr", value)

    @pytest.mark.parametrize("value", [(1, 0), (0.5, 0.5)])
    def test_high_not_above_low_raises(self, value):
        with pytest.raises(ValueError, match="`vr` must have high > low"):
            check_value_range("vr", value)

    def test_non_finite_bound_raises(self):
        with pytest.raises(ValueError, match="`vr` must be finite"):
            check_value_range("vr", (0, float("inf")))

    def test_allowed_accepts_only_the_listed_pairs(self):
        assert check_value_range("value_range", [-1, 1], catalog.VALUE_RANGES) == (-1.0, 1.0)
        with pytest.raises(ValueError, match=r"must be one of \(\(0.0, 1.0\), \(-1.0, 1.0\)\); "
                                             r"received \(0, 2\)"):
            check_value_range("value_range", (0, 2), catalog.VALUE_RANGES)

    @pytest.mark.parametrize("call", [
        lambda: __import__("tfgenopt").data.scale([0, 255], (0, 2)),
        lambda: __import__("tfgenopt").augment.diff_augment([[[[0.0]]]], value_range=(1, 0)),
        lambda: __import__("tfgenopt").callbacks.SampleGrid(value_range=(1, 1)),
    ])
    def test_every_entry_point_uses_it(self, call):
        with pytest.raises(ValueError, match="`value_range` must"):
            call()


def test_value_ranges_have_one_table():
    import tfgenopt as tg
    from tfgenopt.evaluation import features

    assert tg.data.VALUE_RANGES is catalog.VALUE_RANGES
    assert not hasattr(features, "VALUE_RANGES")

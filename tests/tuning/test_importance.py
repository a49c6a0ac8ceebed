"""Tests of tfgenopt/tuning/importance.py against NumPy references."""

import numpy as np
import pytest

from tfgenopt.tuning.importance import eta_squared, hyperparameter_importance, spearman


def _rows(scores, **columns):
    return [{"trial_id": str(i), "status": "COMPLETED", "score": s,
             **{k: v[i] for k, v in columns.items()}} for i, s in enumerate(scores)]


def test_eta_squared_is_the_between_group_share_of_variance():
    values = ["a", "b", "a", "c", "b", "c", "a"]
    y = np.array([0.3, 0.5, 0.35, 0.9, 0.45, 1.0, 0.2])
    groups = {v: y[[x == v for x in values]] for v in set(values)}
    between = sum(len(g) * (g.mean() - y.mean()) ** 2 for g in groups.values())
    assert eta_squared(values, y) == pytest.approx(between / np.sum((y - y.mean()) ** 2))


def test_spearman_matches_pearson_of_average_ranks():
    x = np.array([1e-4, 3e-4, 3e-4, 1e-3, 1e-2, 3e-2])
    y = np.array([0.9, 0.7, 0.8, 0.4, 0.5, 0.1])

    def ranks(v):  # average ranks of ties, from 0
        return np.array([np.sum(v < a) + (np.sum(v == a) - 1) / 2 for a in v])

    assert spearman(x, y) == pytest.approx(np.corrcoef(ranks(x), ranks(y))[0, 1])
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_choices_use_eta_squared_and_wide_ranges_use_squared_spearman():
    lrs = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
    scores = [0.9, 0.8, 0.85, 0.5, 0.4, 0.45, 0.3]
    opts = ["adam", "sgd", "adam", "sgd", "adam", "sgd", "adam"]
    out = hyperparameter_importance(_rows(scores, learning_rate=lrs, optimizer=opts,
                                          epochs=[2] * 7))
    assert list(out) == ["learning_rate", "optimizer"]  # sorted, epochs does not vary
    assert out["learning_rate"] == pytest.approx(spearman(lrs, scores) ** 2)
    assert out["optimizer"] == pytest.approx(eta_squared(opts, scores))


def test_pruned_failed_and_missing_scores_are_left_out():
    rows = _rows([0.1, 0.2, 0.3, 0.4], units=[8, 16, 8, 16])
    rows[3]["status"] = "PRUNED"
    rows.append({"trial_id": "9", "status": "FAILED", "score": None, "units": 32})
    assert hyperparameter_importance(rows) == {"units": pytest.approx(
        eta_squared([8, 16, 8], [0.1, 0.2, 0.3]))}
    assert hyperparameter_importance(rows[:2]) == {}  # fewer than 3 completed trials

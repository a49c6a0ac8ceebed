"""Tests of tfgenopt/tuning/pruning.py: the median rule, and pruned trials in a real search."""

import csv
import json
import warnings

import keras
import pytest

from tfgenopt import tuning
from tfgenopt.tuning.pruning import MedianPruner, get_pruner

SMALL = {"epochs": 3, "batch_size": 64, "units": 32, "depth": 1, "latent_dim": 16,
         "normalization": "none", "kernel_initializer": "glorot_uniform",
         "optimizer": ["adam", "sgd"], "learning_rate": {"min": 1e-4, "max": 3e-2,
                                                          "sampling": "log"}}
# val_loss per epoch of each trial, in trial order. With warmup_epochs=1, min_trials=2:
# trial 1 is worse than trial 0 but only one trial came before it: it runs to the end;
# trial 2 at epoch 2: 0.95 > median(0.4, 0.8) = 0.6 -> pruned (epoch 1, 1.0, is warm-up);
# trial 3: 0.5 < 0.6 at epoch 2, 0.5 == median(0.3, 0.7) at epoch 3 (not worse) -> completes.
SCRIPTS = [[0.5, 0.4, 0.3], [0.9, 0.8, 0.7], [1.0, 0.95, 0.9], [0.5, 0.5, 0.5]]


class TestMedianRule:
    def _pruner(self, direction="min", **kwargs):
        pruner = MedianPruner(**kwargs)
        pruner.set_history([{1: 0.5, 2: 0.4, 3: 0.3}, {1: 0.9, 2: 0.8}, {1: 0.7, 2: 0.6}],
                           direction)
        return pruner

    def test_worse_than_the_median_at_the_same_epoch_is_pruned(self):
        pruner = self._pruner(warmup_epochs=1, min_trials=2)
        assert pruner.threshold(2) == pytest.approx(0.6)  # median(0.4, 0.8, 0.6)
        assert pruner.should_prune(2, 0.61) and not pruner.should_prune(2, 0.6)

    def test_max_direction_prunes_smaller_values(self):
        pruner = self._pruner("max", warmup_epochs=0, min_trials=1)
        assert pruner.should_prune(1, 0.6) and not pruner.should_prune(1, 0.8)

    def test_warm_up_epochs_are_never_pruned(self):
        pruner = self._pruner(warmup_epochs=2, min_trials=1)
        assert not pruner.should_prune(1, 99.0) and not pruner.should_prune(2, 99.0)
        assert pruner.should_prune(3, 99.0)

    def test_too_few_trials_at_that_epoch_never_prune(self):
        pruner = self._pruner(warmup_epochs=0, min_trials=2)
        assert pruner.threshold(3) is None  # one trial reached epoch 3
        assert not pruner.should_prune(3, 99.0)

    def test_a_non_finite_value_is_worse_than_any_median(self):
        assert self._pruner(warmup_epochs=0, min_trials=1).should_prune(1, float("nan"))

    def test_names_and_bad_settings(self):
        assert isinstance(get_pruner("median"), MedianPruner) and get_pruner(None) is None
        with pytest.raises(ValueError, match=r"`pruner` must be one of \['median'\].*'hyper'"):
            get_pruner("hyper")
        with pytest.raises(TypeError, match="`pruner` must be None"):
            get_pruner(3)
        with pytest.raises(ValueError, match="min_trials"):
            MedianPruner(min_trials=0)


class _Script(keras.callbacks.Callback):
    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


class _ScriptedHyperModel(tuning.AutoencoderHyperModel):
    """Trial ``i``'s ``val_loss`` is ``SCRIPTS[i]`` (set before any other callback reads it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        script = SCRIPTS[self.calls]
        self.calls += 1
        return super().fit(hp, model, *args, callbacks=[_Script(script), *callbacks], **kwargs)


@pytest.fixture(scope="module")
def pruned_search(tmp_path_factory):
    import tfgenopt as tg

    xt, xv = tg.data.load_digits(image_size=8, flatten=True)
    folder = tmp_path_factory.mktemp("pruning")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tuning.search(_ScriptedHyperModel(64, overrides=SMALL, seed=0), xt[:300],
                               xv[:100], max_trials=4, directory=folder, seed=0, verbose=0,
                               early_stopping=False,
                               pruner=MedianPruner(warmup_epochs=1, min_trials=2))
    return result, folder, caught


class TestPrunedSearch:
    def test_only_the_worse_than_median_trial_is_pruned(self, pruned_search):
        result, _, caught = pruned_search
        assert result.statuses() == {"0": "COMPLETED", "1": "COMPLETED", "2": "PRUNED",
                                     "3": "COMPLETED"}
        assert result.pruned() == {"2": 2}
        assert result.failed() == {}
        assert not [w for w in caught if "did not complete" in str(w.message)]

    def test_pruned_trial_stopped_at_that_epoch_and_keeps_its_best_value(self, pruned_search):
        result, _, _ = pruned_search
        histories = result.histories()
        assert [len(histories[t]["val_loss"]) for t in "0123"] == [3, 3, 2, 3]
        row = next(r for r in result.trials if r["trial_id"] == "2")
        assert row["score"] == pytest.approx(0.95) and row["pruned_at_epoch"] == 2
        assert result.tuner.oracle.trials["2"].status == "COMPLETED"  # Keras Tuner's view

    def test_best_trial_and_ranking_count_pruned_trials_by_their_score(self, pruned_search):
        result, _, _ = pruned_search
        assert result.best_trial_id == "0" and result.best_score == pytest.approx(0.3)
        assert [r["trial_id"] for r in result.ranked()] == ["0", "3", "1", "2"]

    def test_csv_and_json_record_the_pruned_status(self, pruned_search, tmp_path):
        result, _, _ = pruned_search
        with open(result.to_csv(tmp_path / "t.csv")) as fh:
            rows = {r["trial_id"]: r for r in csv.DictReader(fh)}
        assert rows["2"]["status"] == "PRUNED" and rows["2"]["pruned_at_epoch"] == "2"
        assert rows["3"]["status"] == "COMPLETED" and rows["3"]["pruned_at_epoch"] == ""
        with open(result.to_json(tmp_path / "r.json")) as fh:
            saved = {t["trial_id"]: t for t in json.load(fh)["trials"]}
        assert saved["2"]["status"] == "PRUNED" and saved["2"]["pruned_at_epoch"] == 2
        assert saved["0"]["pruned_at_epoch"] is None

    def test_figures_draw_the_pruned_trial_dashed(self, pruned_search):
        result, _, _ = pruned_search
        fig = result.figures()["parallel_coordinates"]
        styles = [line.get_linestyle() for line in fig.axes[0].get_lines()]
        assert styles == ["-", "-", "--", "-"]

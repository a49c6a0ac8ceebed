"""Tests of tfgenopt/tuning/search.py: a small search on digits, resume, seeds, objectives."""

import csv
import gc
import importlib
import json
import os
import shutil
import weakref

import keras
import keras_tuner
import numpy as np
import pytest

from tfgenopt import tuning
from tfgenopt.tuning.search import default_callbacks

search_module = importlib.import_module("tfgenopt.tuning.search")
tuners_module = importlib.import_module("tfgenopt.tuning.tuners")

SMALL = {"epochs": 2, "batch_size": 64, "units": 32, "depth": 1, "latent_dim": 16,
         "normalization": "none", "kernel_initializer": "glorot_uniform",
         "optimizer": ["adam", "sgd"], "learning_rate": {"min": 1e-4, "max": 3e-2,
                                                          "sampling": "log"}}


@pytest.fixture(scope="module")
def data():
    import tfgenopt as tg

    xt, xv = tg.data.load_digits(image_size=8, flatten=True)
    return xt[:600], xv[:200]


class _TrackingHyperModel(tuning.AutoencoderHyperModel):
    """Records a weak reference to every model it builds, and which were still alive then."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.models, self.alive_at_build = [], []

    def build(self, hp):
        self.alive_at_build.append(sum(ref() is not None for ref in self.models))
        model = super().build(hp)
        self.models.append(weakref.ref(model))
        return model


@pytest.fixture(scope="module")
def small_search_run(data, tmp_path_factory):
    """One random search of 3 trials, shared read-only by the tests of its results and of its
    housekeeping. The hypermodel only records weak references to the models it builds; what
    it and the heap hold right after the search is kept in ``after`` (later reads such as
    ``best_model`` build again)."""
    folder = tmp_path_factory.mktemp("search")
    hm = _TrackingHyperModel(64, overrides=SMALL, seed=1)
    result = tuning.search(hm, data[0], data[1], max_trials=3, directory=folder, seed=3,
                           verbose=0)
    after = {"models": len(hm.models), "alive_at_build": list(hm.alive_at_build),
             "freeze_count": gc.get_freeze_count(),
             "freeze_survivors": result.tuner._freeze_survivors}
    return result, folder, after


@pytest.fixture(scope="module")
def small_search(small_search_run):
    return small_search_run[:2]


class TestRandomSearch:
    def test_every_trial_completes(self, small_search):
        result, _ = small_search
        assert len(result.trials) == 3
        assert set(result.statuses().values()) == {"COMPLETED"}

    def test_best_trial_beats_worst(self, small_search):
        result, _ = small_search
        scores = [row["score"] for row in result.trials]
        assert result.best_score == min(scores)
        assert result.best_score < max(scores)

    def test_csv_has_one_row_per_trial(self, small_search, tmp_path):
        result, _ = small_search
        path = result.to_csv(tmp_path / "trials.csv")
        with open(path) as fh:
            rows = list(csv.DictReader(fh))
        assert [r["trial_id"] for r in rows] == [t["trial_id"] for t in result.trials]
        assert {"optimizer", "learning_rate", "score", "status"} <= set(rows[0])

    def test_json_holds_best_and_all_trials(self, small_search, tmp_path):
        result, _ = small_search
        with open(result.to_json(tmp_path / "r.json")) as fh:
            saved = json.load(fh)
        assert len(saved["trials"]) == 3
        assert saved["best_score"] == pytest.approx(result.best_score)
        assert saved["best_hyperparameters"]["optimizer"] in ("adam", "sgd")

    def test_learning_curves_are_saved_per_trial(self, small_search):
        result, _ = small_search
        histories = result.histories()
        assert sorted(histories) == sorted(t["trial_id"] for t in result.trials)
        for tid, hist in histories.items():
            row = next(t for t in result.trials if t["trial_id"] == tid)
            assert len(hist["val_loss"]) == 2
            assert min(hist["val_loss"]) == pytest.approx(row["score"], rel=1e-6)

    def test_best_model_reproduces_the_best_score(self, small_search, data):
        result, _ = small_search
        model = result.best_model
        loss = model.evaluate(data[1], data[1], batch_size=64, verbose=0)
        assert loss == pytest.approx(result.best_score, rel=1e-4)
        assert int(model.optimizer.iterations.numpy()) > 0  # optimizer state restored too

    def test_save_writes_tables_and_figures(self, small_search, tmp_path):
        result, _ = small_search
        paths = result.save(tmp_path / "out")
        names = sorted(os.path.basename(p) for p in paths)
        assert names == ["hyperparameter_importance.png", "learning_curves.png",
                         "objective_vs_hyperparameters.png", "objective_vs_trial.png",
                         "parallel_coordinates.png", "results.json", "trials.csv"]
        assert all(os.path.getsize(p) > 0 for p in paths)

    def test_parallel_coordinates_of_a_real_search(self, small_search):
        result, _ = small_search
        fig = result.figures()["parallel_coordinates"]
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == ["learning_rate", "optimizer", "val_loss"] or \
            labels == ["learning_rate", "val_loss"]  # optimizer varies unless drawn alike
        lines = ax.get_lines()
        assert len(lines) == 3
        scores = np.array([row["score"] for row in result.trials])
        expected = (scores - scores.min()) / (scores.max() - scores.min())
        np.testing.assert_allclose([line.get_ydata()[-1] for line in lines], expected)
        lrs = np.log10([row["learning_rate"] for row in result.trials])  # a log axis
        np.testing.assert_allclose([line.get_ydata()[0] for line in lines],
                                   (lrs - lrs.min()) / (lrs.max() - lrs.min()))

    def test_importance_of_a_real_search(self, small_search):
        from tfgenopt.tuning.importance import hyperparameter_importance

        result, _ = small_search
        importance = result.importance()
        assert importance == hyperparameter_importance(result.trials)
        assert set(importance) <= {"learning_rate", "optimizer"} and importance
        assert all(0.0 <= v <= 1.0 for v in importance.values())
        fig = result.figures()["hyperparameter_importance"]
        widths = sorted(p.get_width() for p in fig.axes[0].patches)
        np.testing.assert_allclose(widths, sorted(importance.values()))


class _CountingHyperModel(tuning.AutoencoderHyperModel):
    """Counts fit calls; raises KeyboardInterrupt on call ``interrupt_at`` (an interruption)."""

    def __init__(self, *args, interrupt_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.interrupt_at = interrupt_at

    def fit(self, hp, model, *args, **kwargs):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return super().fit(hp, model, *args, **kwargs)


class TestResume:
    def test_interrupted_search_resumes_without_redoing_finished_trials(self, data, tmp_path):
        over = dict(SMALL, epochs=1)
        first = _CountingHyperModel(64, overrides=over, seed=1, interrupt_at=2)
        with pytest.raises(KeyboardInterrupt):
            tuning.search(first, data[0], data[1], max_trials=3, directory=tmp_path,
                          project_name="p", seed=0, verbose=0)
        with open(tmp_path / "p" / "trial_0" / "trial.json") as fh:
            trial0 = json.load(fh)
        assert trial0["status"] == "COMPLETED"

        again = _CountingHyperModel(64, overrides=over, seed=1)
        result = tuning.search(again, data[0], data[1], max_trials=3, directory=tmp_path,
                               project_name="p", seed=0, verbose=0)
        assert again.calls == 2  # the interrupted trial and the last one; trial 0 kept
        assert set(result.statuses().values()) == {"COMPLETED"}
        assert len(result.trials) == 3
        row0 = next(t for t in result.trials if t["trial_id"] == "0")
        assert row0["score"] == pytest.approx(trial0["score"])

    def test_overwrite_starts_afresh(self, data, small_search, tmp_path):
        over = dict(SMALL, epochs=1)
        # a finished search of 3 trials to start over from: a copy of the shared one's project
        _, folder = small_search
        (project,) = [p for p in folder.iterdir() if p.is_dir()]
        shutil.copytree(project, tmp_path / "p")
        hm = _CountingHyperModel(64, overrides=over)
        result = tuning.search(hm, data[0], data[1], max_trials=1, directory=tmp_path,
                               project_name="p", overwrite=True, verbose=0)
        assert hm.calls == 1 and len(result.trials) == 1


class TestSeeds:
    @pytest.mark.slow  # two searches (~4 s)
    def test_same_seed_repeats_the_search(self, data, tmp_path):
        runs = []
        for name in ("a", "b"):
            hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, epochs=1), seed=7)
            r = tuning.search(hm, data[0], data[1], max_trials=2, directory=tmp_path,
                              project_name=name, seed=11, verbose=0)
            runs.append(r.trials)
        a, b = runs
        for ra, rb in zip(a, b):
            assert ra["optimizer"] == rb["optimizer"]
            assert ra["learning_rate"] == rb["learning_rate"]
            assert ra["score"] == pytest.approx(rb["score"], rel=1e-5)


class TestTunersAndObjectives:
    def test_grid_search_visits_every_choice_once(self, data, tmp_path):
        over = dict(SMALL, epochs=1, learning_rate=1e-3)
        hm = tuning.AutoencoderHyperModel(64, overrides=over, seed=0)
        result = tuning.search(hm, data[0], data[1], tuner="grid", max_trials=5,
                               directory=tmp_path, verbose=0)
        assert sorted(t["optimizer"] for t in result.trials) == ["adam", "sgd"]
        assert set(result.statuses().values()) == {"COMPLETED"}

    def test_custom_objective_is_used(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, epochs=2), seed=0)
        result = tuning.search(hm, data[0], None, tuner="hyperband", max_epochs=2,
                               objective=keras_tuner.Objective("loss", "min"),
                               directory=tmp_path, verbose=0)
        hist = result.histories()[result.best_trial_id]
        assert result.objective == "loss"
        assert result.best_score == pytest.approx(min(hist["loss"]))
        assert set(result.statuses().values()) == {"COMPLETED"}

    def test_bayesian_without_scikit_learn_fails_before_any_trial(self, data, tmp_path,
                                                                  monkeypatch):
        import importlib.util

        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: None if name == "sklearn" else real(name, *a))
        with pytest.raises(ImportError, match="`tuner='bayesian'` needs sklearn"):
            tuning.search(tuning.AutoencoderHyperModel(64), data[0], data[1], tuner="bayesian",
                          directory=tmp_path)
        assert not os.listdir(tmp_path)

    @pytest.mark.slow  # ~3.5 s; random and grid search run in make test
    def test_bayesian_search_completes_every_trial(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, epochs=1), seed=0)
        result = tuning.search(hm, data[0], data[1], tuner="bayesian", max_trials=3,
                               directory=tmp_path, seed=0, verbose=0)
        assert len(result.trials) == 3
        assert set(result.statuses().values()) == {"COMPLETED"}
        assert np.isfinite(result.best_score)

    def test_failed_trial_warns_and_is_not_completed(self, data, tmp_path):
        class Broken(tuning.AutoencoderHyperModel):
            def fit(self, *args, **kwargs):
                raise ValueError("boom")

        with pytest.warns(RuntimeWarning, match="1 of 1 trials did not complete.*boom"):
            result = tuning.search(Broken(64, overrides=SMALL), data[0], data[1],
                                   max_trials=1, directory=tmp_path, verbose=0)
        assert result.statuses() == {"0": "FAILED"} or result.statuses() == {"0": "INVALID"}

    @pytest.mark.parametrize("name,direction", [("val_loss", "min"), ("val_kid", "min"),
                                                ("val_recall", "max"), ("g_loss", "min")])
    def test_objective_direction_is_inferred(self, name, direction):
        assert tuning.resolve_objective(name).direction == direction

    def test_unknown_objective_direction_asks_for_an_objective(self):
        with pytest.raises(ValueError, match="keras_tuner.Objective\\('val_score'"):
            tuning.resolve_objective("val_score")

    def test_validation_objective_needs_validation_data(self, data):
        with pytest.raises(ValueError, match="`objective='val_loss'`.*None"):
            tuning.search(tuning.AutoencoderHyperModel(64), data[0], None)

    def test_unknown_tuner_lists_known(self, data, tmp_path):
        with pytest.raises(ValueError, match=r"`tuner` must be one of \['bayesian', 'grid'"):
            tuning.search(tuning.AutoencoderHyperModel(64), data[0], data[1], tuner="evolution",
                          directory=tmp_path)
        assert not os.listdir(tmp_path)  # failed before creating anything

    def test_early_stopping_comes_after_user_callbacks(self):
        user = keras.callbacks.TerminateOnNaN()
        cbs = default_callbacks(None, keras_tuner.Objective("val_loss", "min"), np.zeros((2, 4)),
                                [user], early_stopping=True, patience=2)
        assert cbs[0] is user
        assert type(cbs[-1]).__name__ == "EarlyStopping" and cbs[-1].monitor == "val_loss"
        assert cbs[-1].patience == 2


class TestTrialHousekeeping:
    """search() trims Keras Tuner's per-trial garbage collections and session clears."""

    def test_each_trial_frees_the_previous_model_and_the_heap_is_unfrozen(self,
                                                                          small_search_run):
        result, _, after = small_search_run  # the 3-trial search, as it was when it returned
        assert set(result.statuses().values()) == {"COMPLETED"}
        # one build to read the space, then one per trial: none sees an earlier model alive
        # (the frozen heap must not keep them), and nothing stays frozen afterwards.
        assert after["models"] == 4
        assert after["alive_at_build"] == [0, 0, 0, 0]
        assert after["freeze_count"] == 0
        assert not after["freeze_survivors"]

    def test_a_callers_frozen_objects_stay_frozen(self, data, tmp_path):
        class Node:
            pass

        # Cyclic garbage that only the freeze keeps alive: if the search unfroze the heap,
        # the collection after it would free the nodes. No full collection and no listing of
        # the heap here (both cost seconds, growing with the worker's heap, late in a suite).
        enabled = gc.isenabled()
        gc.disable()  # no collection between making the garbage and freezing it
        try:
            refs = []
            for _ in range(50):
                node = Node()
                node.me = node
                refs.append(weakref.ref(node))
            del node
            gc.freeze()  # the caller's own freeze, before the search
        finally:
            if enabled:
                gc.enable()
        try:
            before = gc.get_freeze_count()
            hm = _TrackingHyperModel(64, overrides=dict(SMALL, epochs=1), seed=0)
            result = tuning.search(hm, data[0], data[1], max_trials=2, directory=tmp_path,
                                   seed=0, verbose=0)
            assert set(result.statuses().values()) == {"COMPLETED"}
            gc.collect()  # scans the unfrozen objects only, as long as the freeze holds
            assert sum(r() is not None for r in refs) == 50
            # nothing was unfrozen (a few frozen objects may have been freed by refcount).
            assert gc.get_freeze_count() > 0.99 * before
            assert hm.alive_at_build == [0, 0, 0]  # trials still free the previous model
        finally:
            gc.unfreeze()

    def test_interrupted_search_unfreezes_the_heap(self, data, tmp_path):
        hm = _CountingHyperModel(64, overrides=dict(SMALL, epochs=1), seed=0, interrupt_at=1)
        with pytest.raises(KeyboardInterrupt):
            tuning.search(hm, data[0], data[1], max_trials=2, directory=tmp_path, verbose=0)
        assert gc.get_freeze_count() == 0

    def test_clear_session_resets_keras_state_and_collects_but_keeps_kernels(self,
                                                                               monkeypatch):
        from tensorflow.python.eager import context

        keras.layers.Dense(2)
        cycle = keras.layers.Dense(3)
        cycle.me = [cycle]  # garbage only a collection frees
        ref = weakref.ref(cycle)
        del cycle
        ctx = context.context()
        flushed = []
        monkeypatch.setattr(type(ctx), "clear_kernel_cache", lambda self: flushed.append(1))
        tuners_module.clear_session()
        assert ref() is None
        assert keras.layers.Dense(2).name == "dense"  # the name counters start again
        assert not flushed
        assert "clear_kernel_cache" not in vars(ctx)  # the real method is back

    def test_tensorboard_callback_still_gets_a_folder_per_trial(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, epochs=1), seed=0)
        board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
        result = tuning.search(hm, data[0], data[1], max_trials=1, directory=tmp_path,
                               callbacks=[board], verbose=0)
        assert set(result.statuses().values()) == {"COMPLETED"}
        assert os.path.isdir(tmp_path / "logs" / "0" / "execution0")

    def test_oversized_model_fails_its_trial(self, data, tmp_path):
        hm = tuning.AutoencoderHyperModel(64, overrides=dict(SMALL, epochs=1), seed=0)
        with pytest.warns(RuntimeWarning, match="Oversized model"):
            result = tuning.search(hm, data[0], data[1], max_trials=1, directory=tmp_path,
                                   max_model_size=10, verbose=0)
        assert result.statuses() == {"0": "FAILED"}

    def test_non_model_build_is_a_fatal_type_error(self, data, tmp_path):
        class NotAModel(tuning.AutoencoderHyperModel):
            def build(self, hp):
                super().build(hp)
                return "not a model"

        kt = search_module.make_tuner(NotAModel(64, overrides=SMALL), max_trials=1,
                                      directory=tmp_path)
        with pytest.raises(keras_tuner.errors.FatalTypeError, match="valid Keras Model"):
            kt._try_build(kt.oracle.get_space())

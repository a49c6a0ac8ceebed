"""The result of a search: best hyperparameters, best model, a table of all trials, exports."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings

from tfgenopt._io import atomic_write_json, atomic_write_text
from tfgenopt.plotting import save_figure
from tfgenopt.plotting import tuning as plots
from tfgenopt.tuning._kt_adapter import checkpoint_path
from tfgenopt.tuning.importance import hyperparameter_importance
from tfgenopt.tuning.pruning import PRUNED

__all__ = ["SearchResult", "trial_table"]

HISTORY_FILE = "history.json"


def _number(value):
    """A JSON-safe float (NaN/inf become None)."""
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def load_trial_model(tuner, trial):
    """Build ``trial``'s model and load its best checkpoint, optimizer state included.

    Keras Tuner's own loader restores into an unbuilt optimizer and warns that it skipped the
    optimizer's variables; building a plain model's optimizer first restores them too.

    Args:
        tuner: the tuner that ran ``trial``.
        trial: a ``keras_tuner`` trial.

    Returns:
        The model with the weights of the trial's best epoch.
    """
    model = tuner.hypermodel.build(trial.hyperparameters)
    optimizer = getattr(model, "optimizer", None)
    if not callable(getattr(model, "optimizers_by_name", None)) and optimizer is not None:
        optimizer.build(model.trainable_variables)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(checkpoint_path(tuner, trial.trial_id))
    return model


def read_history(tuner, trial_id):
    """The ``history.json`` a tfgenopt tuner saved for ``trial_id`` (``None`` if absent)."""
    path = os.path.join(tuner.get_trial_dir(trial_id), HISTORY_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def trial_table(tuner):
    """One dict per trial of ``tuner``, in start order: id, status, score, hyperparameters.

    Each row holds ``trial_id``, ``status``, ``score`` (the objective's best value),
    ``best_step`` (its epoch), ``tuner_id`` (the process that ran it), ``pruned_at_epoch``
    (the epoch, from 1, where a pruner stopped it, else ``None``), every hyperparameter under
    its name, and every metric that Keras Tuner recorded (the best-epoch values) under
    ``metric/NAME``. ``status`` is Keras Tuner's (``COMPLETED``, ``FAILED``, ``INVALID``,
    ``RUNNING``...), except ``PRUNED`` for a trial a pruner stopped: Keras Tuner records it as
    completed, with the best value it reached before it stopped.

    Args:
        tuner: a ``keras_tuner`` tuner after (or during) a search.

    Returns:
        A list of dicts.

    Example:
        Not run as a doctest: it needs a tuner that has searched.

        >>> rows = trial_table(tuner)  # doctest: +SKIP
        >>> rows[0]["status"]  # doctest: +SKIP
        'COMPLETED'
    """
    oracle = tuner.oracle
    order = list(getattr(oracle, "start_order", [])) or sorted(oracle.trials)
    rows = []
    for trial_id in order:
        trial = oracle.trials[trial_id]
        row = {"trial_id": trial_id, "status": str(trial.status), "score": _number(trial.score),
               "best_step": trial.best_step}
        for name, value in trial.hyperparameters.values.items():
            if not name.startswith("tuner/"):
                row[name] = value
        record = read_history(tuner, trial_id) or {}
        row["tuner_id"] = record.get("tuner_id")
        row["pruned_at_epoch"] = record.get("pruned_at_epoch")
        if row["pruned_at_epoch"] is not None and row["status"] == "COMPLETED":
            row["status"] = PRUNED
        for name in sorted(trial.metrics.metrics):
            row[f"metric/{name}"] = _number(trial.metrics.get_best_value(name))
        rows.append(row)
    return rows


class SearchResult:
    """What :func:`tfgenopt.tuning.search` returns: the tuner's trials in a usable form.

    Attributes:
        tuner: the Keras Tuner tuner (its oracle holds every trial).
        objective: the objective's name; ``direction``: ``"min"`` or ``"max"``.
        trials: one dict per trial (see :func:`trial_table`).
        best_hyperparameters: the best trial's ``keras_tuner.HyperParameters``.
        best_values: the best trial's hyperparameter values as a dict.
        best_score: the best trial's objective value.

    Example:
        Not run as a doctest: a search takes minutes.

        >>> result = tg.tuning.search(hm, x_train, x_val, max_trials=3)  # doctest: +SKIP
        >>> result.to_csv("trials.csv")  # doctest: +SKIP
    """

    def __init__(self, tuner, objective, direction):
        self.tuner = tuner
        self.objective = objective
        self.direction = direction
        self.trials = trial_table(tuner)
        best = tuner.oracle.get_best_trials(1)
        self._best_trial = best[0] if best else None
        self._best_model = None

    @property
    def best_hyperparameters(self):
        return None if self._best_trial is None else self._best_trial.hyperparameters

    @property
    def best_values(self):
        if self._best_trial is None:
            return {}
        return {k: v for k, v in self._best_trial.hyperparameters.values.items()
                if not k.startswith("tuner/")}

    @property
    def best_score(self):
        return None if self._best_trial is None else _number(self._best_trial.score)

    @property
    def best_trial_id(self):
        return None if self._best_trial is None else self._best_trial.trial_id

    @property
    def best_model(self):
        """The best trial's model with its best epoch's weights (loaded once, on first use)."""
        if self._best_model is None and self._best_trial is not None:
            self._best_model = load_trial_model(self.tuner, self._best_trial)
        return self._best_model

    def statuses(self):
        """``{trial_id: status}`` (``COMPLETED``, ``PRUNED``, ``FAILED``, ``INVALID``...)."""
        return {row["trial_id"]: row["status"] for row in self.trials}

    def pruned(self):
        """``{trial_id: epoch}`` of every trial the pruner stopped (epochs from 1)."""
        return {row["trial_id"]: row["pruned_at_epoch"] for row in self.trials
                if row["status"] == PRUNED}

    def failed(self):
        """``{trial_id: message}`` of every trial that neither completed nor was pruned."""
        return {tid: (self.tuner.oracle.trials[tid].message or "")
                for tid, status in self.statuses().items()
                if status not in ("COMPLETED", PRUNED)}

    def histories(self):
        """``{trial_id: {metric: [per-epoch values]}}`` of every trial that saved its curves
        (the last execution when ``executions_per_trial > 1``)."""
        out = {}
        for row in self.trials:
            record = read_history(self.tuner, row["trial_id"])
            if record and record["executions"]:
                out[row["trial_id"]] = record["executions"][-1]
        return out

    def ranked(self):
        """Scored trials (completed, and pruned ones with the best value they reached),
        best first."""
        done = [r for r in self.trials
                if r["status"] in ("COMPLETED", PRUNED) and r["score"] is not None]
        return sorted(done, key=lambda r: r["score"], reverse=self.direction == "max")

    def importance(self):
        """``{hyperparameter: share of the objective's variance it explains}``, largest first
        (completed trials; see :func:`tfgenopt.tuning.importance.hyperparameter_importance`)."""
        return hyperparameter_importance(self.trials)

    def columns(self):
        """Every column of the trial table, in a stable order."""
        cols = []
        for row in self.trials:
            for key in row:
                if key not in cols:
                    cols.append(key)
        return cols

    def to_csv(self, path):
        """Write the trial table as CSV (one row per trial) and return ``path``."""
        _ensure_folder(path)
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=self.columns())
        writer.writeheader()
        for row in self.trials:
            writer.writerow(row)
        return atomic_write_text(path, buffer.getvalue())  # a rerun never reads half a table

    def to_dict(self):
        """A JSON-friendly summary: objective, best trial, all trials."""
        return {
            "objective": self.objective,
            "direction": self.direction,
            "best_trial_id": self.best_trial_id,
            "best_score": self.best_score,
            "best_hyperparameters": self.best_values,
            "trials": self.trials,
        }

    def to_json(self, path):
        """Write :meth:`to_dict` as JSON and return ``path``."""
        _ensure_folder(path)
        return atomic_write_json(path, self.to_dict(), indent=2, default=str)

    def figures(self, top=3):
        """``{name: Figure}``: objective vs trial, vs each hyperparameter, parallel
        coordinates, hyperparameter importance, learning curves of the top trials."""
        figs = {
            "objective_vs_trial": plots.plot_objective_vs_trial(
                self.trials, self.objective, self.direction),
            "objective_vs_hyperparameters": plots.plot_objective_vs_hyperparameters(
                self.trials, self.objective),
            "parallel_coordinates": plots.plot_parallel_coordinates(
                self.trials, self.objective, self.direction),
            "hyperparameter_importance": plots.plot_hyperparameter_importance(
                self.importance(), self.objective),
        }
        ids = [r["trial_id"] for r in self.ranked()[:top]]
        histories = self.histories()
        curves = {f"trial {t}": histories[t] for t in ids if t in histories}
        if curves:
            figs["learning_curves"] = plots.plot_learning_curves(curves, self.objective)
        return figs

    def save(self, folder, figures=True):
        """Write ``trials.csv``, ``results.json`` and (optionally) the figures into ``folder``.

        Returns:
            The list of written paths.
        """
        paths = [self.to_csv(os.path.join(folder, "trials.csv")),
                 self.to_json(os.path.join(folder, "results.json"))]
        if figures:
            for name, fig in self.figures().items():
                paths.append(save_figure(fig, os.path.join(folder, f"{name}.png")))
        return paths

    def __repr__(self):
        return (f"SearchResult(objective={self.objective!r}, trials={len(self.trials)}, "
                f"best_trial_id={self.best_trial_id!r}, best_score={self.best_score!r})")


def _ensure_folder(path):
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)

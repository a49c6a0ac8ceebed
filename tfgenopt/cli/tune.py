"""``tfgenopt tune CONFIG.toml``: run a tuner script, write its results and figures.

A distributed search runs the same command once per process:
``tfgenopt tune CONFIG.toml [--chief | --worker ID] --port PORT [--resume]``.
Exit codes: 0 success, 1 some trial did not complete, 2 bad config or arguments.
"""

from __future__ import annotations

import os
import sys

import keras_tuner

from tfgenopt._io import make_dir
from tfgenopt.tuning import config as cfg
from tfgenopt.tuning import distributed
from tfgenopt.tuning.results import SearchResult
from tfgenopt.tuning.search import make_tuner, resolve_objective, search

__all__ = ["add_arguments", "run", "run_config"]


def add_arguments(parser):
    """Add the ``tune`` arguments to an ``argparse`` parser.

    Example:
        >>> import argparse
        >>> p = argparse.ArgumentParser()
        >>> add_arguments(p)
        >>> p.parse_args(["c.toml", "--worker", "1"]).worker
        '1'
    """
    parser.add_argument("config", help="the TOML tuner script (see examples/*.toml)")
    role = parser.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true",
                      help="serve the oracle to workers (Keras Tuner chief); runs no trial")
    role.add_argument("--worker", metavar="ID", default=None,
                      help="run trials for a chief: a number (0 -> tuner0) or an id")
    parser.add_argument("--ip", default=None,
                        help="the chief's address (default: $KERASTUNER_ORACLE_IP or 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help="the chief's port (default: $KERASTUNER_ORACLE_PORT)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the search found in the output folder")
    parser.add_argument("--out", default=None, help="override [output] directory")
    parser.add_argument("--timeout", type=float, default=None,
                        help="chief: give up after this many seconds")
    parser.add_argument("--quiet", action="store_true", help="no progress display")


def _role_env(args):
    """Set the Keras Tuner environment for --chief/--worker; return the role or None."""
    if not args.chief and args.worker is None:
        return distributed.role_of()
    port = args.port if args.port is not None else os.environ.get("KERASTUNER_ORACLE_PORT")
    if port is None:
        raise ValueError("`--port` is required with --chief/--worker "
                         "(or set KERASTUNER_ORACLE_PORT).")
    ip = args.ip or os.environ.get("KERASTUNER_ORACLE_IP", "127.0.0.1")
    worker = args.worker
    if worker is not None and str(worker).isdigit():
        worker = int(worker)
    os.environ.update(distributed.distributed_env("chief" if args.chief else worker,
                                                  int(port), ip))
    return distributed.role_of()


def run_config(config, resume=False, verbose=1, role=None, timeout=None):
    """Run the search a :class:`~tfgenopt.tuning.config.TuningConfig` describes.

    Args:
        config: a checked config (``load_config``).
        resume: continue the search in the output folder instead of starting afresh.
        verbose: 0 silent, 1 Keras Tuner's trial display.
        role: ``None``, ``"chief"`` or ``"worker"`` (Keras Tuner's environment must be set).
        timeout: the chief's time limit in seconds.

    Returns:
        The :class:`~tfgenopt.tuning.results.SearchResult` (``None`` for a worker, whose
        trials the chief reports). Results and figures are written to
        ``[output] directory/project_name/results/``.

    Example:
        Not run as a doctest: it runs a whole search (minutes).

        >>> result = run_config(load_config("examples/tune_autoencoder.toml"))  # doctest: +SKIP
    """
    hm = cfg.build_hypermodel(config)
    s, out = config.search, config.output
    project = out["project_name"] or f"{config.model['kind']}_{s['tuner']}"
    objective = s["objective"]
    if objective is not None and s["direction"] is not None:
        objective = keras_tuner.Objective(objective, s["direction"])
    common = dict(tuner=s["tuner"], objective=objective, max_trials=s["max_trials"],
                  max_epochs=s["max_epochs"], directory=out["directory"],
                  project_name=project, seed=config.seed,
                  executions_per_trial=s["executions_per_trial"])
    results_dir = os.path.join(out["directory"], project, "results")
    if role == "chief":
        tuner = make_tuner(hm, overwrite=not resume, **common)
        distributed.serve_oracle(tuner, timeout=timeout)
        resolved = resolve_objective(objective, hm)
        result = SearchResult(tuner, resolved.name, resolved.direction)
        result.save(results_dir, figures=out["figures"])
        result.output_dir = results_dir
        return result
    train, val = cfg.load_data(config)
    y = yv = None
    if isinstance(train, tuple):
        (train, y), (val, yv) = train, val
    result = search(hm, train, (val, yv) if yv is not None else val, y=y,
                    overwrite=not resume and role != "worker", patience=s["patience"],
                    early_stopping=s["early_stopping"], pruner=s["pruner"], verbose=verbose,
                    **common)
    if role == "worker":
        return None
    result.save(results_dir, figures=out["figures"])
    result.output_dir = results_dir
    return result


def run(args):
    """Run ``tfgenopt tune`` with parsed ``args``; return the exit code.

    Example:
        Not run as a doctest: the search it starts takes minutes.

        >>> import argparse
        >>> p = argparse.ArgumentParser(); add_arguments(p)
        >>> run(p.parse_args(["examples/tune_autoencoder.toml"]))  # doctest: +SKIP
        0
    """
    try:
        config = cfg.load_config(args.config)
        if args.out:
            config.output["directory"] = args.out
        role = _role_env(args)
        # a file in the way or an unwritable folder: fail before the data loads
        make_dir(config.output["directory"], "--out" if args.out else "[output] directory")
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"tfgenopt tune: error: {exc}", file=sys.stderr)
        return 2
    verbose = 0 if args.quiet else 1
    result = run_config(config, resume=args.resume, verbose=verbose, role=role,
                        timeout=args.timeout)
    if result is None:
        return 0
    if verbose:
        print(f"best {result.objective} = {result.best_score} (trial {result.best_trial_id})")
        print(f"best hyperparameters: {result.best_values}")
        print(f"results: {result.output_dir}")
    return 1 if result.failed() else 0

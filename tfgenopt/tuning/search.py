"""``search()``: wire a HyperModel, a Keras Tuner tuner, early stopping and quality metrics.

The tuner owns the search loop, the HyperModel owns one trial, the callbacks measure;
``search`` only connects them and returns a :class:`~tfgenopt.tuning.results.SearchResult`.
"""

from __future__ import annotations

import contextlib
import gc
import os
import warnings

import keras
import keras_tuner
import numpy as np

from tfgenopt import catalog
from tfgenopt._validation import check_array, check_choice, check_int
from tfgenopt.tuning import _kt_adapter
from tfgenopt.tuning._search_args import fix_fit_values, split_kwargs
from tfgenopt.tuning.distributed import role_of
from tfgenopt.tuning.pruning import get_pruner
from tfgenopt.tuning.results import SearchResult
from tfgenopt.tuning.tuners import TUNER_CLASSES

__all__ = ["search", "make_tuner", "resolve_objective", "TUNERS"]

TUNERS = ("random", "bayesian", "hyperband", "grid")


def _require_bayesian():
    """Keras Tuner's Bayesian optimization needs scikit-learn and scipy (``keras-tuner[bayesian]``)."""
    import importlib.util

    missing = [m for m in ("sklearn", "scipy") if importlib.util.find_spec(m) is None]
    if missing:
        raise ImportError(
            f"`tuner='bayesian'` needs {' and '.join(missing)} (pip install 'keras-tuner[bayesian]' "
            "or scikit-learn); use 'random', 'hyperband' or 'grid' otherwise."
        )


def resolve_objective(objective, hypermodel=None):
    """Return a ``keras_tuner.Objective`` for a name, an ``Objective`` or ``None``.

    ``None`` takes the HyperModel's default (``val_loss`` for autoencoders and VAEs,
    ``val_kid`` for GANs). A name's direction comes from :func:`tfgenopt.catalog.direction`
    (the catalog's keys, such as ``val_kid`` (min) or ``val_density`` (max), and names
    read by their tokens: ``*loss``, ``*fid``, ``*kl``...: min; ``*precision``,
    ``*recall``, ``*accuracy``...: max); other names must come as
    ``keras_tuner.Objective(name, direction)``.

    Example:
        >>> resolve_objective("val_kid").direction, resolve_objective("val_density").direction
        ('min', 'max')
    """
    if objective is None:
        name, declared = getattr(hypermodel, "default_objective", ("val_loss", "min"))
        known = catalog.metric(name) is not None and catalog.metric(name).direction
        return keras_tuner.Objective(name, catalog.direction(name) if known else declared)
    if isinstance(objective, keras_tuner.Objective):
        return objective
    if not isinstance(objective, str):
        raise TypeError(
            "`objective` must be a metric name or a keras_tuner.Objective; "
            f"received {objective!r}."
        )
    try:
        return keras_tuner.Objective(objective, catalog.direction(objective))
    except ValueError as err:
        raise ValueError(
            f"Cannot infer whether `objective={objective!r}` should be minimized or "
            f"maximized; pass keras_tuner.Objective({objective!r}, direction='min' or "
            f"'max'). ({err})"
        ) from None


def make_tuner(hypermodel, tuner="random", objective=None, max_trials=10, max_epochs=None,
               directory="tuning", project_name=None, overwrite=False, seed=None,
               executions_per_trial=1, **tuner_kwargs):
    """Construct the Keras Tuner tuner ``search`` uses (also for chief/worker processes).

    Args:
        hypermodel: a tfgenopt (or any keras_tuner) HyperModel.
        tuner: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``.
        objective: a metric name or ``keras_tuner.Objective``; ``None``: the HyperModel's.
        max_trials: trial budget (random, bayesian, grid).
        max_epochs: Hyperband's epoch budget (default: the HyperModel's largest ``epochs``).
        directory, project_name: where trials are saved (``project_name`` defaults to the
            HyperModel's name).
        overwrite: start afresh; ``False`` resumes a search found in the folder.
        seed: the oracle's seed (reproducible hyperparameter draws).
        executions_per_trial: repeats averaged per trial.
        **tuner_kwargs: passed to the Keras Tuner class.

    Returns:
        A Keras Tuner tuner.

    Example:
        Not run as a doctest: it writes a tuner directory in the working folder.

        >>> t = make_tuner(AutoencoderHyperModel(64), "random", max_trials=2)  # doctest: +SKIP
    """
    check_choice("tuner", tuner, TUNERS)
    max_trials = check_int("max_trials", max_trials, minimum=1)
    executions_per_trial = check_int("executions_per_trial", executions_per_trial, minimum=1)
    if seed is not None:
        check_int("seed", seed, minimum=0)
    objective = resolve_objective(objective, hypermodel)
    common = dict(hypermodel=hypermodel, objective=objective, directory=os.fspath(directory),
                  project_name=project_name or getattr(hypermodel, "name", None) or "search",
                  overwrite=bool(overwrite), seed=seed,
                  executions_per_trial=executions_per_trial, **tuner_kwargs)
    if tuner == "bayesian":
        _require_bayesian()
    cls = TUNER_CLASSES[tuner]
    if tuner == "hyperband":
        if max_epochs is None:
            space = getattr(hypermodel, "space", None)
            max_epochs = int(space.upper("epochs")) if space is not None else 10
        max_epochs = check_int("max_epochs", max_epochs, minimum=1)
        return cls(max_epochs=max_epochs, **common)
    return cls(max_trials=max_trials, **common)


def default_callbacks(hypermodel, objective, validation_data, callbacks, early_stopping,
                      patience):
    """The user's callbacks plus, for GAN objectives, a ``QualityMonitor`` and then early
    stopping on the objective (quality first, so early stopping sees its logs)."""
    callbacks = list(callbacks or [])
    name = objective.name
    quality = catalog.quality_metric_of(name)  # the metric whose keys hold the objective
    wants_quality = quality is not None and not any(
        type(cb).__name__ == "QualityMonitor" for cb in callbacks)
    if wants_quality:
        if validation_data is None:
            raise ValueError(f"`objective={name!r}` needs `validation_data` (real images).")
        QualityMonitor = _callback_class("quality", "QualityMonitor")
        if QualityMonitor is None:
            raise ImportError(
                f"`objective={name!r}` needs tfgenopt.callbacks.QualityMonitor, which is not "
                "available; pass another objective (e.g. 'val_d_loss')."
            )
        x_val = validation_data[0] if isinstance(validation_data, tuple) else validation_data
        callbacks.insert(0, QualityMonitor(np.asarray(x_val), metrics=(quality.name,)))
    if early_stopping:
        callbacks.append(_early_stopping(name, objective.direction, patience))
    return callbacks


@contextlib.contextmanager
def _frozen_heap():
    """Move the objects alive now (TensorFlow's modules, the data...) out of the collector's
    sight for the search, then give them back; yields whether it froze anything.

    Keras Tuner runs full garbage collections before every trial (two; one in tfgenopt's
    tuners); over the whole heap of a process with TensorFlow loaded each costs 0.2-0.5 s
    (more as the process ages) and dominated the per-trial overhead.
    After ``gc.freeze()`` they only scan what the trials create, which is what they are
    there to free (the previous trial's model). With a tfgenopt ``tuner``, what survives
    each trial's collection is frozen too (see ``_RecordsHistory.try_build``), so the scan
    stays one trial long instead of growing with every trial already run. ``search``
    enters it before creating the tuner, so the model Keras Tuner builds to read the search
    space is freed by the first trial's collection too.

    The heap is frozen as it is, without a full collection first (that alone cost 0.2-0.5 s
    per search, a third of a trial in the benchmark): what was already garbage before the
    search (say, a model deleted just before it) is freed by Python's collector after the
    search, not before it. ``gc.collect()`` before ``search`` frees it first.

    Scoped to the search: ``gc.unfreeze()`` can only unfreeze everything, so when the caller
    already froze objects (``gc.get_freeze_count() > 0``) the collector is left as it is
    (their objects stay frozen; the scans are short anyway, the heap being mostly frozen).
    """
    if gc.get_freeze_count():
        yield False
        return
    gc.freeze()
    try:
        yield True
    finally:
        gc.unfreeze()


def _callback_class(module, name):
    """``tfgenopt.callbacks.<name>`` (or from its module), ``None`` when not available."""
    import importlib

    for path in ("tfgenopt.callbacks", f"tfgenopt.callbacks.{module}"):
        try:
            cls = getattr(importlib.import_module(path), name, None)
        except ImportError:
            cls = None
        if cls is not None:
            return cls
    return None


def _early_stopping(monitor, direction, patience):
    EarlyStopping = _callback_class("early_stopping", "EarlyStopping")
    if EarlyStopping is None:
        EarlyStopping = keras.callbacks.EarlyStopping
    return EarlyStopping(monitor=monitor, mode=direction, patience=patience,
                         restore_best_weights=False)


def search(hypermodel, x, validation_data=None, *, y=None, tuner="random", objective=None,
           max_trials=10, max_epochs=None, directory="tuning", project_name=None,
           overwrite=False, callbacks=None, early_stopping=True, patience=3, seed=None,
           executions_per_trial=1, pruner=None, verbose=1, **kwargs):
    """Run a Keras Tuner search of ``hypermodel`` on ``x`` and return its result.

    Like ``keras_tuner.Tuner.search``, ``fit`` arguments (``epochs``, ``batch_size``,
    ``shuffle``, ``steps_per_epoch``...) go to every trial unchanged; the tuner's settings
    (``max_trials``... and any other Keras Tuner constructor argument) go to the tuner.
    Adds early stopping on the objective and, when the objective is a quality metric
    (``val_kid``, the GAN default), a ``tfgenopt.callbacks.QualityMonitor`` before it.
    With ``overwrite=False`` a search already in ``directory/project_name`` is resumed:
    finished trials are kept, an interrupted trial runs again, and the budget continues.

    Args:
        hypermodel: an ``AutoencoderHyperModel``, ``VAEHyperModel``, ``GANHyperModel`` or any
            ``keras_tuner.HyperModel``.
        x: training data (arrays; the HyperModel batches them with the tuned batch size).
        validation_data: validation arrays (or ``(x, y)``); needed by ``val_*`` objectives.
        y: labels for conditional models / targets, if any.
        tuner: ``"random"``, ``"bayesian"``, ``"hyperband"`` or ``"grid"``.
        objective: a metric name or ``keras_tuner.Objective``; ``None``: the HyperModel's.
        max_trials: trial budget (ignored by Hyperband, which uses ``max_epochs``).
        max_epochs: Hyperband's budget.
        directory, project_name: where the tuner saves its trials.
        overwrite: start afresh instead of resuming.
        callbacks: extra Keras callbacks (deep-copied for every trial by Keras Tuner).
        early_stopping: add early stopping on the objective.
        patience: its patience in epochs.
        seed: oracle seed; with a seeded HyperModel the whole search repeats on CPU.
        executions_per_trial: repeats averaged per trial.
        pruner: ``None``, ``"median"`` or a pruner such as
            ``tg.tuning.MedianPruner(warmup_epochs=1, min_trials=2)``: stops a trial whose
            objective is worse than the median of earlier trials at the same epoch (its
            status in the trial table is then ``PRUNED``).
        verbose: 0 silent, 1 Keras Tuner's trial display, 2 also per-epoch progress bars.
        **kwargs: ``fit`` arguments for every trial (``epochs=2``, ``batch_size=64``...; one
            that the HyperModel tunes is a ``ValueError``, one it fixes takes the value
            given) and Keras Tuner tuner arguments (``max_consecutive_failed_trials``...).
            Any other name is a ``TypeError``. Both are raised before any trial runs.

    Returns:
        A :class:`~tfgenopt.tuning.results.SearchResult`; ``None`` in a distributed worker
        process (``KERASTUNER_TUNER_ID=tuner0``...), whose trials the chief reports.

    Example:
        Not run as a doctest: a search takes minutes (tests/tuning runs real ones).

        >>> import tfgenopt as tg
        >>> hm = tg.tuning.AutoencoderHyperModel(784, overrides={"batch_size": 64})
        >>> result = tg.tuning.search(hm, x_train, x_val, max_trials=3, epochs=2,
        ...                           pruner="median")  # doctest: +SKIP
        >>> result.best_values["optimizer"]  # doctest: +SKIP
        'adam'
    """
    if not isinstance(hypermodel, keras_tuner.HyperModel):
        raise TypeError(
            f"`hypermodel` must be a keras_tuner.HyperModel; received {type(hypermodel).__name__}."
        )
    if isinstance(x, (np.ndarray, list)):
        check_array("x", x)
    check_choice("verbose", verbose, (0, 1, 2))
    check_choice("tuner", tuner, TUNERS)
    resolved = resolve_objective(objective, hypermodel)
    if resolved.name.startswith("val_") and validation_data is None:
        raise ValueError(
            f"`objective={resolved.name!r}` is measured on `validation_data`, which is None."
        )
    patience = check_int("patience", patience, minimum=0)
    pruner = get_pruner(pruner)
    tuner_kwargs, fit_extra = split_kwargs(hypermodel, TUNER_CLASSES[tuner], kwargs)
    hypermodel, fit_extra = fix_fit_values(hypermodel, fit_extra, tuner)
    _kt_adapter.verify()
    all_callbacks = default_callbacks(hypermodel, resolved, validation_data, callbacks,
                                      early_stopping, patience)
    # No `verbose` here: Keras Tuner would copy it onto the oracle's trial display.
    fit_kwargs = dict(fit_extra, validation_data=validation_data, callbacks=all_callbacks)
    if y is not None:
        fit_kwargs["y"] = y
    with _frozen_heap() as frozen:
        kt = make_tuner(hypermodel, tuner, resolved, max_trials=max_trials,
                        max_epochs=max_epochs, directory=directory, project_name=project_name,
                        overwrite=overwrite, seed=seed,
                        executions_per_trial=executions_per_trial, **tuner_kwargs)
        kt.oracle.verbose = verbose
        kt.fit_verbose = 1 if verbose == 2 else 0
        kt.pruner = pruner
        kt._freeze_survivors = frozen  # only while the heap is frozen (see _frozen_heap)
        try:
            kt.search(x, **fit_kwargs)
        finally:
            kt._freeze_survivors = False
    if role_of() == "worker":
        return None  # the chief holds the trials and reports them.
    result = SearchResult(kt, resolved.name, resolved.direction)
    failed = result.failed()
    if failed:
        first = next(iter(failed.items()))
        warnings.warn(
            f"{len(failed)} of {len(result.trials)} trials did not complete; trial {first[0]}: "
            f"{first[1].strip().splitlines()[-1] if first[1].strip() else 'no message'}",
            RuntimeWarning, stacklevel=2,
        )
    return result

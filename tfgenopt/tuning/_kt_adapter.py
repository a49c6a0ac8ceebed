"""Every use of Keras Tuner's private API in tfgenopt, in one place, checked against the pin.

tfgenopt's tuners override two private ``Tuner`` methods and call three more, and wrap
Keras Tuner's private ``SaveBestEpoch`` checkpoint callback. Nothing else in
``tfgenopt.tuning`` names a private Keras Tuner attribute: it goes through this module.
:data:`EXPECTED` records the signature each one has in the pinned Keras Tuner (1.4.8);
:func:`verify` compares them with the installed one and raises ``RuntimeError`` listing every
difference. ``search()`` calls it (once per process) before creating a tuner, and the test
suite calls it, so a Keras Tuner release that renames or reshapes one of them fails loudly
instead of silently skipping tfgenopt's overrides.
"""

from __future__ import annotations

import functools
import inspect

import keras_tuner
from keras_tuner.src.engine import tuner as _tuner_module
from keras_tuner.src.engine import tuner_utils as _tuner_utils

__all__ = ["EXPECTED", "EXPECTED_DISTRIBUTED", "verify", "verify_distributed",
           "SaveBestEpoch", "TunerHooks", "build_hypermodel", "checkpoint_path",
           "write_checkpoint", "oracle_server_parts"]

#: Keras Tuner's best-epoch checkpoint callback, which ``Tuner.run_trial`` adds to every
#: execution's callbacks (private module ``keras_tuner.src.engine.tuner_utils``).
SaveBestEpoch = _tuner_utils.SaveBestEpoch

#: ``(owner, attribute): signature`` of every private Keras Tuner attribute tfgenopt uses.
EXPECTED = {
    ("Tuner", "_try_build"): "(self, hp)",  # overridden: one gc pass, no kernel flush
    ("Tuner", "_build_hypermodel"): "(self, hp)",  # called by our _try_build
    ("Tuner", "_configure_tensorboard_dir"): "(self, callbacks, trial, execution=0)",
    ("Tuner", "_get_checkpoint_fname"): "(self, trial_id)",  # results: load a trial's weights
    ("Tuner", "run_trial"): "(self, trial, *args, **kwargs)",  # adds SaveBestEpoch (below)
    ("SaveBestEpoch", "__init__"): "(self, objective, filepath)",
    ("SaveBestEpoch", "_save_model"): "(self)",  # written once per trial (_checkpoint.py)
}
_OWNERS = {"Tuner": keras_tuner.Tuner, "SaveBestEpoch": SaveBestEpoch}

#: The private parts of Keras Tuner's distributed chief that ``distributed.serve_oracle``
#: uses (imported only there: they load gRPC): ``keras_tuner.src.distribute.oracle_chief``.
EXPECTED_DISTRIBUTED = {
    ("OracleServicer", "__init__"): "(self, oracle)",  # sets .stop_triggered = False
    ("oracle_chief", "exit_chief"): "(*args, **kwargs)",  # exit_chief(oracle), @synchronized
}


def _compare(expected, owners):
    problems = []
    for (owner, name), signature in expected.items():
        attr = getattr(owners[owner], name, None)
        if not callable(attr):
            problems.append(f"{owner}.{name} is missing")
            continue
        found = str(inspect.signature(attr))
        if found != signature:
            problems.append(f"{owner}.{name}{found} (expected {owner}.{name}{signature})")
    return problems


def _raise_for(problems):
    if problems:
        raise RuntimeError(
            f"tfgenopt.tuning was written against Keras Tuner 1.4.8 and relies on private "
            f"methods that keras-tuner {keras_tuner.__version__} changed: {'; '.join(problems)}. "
            "Install keras-tuner==1.4.8 or update tfgenopt/tuning/_kt_adapter.py."
        )


def mismatches():
    """The differences between :data:`EXPECTED` and the installed Keras Tuner (a list of str)."""
    problems = _compare(EXPECTED, _OWNERS)
    if keras_tuner.Tuner is not _tuner_module.Tuner:
        problems.append("keras_tuner.Tuner is no longer keras_tuner.src.engine.tuner.Tuner")
    saver = SaveBestEpoch(keras_tuner.Objective("loss", "min"), "unused.weights.h5")
    for name in ("objective", "best_value", "filepath"):  # read and written by _checkpoint.py
        if not hasattr(saver, name):
            problems.append(f"SaveBestEpoch instances have no `{name}`")
    return problems


@functools.cache
def verify():
    """Raise ``RuntimeError`` when the installed Keras Tuner changed a private API we use.

    Returns:
        The installed Keras Tuner version, when everything matches.

    Example:
        >>> verify() == keras_tuner.__version__
        True
    """
    _raise_for(mismatches())
    return keras_tuner.__version__


def distributed_mismatches():
    """The differences between :data:`EXPECTED_DISTRIBUTED` and the installed Keras Tuner."""
    try:
        from keras_tuner.src.distribute import oracle_chief
    except ImportError as err:
        return [f"keras_tuner.src.distribute.oracle_chief does not import ({err})"]
    problems = _compare(EXPECTED_DISTRIBUTED, {"OracleServicer": oracle_chief.OracleServicer,
                                               "oracle_chief": oracle_chief})
    if not callable(getattr(getattr(oracle_chief, "protos", None), "get_service_grpc", None)):
        problems.append("oracle_chief.protos.get_service_grpc is missing")
    return problems


@functools.cache
def verify_distributed():
    """:func:`verify` for the distributed chief's parts (:data:`EXPECTED_DISTRIBUTED`)."""
    _raise_for(distributed_mismatches())
    return keras_tuner.__version__


def oracle_server_parts():
    """``(add_servicer_to_server, OracleServicer, exit_chief)`` of Keras Tuner's chief.

    ``OracleServicer(oracle)`` answers the workers' gRPC calls (its ``stop_triggered`` turns
    true when the oracle has no trial left); ``exit_chief(oracle)`` says whether every trial
    has ended.
    """
    verify_distributed()
    from keras_tuner.src.distribute import oracle_chief

    add = oracle_chief.protos.get_service_grpc().add_OracleServicer_to_server
    return add, oracle_chief.OracleServicer, oracle_chief.exit_chief


class TunerHooks:
    """Tuner mixin: Keras Tuner's private hooks, forwarded to public-named methods.

    A subclass overrides :meth:`try_build` and :meth:`configure_tensorboard` instead of the
    private ``_try_build`` and ``_configure_tensorboard_dir``; their defaults are Keras
    Tuner's own behaviour.
    """

    def _try_build(self, hp):
        return self.try_build(hp)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        return self.configure_tensorboard(callbacks, trial, execution)

    def reload(self):
        """Keras Tuner's ``reload``; a resumed search does not train the defaults trial again."""
        super().reload()
        if getattr(self.oracle, "trials", None) and hasattr(self.hypermodel, "_first_trial"):
            self.hypermodel._first_trial = False

    def try_build(self, hp):
        """Build (and size-check) the model of ``hp``; Keras Tuner's ``_try_build``."""
        return super()._try_build(hp)

    def configure_tensorboard(self, callbacks, trial, execution=0):
        """Point TensorBoard callbacks at the trial's folder; Keras Tuner's own hook."""
        return super()._configure_tensorboard_dir(callbacks, trial, execution)


def build_hypermodel(tuner, hp):
    """``tuner._build_hypermodel(hp)``: build (and, for Hyperband, warm-start) a model."""
    return tuner._build_hypermodel(hp)


def checkpoint_path(tuner, trial_id):
    """The file holding ``trial_id``'s best-epoch weights (``Tuner._get_checkpoint_fname``)."""
    return tuner._get_checkpoint_fname(trial_id)


def write_checkpoint(saver):
    """Write the model's current weights through a ``SaveBestEpoch`` (its ``_save_model``)."""
    saver._save_model()

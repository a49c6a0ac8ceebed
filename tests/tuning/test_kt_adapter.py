"""Tests of tfgenopt/tuning/_kt_adapter.py: Keras Tuner's private API, checked against the pin."""

import pathlib
import re

import keras_tuner
import pytest

from tfgenopt.tuning import _kt_adapter

TUNING = pathlib.Path(_kt_adapter.__file__).parent
PRIVATE = sorted({name for _, name in _kt_adapter.EXPECTED if name.startswith("_")}
                 - {"__init__"})


def test_pinned_keras_tuner_matches_every_recorded_signature():
    assert _kt_adapter.mismatches() == []
    assert _kt_adapter.verify() == keras_tuner.__version__ == "1.4.8"


@pytest.mark.parametrize("owner,name", sorted(_kt_adapter.EXPECTED))
def test_each_private_attribute_exists_with_its_signature(owner, name):
    import inspect

    attr = getattr(_kt_adapter._OWNERS[owner], name)
    assert str(inspect.signature(attr)) == _kt_adapter.EXPECTED[(owner, name)]


def test_distributed_chief_parts_match_the_pin():
    assert _kt_adapter.distributed_mismatches() == []
    add, servicer, exit_chief = _kt_adapter.oracle_server_parts()
    assert callable(add) and servicer.__name__ == "OracleServicer" and callable(exit_chief)


def test_a_changed_signature_fails_loudly(monkeypatch):
    monkeypatch.setattr(keras_tuner.Tuner, "_get_checkpoint_fname",
                        lambda self, trial_id, execution=0: "x", raising=True)
    monkeypatch.delattr(_kt_adapter.SaveBestEpoch, "_save_model")
    problems = _kt_adapter.mismatches()
    assert problems == [
        "Tuner._get_checkpoint_fname(self, trial_id, execution=0) "
        "(expected Tuner._get_checkpoint_fname(self, trial_id))",
        "SaveBestEpoch._save_model is missing",
    ]
    _kt_adapter.verify.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"keras-tuner 1\.4\.8 changed: "
                                               r"Tuner\._get_checkpoint_fname"):
            _kt_adapter.verify()
    finally:
        _kt_adapter.verify.cache_clear()


def test_no_other_tuning_module_names_a_private_keras_tuner_attribute():
    pattern = re.compile(r"keras_tuner\.src|\.(" + "|".join(PRIVATE) + r")\b")
    offenders = {}
    for path in sorted(TUNING.glob("*.py")):
        if path.name == "_kt_adapter.py":
            continue
        hits = pattern.findall(path.read_text())
        if hits:
            offenders[path.name] = hits
    assert offenders == {}
    assert PRIVATE == ["_build_hypermodel", "_configure_tensorboard_dir",
                       "_get_checkpoint_fname", "_save_model", "_try_build"]


def test_tfgenopt_tuners_route_keras_tuners_hooks_through_the_adapter():
    from tfgenopt.tuning import tuners

    for cls in tuners.TUNER_CLASSES.values():
        assert cls._try_build is _kt_adapter.TunerHooks._try_build
        assert cls._configure_tensorboard_dir is _kt_adapter.TunerHooks._configure_tensorboard_dir
        assert cls.try_build is tuners._RecordsHistory.try_build

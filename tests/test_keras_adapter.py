"""tfgenopt/_keras_adapter.py: Keras' and TensorFlow's private API, checked; no use elsewhere."""

import pathlib
import re

import keras
import pytest

from tfgenopt import _keras_adapter

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tfgenopt"
ADAPTERS = {"_keras_adapter.py", "_kt_adapter.py"}
NAMES = sorted(name for name in {n for _, n in _keras_adapter.EXPECTED}
               | {n for _, n in _keras_adapter.EXPECTED_ATTRIBUTES} if name.startswith("_"))


def test_verify_passes_on_the_installed_versions():
    assert _keras_adapter.verify()[0] == keras.__version__
    assert _keras_adapter.mismatches() == []


@pytest.mark.parametrize("key", sorted(_keras_adapter.EXPECTED))
def test_each_private_method_has_its_expected_signature(key):
    import inspect

    owner, name = key
    found = getattr(_keras_adapter._owners()[owner], name)
    assert str(inspect.signature(found)) == _keras_adapter.EXPECTED[key][0]


def test_a_changed_signature_is_reported_with_its_feature(monkeypatch):
    monkeypatch.setitem(_keras_adapter.EXPECTED, ("Model", "_symbolic_build"),
                        ("(self, data_batch)", "building a distributed model"))
    problems = _keras_adapter.mismatches()
    assert len(problems) == 1 and "Model._symbolic_build" in problems[0]
    assert "building a distributed model" in problems[0]
    _keras_adapter.verify.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=rf"Keras {re.escape(keras.__version__)}"):
            _keras_adapter.verify()
    finally:
        _keras_adapter.verify.cache_clear()


def test_a_missing_attribute_is_reported(monkeypatch):
    monkeypatch.setitem(_keras_adapter.EXPECTED_ATTRIBUTES, ("Model", "_no_such_thing"),
                        "a feature")
    assert _keras_adapter.mismatches() == ["Model._no_such_thing is missing (a feature)"]


def test_no_other_module_names_a_private_keras_or_tensorflow_name():
    pattern = re.compile(r"(\.|[\"'])(" + "|".join(map(re.escape, NAMES)) + r")\b"
                         r"|tensorflow\.python|keras\.src")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name in ADAPTERS:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []

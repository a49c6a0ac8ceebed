"""tests/_schedule.py: the costliest files first, the order inside a file kept."""

import json
import types

from tests import _schedule


def items(*nodeids):
    return [types.SimpleNamespace(nodeid=n) for n in nodeids]


def test_files_are_ordered_by_cost_and_tests_keep_their_order(monkeypatch, tmp_path):
    table = tmp_path / "durations.json"
    table.write_text(json.dumps({"tests/b.py": 50.0, "tests/c.py": 0.5}))
    monkeypatch.setattr(_schedule, "TABLE", table)
    got = items("tests/a.py::t1", "tests/a.py::t2", "tests/c.py::t", "tests/b.py::t2",
                "tests/b.py::t1", "tfgenopt/x.py::tfgenopt.x.f")
    _schedule.pytest_collection_modifyitems(None, None, got)
    # b: 50 s (measured); a: 2 tests x 1 s (unknown); x: 1 s, before c (0.5 s)
    assert [i.nodeid for i in got] == ["tests/b.py::t2", "tests/b.py::t1", "tests/a.py::t1",
                                       "tests/a.py::t2", "tfgenopt/x.py::tfgenopt.x.f",
                                       "tests/c.py::t"]


def test_a_missing_or_broken_table_falls_back_to_test_counts(monkeypatch, tmp_path):
    table = tmp_path / "durations.json"
    table.write_text("{not json")
    monkeypatch.setattr(_schedule, "TABLE", table)
    got = items("tests/a.py::t", "tests/b.py::t1", "tests/b.py::t2")
    _schedule.pytest_collection_modifyitems(None, None, got)
    assert [i.nodeid for i in got] == ["tests/b.py::t1", "tests/b.py::t2", "tests/a.py::t"]


def test_the_table_names_existing_files_only():
    root = _schedule.TABLE.parents[1]
    assert [name for name in _schedule._costs() if not (root / name).exists()] == []

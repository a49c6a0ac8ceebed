"""Hand the costliest test files out first, so that the xdist workers finish together.

``make test`` runs ``pytest -n 2 --dist loadfile --no-loadscope-reorder``: xdist gives a worker
one whole file at a time (module fixtures are built once), in collection order, whenever it runs
dry. This plugin (loaded by the root ``conftest.py``) sorts the files by their measured cost in
``tests/durations.json``, longest first: greedy longest-processing-time scheduling, which leaves
only short files for the end. Files missing from the table (new ones) count
``SECONDS_PER_UNKNOWN_TEST`` per test. The order of the tests inside a file is unchanged.

Refresh the table after large changes (it only steers the order; a stale one costs balance,
never correctness)::

    pytest -n 2 --dist loadfile -m "not slow" --doctest-modules tests tfgenopt --junitxml=j.xml
    python tests/_schedule.py j.xml        # rewrites tests/durations.json
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

TABLE = pathlib.Path(__file__).with_name("durations.json")
SECONDS_PER_UNKNOWN_TEST = 1.0


def _file_of(nodeid):
    return nodeid.split("::", 1)[0]


def _costs():
    try:
        return json.loads(TABLE.read_text())
    except (OSError, ValueError):
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    costs = _costs()
    counts, first_seen = {}, {}
    for i, item in enumerate(items):
        name = _file_of(item.nodeid)
        counts[name] = counts.get(name, 0) + 1
        first_seen.setdefault(name, i)

    def cost(name):
        return costs.get(name, SECONDS_PER_UNKNOWN_TEST * counts[name])

    position = {name: (-cost(name), first_seen[name]) for name in counts}
    items.sort(key=lambda item: position[_file_of(item.nodeid)])  # stable within a file


def table_from_junit(path):
    """``{file: seconds}`` summed over the test cases of a pytest ``--junitxml`` report."""
    import xml.etree.ElementTree as ET

    out = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        classname = case.get("classname", "")
        # pytest writes "tests.models.test_gan.TestX" or "tfgenopt.losses" (doctests)
        parts = classname.split(".")
        for n in range(len(parts), 0, -1):
            candidate = "/".join(parts[:n]) + ".py"
            if (TABLE.parents[1] / candidate).exists():
                out[candidate] = out.get(candidate, 0.0) + float(case.get("time", 0))
                break
            init = "/".join(parts[:n]) + "/__init__.py"
            if (TABLE.parents[1] / init).exists():
                out[init] = out.get(init, 0.0) + float(case.get("time", 0))
                break
    return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    table = table_from_junit(sys.argv[1])
    TABLE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"{len(table)} files, {sum(table.values()):.0f} s in all -> {TABLE}")

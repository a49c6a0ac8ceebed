"""Docstring examples run as doctests (``make test``); a skipped one says why."""

import doctest
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "tfgenopt").rglob("*.py") if p.name != "__main__.py")
REASON = re.compile(r"not run|skipped", re.IGNORECASE)


def _skipped_without_reason(module_name):
    module = importlib.import_module(module_name.removesuffix(".__init__"))
    bad = []
    for test in doctest.DocTestFinder(exclude_empty=True).find(module):
        skipped = [ex for ex in test.examples if ex.options.get(doctest.SKIP)]
        if skipped and not REASON.search(test.docstring or ""):
            bad.append(f"{test.name} (line {test.lineno})")
    return bad


@pytest.mark.parametrize("module_name", MODULES)
def test_skipped_examples_give_a_reason(module_name):
    assert _skipped_without_reason(module_name) == []


def test_make_test_runs_the_doctests():
    text = (ROOT / "Makefile").read_text()
    test_recipe = text.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "--doctest-modules" in test_recipe and "tfgenopt" in test_recipe

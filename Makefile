# Two entry points for a fresh machine with Python 3.11 and pip: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: demo test lint bench figures clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --no-compile --disable-pip-version-check -e ".[dev,bench]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tfgenopt demo --out runs/demo

lint: $(STAMP)
	$(VENV)/bin/ruff check tfgenopt tests benchmarks docs

# The test suite and every docstring example of the package (doctests; shared names: conftest.py).
# Bytecode caching on for the test processes even where the shell sets PYTHONDONTWRITEBYTECODE
# (this machine kind does, and the venv installs with --no-compile): the first process compiles
# what it imports, every later one (the other worker, each CLI subprocess) loads the .pyc files.
# Without it each process spends ~13 s more CPU importing TensorFlow (25 s instead of 12).
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE TF_CPP_MIN_LOG_LEVEL=2
test: lint
	$(TEST_ENV) $(PY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder -m "not slow" --doctest-modules tests tfgenopt

bench: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -m slow tests || test $$? -eq 5
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(TEST_ENV) $(PY) $$f || exit 1; done

# The README's figures: a demo run, downscaled into docs/figures/.
figures: $(STAMP)
	test -f runs/demo/summary.json || $(VENV)/bin/tfgenopt demo --out runs/demo
	$(PY) docs/make_figures.py runs/demo

clean:
	rm -rf $(VENV) runs build *.egg-info

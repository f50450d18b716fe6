# Everyday commands. `make install` once, then the others.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast check format snapshot-update bench bench-smoke clean

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e ".[test,dev]"

demo:
	$(VENV)/bin/reconcile-tui demo

test:
	$(PY) -m pytest

test-fast:
	$(PY) -m pytest -m "not slow"

check:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

snapshot-update:
	$(PY) -m pytest tests/tui --snapshot-update

bench:
	$(PY) -m benchmarks

bench-smoke:
	$(PY) -m benchmarks --smoke

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info

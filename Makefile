# The two commands a newcomer needs (see README.md):
#   make demo   set everything up, then run the demo server on http://127.0.0.1:8000
#   make test   set everything up, then run lint, types and the tests on SQLite and PostgreSQL
#
# Both create or refresh .venv from the pinned, hashed lock files by themselves: `make demo`
# from requirements.lock (production), `make test` from it and requirements-dev.lock; the
# venv is refreshed only when a lock file or pyproject.toml changed.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: help venv venv-dev lock demo test lint fmt clean

help:
	@echo "make demo   set up .venv and run the demo (http://127.0.0.1:8000)"
	@echo "make test   set up .venv and run ruff, mypy and the tests on SQLite and PostgreSQL"
	@echo "make lint   ruff check, ruff format --check, mypy, lint-imports (import contracts)"
	@echo "make fmt    ruff format and ruff check --fix"
	@echo "make lock   make requirements.lock and requirements-dev.lock from pyproject.toml (uv)"
	@echo "make clean  remove .venv and caches (keeps ./var, the demo database)"

venv:
	@VENV=$(VENV) PYTHON=$(PYTHON) bash scripts/venv prod

venv-dev:
	@VENV=$(VENV) PYTHON=$(PYTHON) bash scripts/venv dev

lock:
	bash scripts/lock

demo: venv
	$(BIN)/carryover demo

test: venv-dev
	@VENV=$(VENV) bash scripts/test

lint: venv-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy carryover
	$(BIN)/lint-imports

fmt: venv-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

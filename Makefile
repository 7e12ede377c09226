# Two commands: `make run` and `make test`. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest postgres bench fuzz setup sysdeps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) sysdeps

sysdeps:
	@bash scripts/ensure-system-deps.sh

# The PostgreSQL half of the suite is required: the local server is started (or
# installed) when it does not answer, and its tests fail, never skip, without it.
# STSGAS_SKIP_PG=1 leaves it out on purpose, with a loud line in pytest's summary.
ifeq ($(STSGAS_SKIP_PG),1)
postgres:
	@echo "make: STSGAS_SKIP_PG=1: the PostgreSQL half of the suite is SKIPPED" >&2
export STSGAS_REQUIRE_PG := 0
else
postgres:
	@bash scripts/ensure-postgres.sh
export STSGAS_REQUIRE_PG := 1
endif

run: $(STAMP)
	STSGAS_LOG_FORMAT=console $(BIN)/stsgas serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: setup postgres
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# nightly-style fuzzing (RELIABILITY T4): FUZZ_SECONDS per harness, not part of `make test`
FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	for h in fuzz/fuzz_*.py; do $(BIN)/python $$h -max_total_time=$(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .hypothesis

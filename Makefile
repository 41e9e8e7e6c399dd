# Fillbook: `make run` serves the app, `make test` runs every suite. Both start from nothing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest migrate bench bench-smoke fuzz clean

run: $(VENV)/.runtime dashboard  ## create the venv, install, migrate, serve on $(HOST):$(PORT) with the training node
	$(BIN)/python run_server.py --host $(HOST) --port $(PORT) --with-training-node

test: $(VENV)/.dev system-deps lint frontend-test pytest  ## install what the tests need, then run every suite

system-deps:
	@scripts/ensure-system-deps.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

pytest: $(VENV)/.dev system-deps dashboard
	FILLBOOK_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -q

# The dashboard bundle (frontend/dist), rebuilt when a source or the lock file is newer.
FRONTEND_SOURCES := $(shell find frontend/src -type f 2>/dev/null) $(wildcard frontend/index.html \
	frontend/package.json frontend/vite.config.ts frontend/tsconfig.json)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

dashboard: frontend/dist/index.html

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	@command -v npm >/dev/null || scripts/ensure-system-deps.sh node
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend-test: dashboard  ## Vitest (the browser tests run in pytest: tests/frontend)
	cd frontend && npm test

migrate: $(VENV)/.runtime
	$(BIN)/python -m backend migrate

bench: $(VENV)/.dev
	$(BIN)/pip install -q -r requirements-bench.txt
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/trades.py
	$(BIN)/python bench/derive.py --big
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/training.py
	$(BIN)/python bench/backtest.py
	$(BIN)/python bench/exporter.py
	$(BIN)/python bench/stream.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/insight.py --re-derive

bench-smoke: $(VENV)/.dev  ## every benchmark with --smoke (make test runs them too: tests/bench)
	$(BIN)/python -m pytest -q tests/bench

fuzz: $(VENV)/.dev  ## schemathesis over every operation with many examples (make test runs a few)
	FILLBOOK_FUZZ_EXAMPLES=$${FILLBOOK_FUZZ_EXAMPLES:-200} $(BIN)/python -m pytest -q tests/fuzz

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt services/training_node/requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements.txt -r services/training_node/requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt services/training_node/requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Fillbook: `make run` serves the app, `make test` runs every suite. Both start from nothing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck pytest migrate bench clean

run: $(VENV)/.runtime  ## create the venv, install, migrate, serve on $(HOST):$(PORT) with the training node
	$(BIN)/python run_server.py --host $(HOST) --port $(PORT) --with-training-node

test: $(VENV)/.dev system-deps lint pytest  ## install what the tests need, then run every suite

system-deps:
	@scripts/ensure-system-deps.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

pytest: $(VENV)/.dev system-deps
	FILLBOOK_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -q

migrate: $(VENV)/.runtime
	$(BIN)/python -m backend migrate

bench: $(VENV)/.dev
	$(BIN)/pip install -q -r requirements-bench.txt
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/trades.py
	$(BIN)/python bench/analytics.py

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

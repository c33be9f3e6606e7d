# Liveness Guard — the two front-door commands are `make run` and `make test`.
# Each does its own setup: a virtual environment from requirements-dev.txt and `npm ci` for Azurite.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint deps clean

deps: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the app locally: Azurite, the Face emulator and the functions (Ctrl-C stops everything).
run: deps
	$(PY) -m devtools.run

## Lint, then run every test (starts and stops its own Azurite and emulators on free ports).
test: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules test-artifacts .pytest_cache .ruff_cache .run

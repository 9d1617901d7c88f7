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
# the gettext catalogues (docs/i18n.md): .po kept in git, .mo compiled here
LOCALE := eldercare/locale
CATALOGUES := $(wildcard $(LOCALE)/*/LC_MESSAGES/eldercare.po)
COMPILED := $(CATALOGUES:.po=.mo)

.PHONY: demo test lint format bench install clean messages

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

$(LOCALE)/%.mo: $(LOCALE)/%.po $(STAMP)
	$(BIN)/pybabel compile --statistics -D eldercare -i $< -o $@

install: $(STAMP) $(VENDOR_STAMP) $(COMPILED)

# after adding or changing words in the code or templates: extract them and merge them into every .po
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project eldercare -o $(LOCALE)/eldercare.pot .
	$(BIN)/pybabel update -i $(LOCALE)/eldercare.pot -d $(LOCALE) -D eldercare --no-wrap \
		--no-fuzzy-matching --ignore-obsolete

demo: $(STAMP) $(VENDOR_STAMP) $(COMPILED)
	$(BIN)/eldercare demo

lint: $(STAMP) $(VENDOR_STAMP) $(COMPILED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# the suite on every core: each pytest-xdist worker starts its own PostgreSQL, brokers and Chromium on free ports
# (TEST_WORKERS=0: in one process, without workers)
TEST_WORKERS ?= auto

test: lint
	$(BIN)/pytest --numprocesses=$(TEST_WORKERS) --durations=20

bench: $(STAMP) $(VENDOR_STAMP) $(COMPILED)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts $(COMPILED)

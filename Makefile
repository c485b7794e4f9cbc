# PowerDesk: `make demo` to run it, `make test` to test it. Everything else is set-up they call.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
NPM_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | sha1sum | cut -c1-12)
VENDOR := powerdesk/static/vendor
CUSTOMERS ?= 10000
SEED ?= 20261123

.PHONY: demo test setup static system-deps migrate lint bench clean

demo: setup
	$(VENV)/bin/powerdesk migrate --no-input
	$(VENV)/bin/powerdesk collectstatic --no-input -v0
	$(VENV)/bin/powerdesk demo --customers $(CUSTOMERS) --seed $(SEED)

test: setup system-deps
	$(PY) scripts/run_tests.py

setup: $(STAMP) static

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 $(PYTHON)（Python 3.11）"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

static: $(VENDOR)/.built

$(VENDOR)/.built: $(NPM_STAMP) scripts/build_static.py
	$(PY) scripts/build_static.py
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

# Debian's chromium and a CJK font for browser tests and Chinese screenshots/PDFs.
system-deps:
	@bash scripts/system_deps.sh

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var test-artifacts

# One entry point for people and CI. Every target bootstraps its own tooling.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# the demo's privacy requests (and later loads of its data) need a salt: a public one for the
# demo targets only; any other use reads yours from the environment
demo ui: export CDP_PRIVACY_SALT ?= demo-only-salt-not-a-secret
export UV_COMPILE_BYTECODE := 1

CUSTOMERS ?= 100000

.PHONY: install services demo test test-slow lint fmt ui app bench clean

install: .venv/.installed  ## the venv, and the Dagster instance config in DAGSTER_HOME (orchestration/dagster.yaml)
	@$(RUN) python -c "from cdp.settings import ensure_dagster_home, get_settings; ensure_dagster_home(get_settings())"

.venv/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	@touch $@

demo: install  ## generate the demo retailer, run the whole pipeline, print the summary
	$(RUN) cdp demo

services:  ## PostgreSQL, OpenSSH (destination tests) and Chromium (app browser tests): apt-get, needs root; with CI=true their tests fail without them
	@bash scripts/install-services.sh || echo "warning: PostgreSQL/OpenSSH/Chromium not installed; their tests skip (fail with CI=true)"

test: install services  ## the full test suite (slow scale tests excluded; see test-slow)
	$(RUN) pytest -n 2 --dist loadfile

test-slow: install
	$(RUN) pytest -m slow

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) sqlfluff lint dbt_project/models

fmt: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

ui: install  ## the Dagster UI on the demo warehouse (http://127.0.0.1:3000)
	$(RUN) dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

app: install  ## the single customer view on the serving snapshot (http://127.0.0.1:8000; needs CDP_APP_SECRET_KEY)
	$(RUN) cdp app

bench: install  ## time generation, ingestion and every later stage; CUSTOMERS=1400000 for the reference size
	$(RUN) cdp bench --customers $(CUSTOMERS)

clean:
	rm -rf data dbt_project/target dbt_project/logs

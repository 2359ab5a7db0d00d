# Every target creates what it needs from nothing: the venv, pinned installs, npm tools.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_TOOLS := tools/node
SPECTRAL := $(NODE_TOOLS)/node_modules/.bin/spectral
OASDIFF := $(NODE_TOOLS)/node_modules/.bin/oasdiff
CONTRACT := openapi/close-phone-numbers.yaml
# Debian's Chromium, for the HTML report's browser tests and its bench job (driven over the DevTools pipe).
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=
# pytest-xdist workers (whole test files per worker); PYTEST_WORKERS=0 runs in one process (for --pdb).
PYTEST_WORKERS ?= 2

.PHONY: help setup lock generate check-generated check-breaking changelog lint-spec lint-workflows lint format typecheck test test-only conformance mock dist bench clean

help: ## List the targets with a one-line description
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e generated_client
	@touch $@

$(SPECTRAL): $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The browser is its own stamp: installed once (as root, else with sudo), skipped while it is there.
$(CHROMIUM):
	@echo "installing chromium (Debian package) for the HTML report's browser tests"
	@if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

setup: $(STAMP) $(SPECTRAL) ## Create .venv with the pinned packages and the npm tools (Spectral, oasdiff, Prism)

lock: ## Re-resolve requirements.lock from the exact pins in pyproject.toml
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip==25.3
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude close-phone-numbers-conformance > requirements.lock
	rm -rf .lock-venv

generate: $(STAMP) ## Regenerate generated_client/ from the contract
	$(BIN)/python scripts/generate.py

check-generated: $(STAMP) ## Fail if generated_client/ differs from what the contract generates
	$(BIN)/python -m scripts.check_generated

check-breaking: $(STAMP) $(SPECTRAL) ## Fail on a breaking contract change without a major version, or a stale CHANGELOG.md
	$(BIN)/python scripts/check_breaking.py

changelog: $(STAMP) $(SPECTRAL) ## Rewrite the generated contract section of CHANGELOG.md (oasdiff)
	$(BIN)/python scripts/check_breaking.py --write

lint-spec: $(STAMP) $(SPECTRAL) ## Validate the contract (openapi-spec-validator + Spectral with example checks)
	$(BIN)/openapi-spec-validator $(CONTRACT)
	$(SPECTRAL) lint --ruleset openapi/.spectral.yaml --fail-severity=warn $(CONTRACT)

lint-workflows: $(STAMP) ## actionlint and zizmor (pinned actions, least permissions, no injection) on the workflows and action.yml
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --config .github/zizmor.yml --min-severity low .github/workflows action.yml

lint: $(STAMP) ## ruff on the project and on the generated client
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd generated_client && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff's fixes and formatting to the project's own code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict on the project and on the generated client
	$(BIN)/mypy
	$(BIN)/mypy --strict generated_client/close_phone_numbers_client

test-only: $(STAMP) $(CHROMIUM) ## Run the pytest suite alone, on PYTEST_WORKERS=2 workers (PYTEST_ARGS=... to narrow it; installs Debian's chromium if missing)
	@# pytest exits 5 when it collected no test: that is a failure here, never a pass.
	status=0; $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$status

test: lint-spec check-generated check-breaking lint-workflows lint typecheck test-only ## Everything CI runs: spec gate, drift and breaking-change checks, workflow linters, lint, types, tests

conformance: $(STAMP) ## Run the conformance suite against the embedded mock
	$(BIN)/close-conformance

dist: $(STAMP) ## Build sdist and wheel of the client and of the conformance package into dist/ (reproducible, twine-checked)
	$(BIN)/python scripts/dist.py --outdir dist

mock: $(STAMP) ## Serve the mock on http://127.0.0.1:8000/api/v1 (Ctrl-C stops it)
	$(BIN)/close-mock serve

bench: $(STAMP) $(SPECTRAL) $(CHROMIUM) ## Measure mock, suite, client, generation, replay and proxy, the plugin and the HTML report against peers; writes BENCHMARKS.md
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get install -y -qq wrk; fi; }
	$(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove the venv, npm tools and caches
	rm -rf $(VENV) $(NODE_TOOLS)/node_modules .mypy_cache .ruff_cache .hypothesis .schemathesis dist build

# Set-up and the two commands README.md shows. Everything a fresh machine lacks is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup system-packages test-packages drill test test-staging test-unit lint clean

setup: system-packages $(STAMP)

system-packages:
	@./scripts/install-system-packages.sh

test-packages:
	@./scripts/install-system-packages.sh --test

$(STAMP): pyproject.toml
	@echo "setting up $(VENV) (Python packages; the log goes to $(VENV)/install.log)"
	@$(PYTHON) -m venv $(VENV)
	@# Quiet unless it fails: setuptools' editable-install banner is not what a user asked to see.
	@($(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[dev,engines]') \
		> $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@rm -f $(VENV)/.installed-* && touch $@

drill: setup
	$(BIN)/drill run scenarios/primary-failover.yaml

lint: setup
	$(BIN)/ruff check harness tests
	$(BIN)/ruff format --check harness tests
	$(BIN)/mypy

test: test-packages lint
	@./scripts/ensure-docker.sh
	$(BIN)/pytest

# Drills on deployments started outside the harness beyond the suite's: over SSH hosts, DEBUG SLEEP, the
# compose lab's cluster found by seeds (~2 min).
test-staging: test-packages
	@./scripts/ensure-docker.sh
	$(BIN)/pytest -m staging

# The fast tier: pure logic on hand-made logs and files, no servers, no Chromium (well under a minute).
test-unit: setup
	$(BIN)/pytest -m "not integration" tests/unit

clean:
	rm -rf $(VENV) runs

# Set-up and the two commands README.md shows. Everything a fresh machine lacks is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup system-packages test-packages drill test lint clean

setup: system-packages $(STAMP)

system-packages:
	@./scripts/install-system-packages.sh

test-packages:
	@./scripts/install-system-packages.sh --test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

clean:
	rm -rf $(VENV) runs

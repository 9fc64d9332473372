# Set-up and the two commands README.md shows. Everything a fresh machine lacks is installed here.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup system-packages test-packages drill test test-unit lint clean

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

# Two workers: a drill spends most of its time waiting on Sentinel's and the cluster's own timers (the
# suite kept 2 cores 25-45 % busy on one worker), so two at once take 55 % of the time, each test about as
# long as alone. The Compose lab's tests stay on one worker (xdist_group).
test: test-packages lint
	@./scripts/ensure-docker.sh
	$(BIN)/pytest -n 2 --dist loadgroup

# The fast tier: pure logic on hand-made logs and files, no servers, no Chromium (well under a minute).
test-unit: setup
	$(BIN)/pytest -m "not integration" tests/unit

clean:
	rm -rf $(VENV) runs

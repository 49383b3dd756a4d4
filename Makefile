# Two commands: `make demo` and `make test`. Each does all of its own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit unit-as-user setup system-deps clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP)

# Debian packages the sandbox and the PostgreSQL tests need (installed when missing).
system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/medval demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

# The runner contract suite (tests/runner) again as the unprivileged user medval-tester,
# which it creates when run as root (see tests/runner/as_user.py); run by an ordinary
# user, `unit` already was the unprivileged run and this says so.
unit-as-user: $(STAMP)
	$(BIN)/python -m tests.runner.as_user

# Both runs, even when the first fails, so that one report shows both; fails if either does.
test: setup lint typecheck
	@$(MAKE) --no-print-directory unit; first=$$?; \
	$(MAKE) --no-print-directory unit-as-user || exit $$?; exit $$first

bench: setup
	for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .venv-user .pytest_cache .mypy_cache .ruff_cache

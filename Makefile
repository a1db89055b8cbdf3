# The two commands a newcomer needs: `make run` (the demo stack) and `make test` (the suite).
SHELL := /bin/bash
VENV := .venv/bin
PYTEST_ARGS ?=

.PHONY: setup run test check static unit integration browser bench lint fmt typecheck down status clean

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/madoguchi run

# CI runs `make test`: the static checks first, so a lint or type error fails it too.
test: setup
	@$(MAKE) --no-print-directory static
	$(VENV)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

check: setup
	@$(MAKE) --no-print-directory static
	$(VENV)/python -m pytest -p no:cacheprovider tests/unit

static:
	@echo "==> Static checks: ruff (lint, format), mypy --strict"
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

unit: setup
	$(VENV)/python -m pytest -p no:cacheprovider tests/unit

integration: setup
	$(VENV)/python -m pytest -p no:cacheprovider tests/integration

browser: setup
	$(VENV)/python -m pytest -p no:cacheprovider tests/browser

bench: setup
	$(VENV)/python -m bench

lint:
	$(VENV)/ruff check .

fmt:
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

typecheck:
	$(VENV)/mypy

down:
	$(VENV)/madoguchi down

status:
	$(VENV)/madoguchi status

clean:
	-$(VENV)/madoguchi down
	rm -rf var test-artifacts

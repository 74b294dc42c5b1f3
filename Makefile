# Two entry points: `make lab` (install + open JupyterLab) and `make test` (install + all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: lab test install lint pytest nbval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ARGS)

lint: install
	$(BIN)/ruff check .

pytest: install
	JAX_NUMPY_RANK_PROMOTION=raise $(BIN)/python -m pytest -q

nbval: install
	WIDENETS_PROFILE=quick $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

test: lint pytest nbval

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache

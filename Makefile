# Two entry points: `make lab` (install + open JupyterLab) and `make test` (install + all tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# Jupyter refuses to run as root unless told; containers often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab app docs docs-notebooks test install lint pytest nbval browser browser-note screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(ARGS)

# The notebooks as standalone apps (Voila): panels and figures, no code cells.
app: install
	$(BIN)/voila $(ARGS) notebooks

# The documentation site, build/docs/html/index.html: the README, the notebooks as rendered
# in docs/notebooks/ (those missing or stale are rendered first, standard profile: minutes
# on an empty cache), the API reference and the paper-to-code map.
docs: install
	$(BIN)/python scripts/render_notebooks.py --stale
	$(BIN)/python -m sphinx -b html -q -d build/docs/doctrees docs build/docs/html
	@echo "docs: build/docs/html/index.html"

# Re-render docs/notebooks/ (not committed; standard profile unless
# scripts/render_notebooks.py says otherwise; ARGS=03: one notebook; minutes each on an
# empty cache).
docs-notebooks: install
	$(BIN)/python scripts/render_notebooks.py $(ARGS)

lint: install
	$(BIN)/ruff check .

# The unit tests and every docstring example of the package (--doctest-modules).
pytest: install
	JAX_NUMPY_RANK_PROMOTION=raise $(BIN)/python -m pytest -q --doctest-modules \
		--ignore=tests/browser widenets_nb tests

nbval: install
	WIDENETS_PROFILE=quick $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

# Every notebook run in JupyterLab in headless Chromium (skipped without /usr/bin/chromium,
# failing instead when WIDENETS_REQUIRE_BROWSER=1); screenshots in build/screenshots/.
browser: install
	$(BIN)/python scripts/render_notebooks.py --stale --profile quick
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

# The README's pictures: each notebook's touched panel from the last browser run.
screenshots:
	mkdir -p docs/screenshots
	for f in build/screenshots/*-panel.png; do cp "$$f" "docs/screenshots/$$(basename "$$f" -panel.png).png"; done

# Without Chromium the browser tests are skipped: say so as the very last line.
CHROMIUM := $(or $(WIDENETS_CHROMIUM),/usr/bin/chromium)
browser-note:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "make test: the browser tests did NOT run: Chromium is missing at $(CHROMIUM)" \
			"(install Debian's package: sudo apt-get install chromium;" \
			"WIDENETS_REQUIRE_BROWSER=1 turns this into a failure)."; \
	fi

test: lint pytest nbval browser
	@$(MAKE) --no-print-directory browser-note

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache

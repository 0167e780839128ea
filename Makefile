# Quick start: `make certify` (the main job) and `make test` (the test suite).
# Both create ./.venv with Python 3.11 and install the project into it first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev certify serve test lint bench clean

# `make certify` installs what certification needs; `make test` adds the extras (load tests,
# PostgreSQL, test, lint, browser and benchmark tools).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "cutover needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

certify: $(STAMP)
	$(VENV)/bin/cutover certify --out out/

serve: $(STAMP)
	$(VENV)/bin/cutover serve

# The suite runs in two passes: most tests in parallel (pytest-xdist, one file per worker at a
# time, except the meta-test's rows, see SPREAD in conftest.py; one worker more than cores: the live, load and browser tests spend much of their time
# waiting on servers they started, and the spare worker fills that wait), then, one at a time, those
# marked `serial` (they fill every core themselves or judge how servers behave when a worker is
# killed or a client is slow, which a busy neighbour would blur). With PYTEST_ARGS (a file, -k,
# -x ...), one plain pytest runs with them instead, so they select what they say.
WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
test: $(DEV_STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(PY) -m pytest -m "not serial" -n $(WORKERS) --dist loadfile
	$(PY) -m pytest -m serial
else
	$(PY) -m pytest $(PYTEST_ARGS)
endif

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy cutover protocols refdata clients mocks provincial loadtests
	$(VENV)/bin/lint-imports
	$(PY) -m vulture

clean:
	rm -rf $(VENV) out .cutover .pytest_cache

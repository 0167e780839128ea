# Quick start: `make certify` (the main job) and `make test` (the test suite).
# Both create ./.venv with Python 3.11 and install the project into it first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install certify serve test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "cutover needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

certify: $(STAMP)
	$(VENV)/bin/cutover certify --out out/

serve: $(STAMP)
	$(VENV)/bin/cutover serve

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy cutover protocols mocks provincial

clean:
	rm -rf $(VENV) out .cutover .pytest_cache

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

# The suite runs in two passes: most test files in parallel (pytest-xdist, one file per worker at a
# time), then, one at a time, the ones that bind fixed ports, drive Chromium, time a load run
# against thresholds, certify through live servers or run many server processes at once: those
# wait on the wall clock or fill every core themselves, and next to another worker they would be
# slow (test_suite_meta took three times as long beside test_scaled_postgres). With PYTEST_ARGS
# (a file, -k, -x ...), one plain pytest runs with them instead, so they select what they say.
SERIAL_TESTS := features tests/test_scaled_postgres.py tests/test_serve.py tests/test_load_live.py tests/test_certify_live.py \
	tests/test_reference_live.py tests/test_deploy.py tests/test_payment_browser.py tests/test_report_browser.py

test: $(STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(PY) -m pytest tests -n auto --dist loadfile $(addprefix --ignore=,$(SERIAL_TESTS))
	$(PY) -m pytest $(SERIAL_TESTS)
else
	$(PY) -m pytest $(PYTEST_ARGS)
endif

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy cutover protocols refdata clients mocks provincial
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) out .cutover .pytest_cache

# The two commands of the README:
#   make reproduce   run every notebook under the default profile -> figures/ and the findings report
#   make test        run the test suite (library, training code, every notebook under the smoke profile)
# Each creates its own virtual environment (.venv) and installs what it needs, Debian data packages
# included, on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PROFILE ?= default
JOBS ?= 1
RUN_ARGS ?=
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed

.PHONY: reproduce test data venv lint clean-venv

reproduce: data venv
	$(VENV)/bin/cca-reproduce --profile $(PROFILE) --jobs $(JOBS) $(RUN_ARGS)

test: data venv
	$(VENV)/bin/ruff check cca tests benchmarks notebooks
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Offline datasets from Debian: Fashion-MNIST (images) and fortunes (English text).
data:
	@bash scripts/install-data.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check cca tests benchmarks notebooks

clean-venv:
	rm -rf $(VENV)

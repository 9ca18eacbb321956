# The two commands of the README:
#   make reproduce   run every notebook under the default profile -> figures/ and the findings report
#   make test        run the test suite (library, training code, every notebook under the smoke profile)
# Each creates its own virtual environment (.venv) and installs what it needs, Debian data packages
# included, on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
PROFILE ?= default
JOBS ?= 1
# Where the networks train before the notebooks run: local:N trains them in N worker processes at
# once (two narrow networks on a 2-core CPU: 1.4x one at a time, benchmarks/bench_training.py);
# TRAIN= trains them inside the notebooks, one at a time.
TRAIN ?= local:2
RUN_ARGS ?=
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed
# Exact versions of everything installed (make lock regenerates it from pyproject.toml).
LOCK := requirements.lock
UPGRADE ?=

.PHONY: reproduce publish test test-fast test-frameworks data venv lint lock clean-venv docs

reproduce: data venv
	$(VENV)/bin/cca-reproduce --profile $(PROFILE) --jobs $(JOBS) \
		$(if $(TRAIN),--cluster $(TRAIN)) $(RUN_ARGS)

# After `make reproduce`: commit its notebooks (with outputs; the default profile's only, the ones
# readers open) and findings, and regenerate the README's results table from them.
# PUBLISH_ARGS=--keep-others keeps the committed records of notebooks the run did not run.
PUBLISH_ARGS ?=
publish: venv
	$(if $(filter default,$(PROFILE)),$(VENV)/bin/python scripts/publish_notebooks.py runs/$(PROFILE))
	$(VENV)/bin/python scripts/publish_findings.py runs/$(PROFILE) $(PUBLISH_ARGS)

test: data venv
	$(VENV)/bin/ruff check cca morcos2018 tests benchmarks scripts notebooks
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The library's tests and the reproduction's unit tests: nothing that trains (tests/conftest.py
# fails an unmarked test that does) or runs a notebook, one pytest worker per core (pytest-xdist).
# make test runs in one process: its notebook tests share one session-wide smoke batch.
FAST_WORKERS ?= auto
test-fast: venv
	$(VENV)/bin/ruff check cca morcos2018 tests benchmarks scripts notebooks
	$(VENV)/bin/python -m pytest -m "not slow" -n $(FAST_WORKERS) $(PYTEST_ARGS)

# PyTorch and JAX arrays computed on their own device, on the CPU (tests/cca/test_cca_frameworks.py,
# which make test skips): installs PyTorch (the CPU build where one lies on disk) and JAX into the
# venv, about 1 GB. On a GPU machine: $(VENV)/bin/python benchmarks/bench_array_api.py.
TORCH ?= torch==2.13.0
test-frameworks: venv
	$(VENV)/bin/python -m pip install --quiet "$(TORCH)" "jax>=0.4.30"
	$(VENV)/bin/python -m pytest -p no:cacheprovider tests/cca/test_cca_frameworks.py \
		tests/cca/test_cca_layout.py $(PYTEST_ARGS)

# The library's documentation site (docs/, Sphinx; the lock pins the docs extra, which venv
# installs): HTML in docs/_build/html with warnings as errors, then the examples on its pages run
# (the docstrings' own examples run in make test, under pytest --doctest-modules).
docs: venv
	$(VENV)/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html
	$(VENV)/bin/python -m sphinx -W --keep-going -b doctest docs docs/_build/doctest

# Offline datasets from Debian: Fashion-MNIST (images) and fortunes (English text).
data:
	@bash scripts/install-data.sh

venv: $(STAMP)

# Two projects: the library (cca/, distribution pwcca) and the reproduction (morcos2018, the root).
$(STAMP): pyproject.toml cca/pyproject.toml $(LOCK)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r $(LOCK)
	$(VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e ./cca -e .
	touch $(STAMP)

# After changing dependencies in either pyproject.toml: keeps the other pins (UPGRADE=--upgrade:
# newest). requirements.in names the projects and extras.
lock: venv
	$(VENV)/bin/python -m pip install --quiet "uv>=0.5"
	$(VENV)/bin/uv pip compile requirements.in --python-version 3.11 $(UPGRADE) \
		--no-emit-package pwcca --no-emit-package morcos2018 -o $(LOCK)

lint: venv
	$(VENV)/bin/ruff check cca morcos2018 tests benchmarks scripts notebooks

clean-venv:
	rm -rf $(VENV)

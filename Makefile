# The two commands a learner needs: `make lab` and `make test`.
# Both create .venv and install everything on first use (Python 3.11+ is all you need).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Extra arguments for JupyterLab, e.g. `make lab LAB_ARGS="--no-browser --port 8899"`.
LAB_ARGS ?=
# JupyterLab refuses to run as root (containers, CI machines) unless told it may.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg
# Which notebooks `make notebooks` re-executes (default: every notebooks/NN_*.ipynb),
# e.g. `make notebooks NB=notebooks/03_event_store.ipynb`.
NB ?=

.PHONY: help install lab check lint test unit notebooks-test notebooks exercises bench clean

help:
	@echo "make lab        set up .venv if needed and open JupyterLab on the first notebook"
	@echo "make check      set up .venv if needed and check this machine is ready (versions, one tiny cell)"
	@echo "make test       set up .venv if needed, run the unit tests and every notebook under nbval"
	@echo "make notebooks  re-execute every notebook in place (after changing esdemo), then regenerate exercises"
	@echo "make exercises  refresh nav cells, the contents table and notebooks/exercises/ (no execution)"
	@echo "make bench      print the benchmark table (BENCH_ARGS=--quick for a short run)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "esdemo needs Python 3.11 or newer, found " + sys.version.split()[0]'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab notebooks/00_start_here.ipynb $(ROOT_ARGS) $(LAB_ARGS)

# pyflakes, import order and a complexity limit (configured in pyproject.toml, [tool.ruff]).
lint: install
	$(VENV)/bin/ruff check esdemo tests scripts

# Pre-flight for a workshop: versions, then one tiny cell in a fresh kernel.
check: install
	$(PY) scripts/preflight.py

test: lint unit notebooks-test

unit: install
	$(PY) -m pytest tests

notebooks-test: install
	$(PY) -m pytest $(NBVAL) notebooks

# Nav and contents are refreshed first (by run_notebooks.py), then each notebook runs in a fresh
# kernel; the exercise versions are regenerated from the freshly executed notebooks.
notebooks: install
	$(PY) scripts/run_notebooks.py $(NB)
	$(MAKE) exercises

exercises: install
	$(PY) scripts/notebook_tools.py generate

# The benchmark table (about 5 minutes on 2 cores): `make bench BENCH_ARGS=--quick` for a one-minute look.
BENCH_ARGS ?=
bench: install
	$(PY) -m esdemo.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# The whole set-up on a fresh machine: `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/auto_repair.yaml

.PHONY: demo test lab lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/franchise-sim run $(SCENARIO) --out results/auto_repair --report --force

test: $(VENV)/.installed-dev
	$(BIN)/ruff check franchise_sim tests benchmarks notebooks
	$(BIN)/ruff format --check franchise_sim tests benchmarks notebooks
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

# JupyterLab in the same .venv, opened on the notebooks (Ctrl-C stops it). Notebooks are saved
# without their outputs (a pre-save hook clears them), so running and saving them keeps the files
# clean and `make test` passing. As root (in a container, say) JupyterLab refuses to start
# unless told it may.
LAB_HOOK := --FileContentsManager.pre_save_hook=franchise_sim.interfaces.notebook_files.strip_outputs
lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_HOOK) \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_simulate.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache .ruff_cache

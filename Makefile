# Attention, Step by Step. Every target installs what it needs first (into .venv, once per change of pins).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install book test notebooks check-notebooks lab bench clean

help:
	@echo "make book             install, then build the HTML book into _build/html"
	@echo "make test             install, then run every test (package, checks, widgets, notebooks, book)"
	@echo "make lab              install, then open JupyterLab on lessons/"
	@echo "make notebooks        regenerate lessons/ and solutions/ from book/"
	@echo "make check-notebooks  fail if lessons/ or solutions/ are stale"
	@echo "make bench            install, then measure the course's performance claims (slow: see benchmarks/README.md)"

# The virtual environment is rebuilt only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# The course runs offline: JupyterLab should not ask to fetch news or check for updates.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

install: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all --warningiserror --keep-going
	@echo "The book is built. Open $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

notebooks: $(STAMP)
	$(BIN)/python -m attention_course.notebooks

check-notebooks: $(STAMP)
	$(BIN)/python -m attention_course.notebooks --check

lab: $(STAMP)
	$(BIN)/jupyter lab lessons/

# Measurements, not tests: one table, also written to _build/bench/. `make bench ONLY=attention` runs a subset.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --json _build/bench/results.json --markdown _build/bench/results.md \
		$(if $(ONLY),--only $(ONLY))

clean:
	rm -rf _build

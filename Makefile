# Attention, Step by Step. Every target installs what it needs first (into .venv, once per change of pins).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install chromium-check book test test-browser screenshots notebooks check-notebooks lab clean

help:
	@echo "make book             install, then build the HTML book into _build/html"
	@echo "make test             install, then run every test (package, checks, widgets, notebooks, book)"
	@echo "make test-browser     build the book, then check every page in headless Chromium (needs chromium, npm)"
	@echo "make screenshots      build the book, then take screenshots of every page into _build/screenshots"
	@echo "make lab              install, then open JupyterLab on lessons/"
	@echo "make notebooks        regenerate lessons/ and solutions/ from book/"
	@echo "make check-notebooks  fail if lessons/ or solutions/ are stale"

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

# The browser tests' extras: Playwright (PyPI) drives the system Chromium; axe-core (npm) checks accessibility.
BROWSER_STAMP := $(VENV)/.installed-browser
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
export CHROMIUM

$(BROWSER_STAMP): $(STAMP) tests_browser/requirements.txt tests_browser/package.json
	@command -v npm > /dev/null || { echo "make test-browser needs npm for axe-core: apt-get install npm" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -r tests_browser/requirements.txt
	cd tests_browser && npm install --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

NO_CHROMIUM := make test-browser needs Chromium: apt-get install chromium, or name another binary: \
	make test-browser CHROMIUM=/path/to/chrome

chromium-check:
	@test -n "$(CHROMIUM)" && command -v "$(CHROMIUM)" > /dev/null || { echo "$(NO_CHROMIUM)" >&2; exit 1; }

book: $(STAMP)
	$(BIN)/jupyter-book build . --all --warningiserror --keep-going
	@echo "The book is built. Open $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

test-browser: chromium-check $(BROWSER_STAMP) book
	$(BIN)/python -m pytest tests_browser -p no:cacheprovider

screenshots: chromium-check $(BROWSER_STAMP) book
	$(BIN)/python tests_browser/screenshots.py --dark

notebooks: $(STAMP)
	$(BIN)/python -m attention_course.notebooks

check-notebooks: $(STAMP)
	$(BIN)/python -m attention_course.notebooks --check

lab: $(STAMP)
	$(BIN)/jupyter lab lessons/

clean:
	rm -rf _build

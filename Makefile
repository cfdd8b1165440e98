# Attention, Step by Step. Every target installs what it needs first (into .venv, once per change of pins).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_STAMP := $(VENV)/.installed-test

# The thread policy (attention_course/runtime.py): every kernel and test process started from here lets idle
# OpenMP threads sleep instead of spin, so a busy machine does not slow the lessons down several times over.
# It must be in the environment before torch is imported, so it is set here, not in the package.
export OMP_WAIT_POLICY ?= PASSIVE
# Python may cache compiled modules (in __pycache__/, ignored by git) even where the environment says not to:
# without the cache every test process rewrites and compiles the 60 test modules again (about 4 s each), and
# every kernel compiles the course's package.
unexport PYTHONDONTWRITEBYTECODE
# make grade SUBMISSIONS="submitted/*.ipynb" [LESSON=06] [FORMAT=table|csv|json] [GRADE_ARGS="--jobs 2"]
SUBMISSIONS ?=
LESSON ?=
FORMAT ?= table
GRADE_ARGS ?=

.PHONY: help install book book-nosolutions test quick mutants check-mutants notebooks check-notebooks lab grade lesson-memory bench chromium-check test-browser screenshots clean

help:
	@echo "make book             install, then build the HTML book into _build/html"
	@echo "make book-nosolutions install, then build the book with every solution removed into _build/html-nosolutions"
	@echo "make test             install (with the test tools, nbgrader), then run every test"
	@echo "make quick            the package, check and widget tests only, no notebook run (about a minute on 2 cores)"
	@echo "make mutants          plant ~30 known mistakes in the package and the checks; the quick tests must catch each"
	@echo "make check-mutants    run every check on the learner's wrong answers the tests hold; count those rejected and named"
	@echo "make test-browser     build the book, then check every page in headless Chromium (needs chromium, npm)"
	@echo "make screenshots      build the book, then take screenshots of every page into _build/screenshots"
	@echo "make lab              install, then open JupyterLab on lessons/"
	@echo "make notebooks        regenerate lessons/ and solutions/ from book/"
	@echo "make check-notebooks  fail if lessons/ or solutions/ are stale"
	@echo "make bench            install, then measure the course's performance claims (slow: see benchmarks/README.md)"
	@echo "make grade SUBMISSIONS=\"a.ipynb b.ipynb\" [LESSON=06] [FORMAT=csv]   grade learners' notebooks"
	@echo "make lesson-memory    measure each lesson's peak memory into book/lesson_memory.json (for the guide)"

# The virtual environment, made or brought up to date with the requirement files named in $(1).
# pip installs without compiling bytecode: it would compile every module of the venv on one core (70 s here).
# Python compiles a module and caches it in __pycache__ the first time anything imports it, and only about a
# quarter of the venv's modules is ever imported.
define make_venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile $(1)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# The course runs offline: JupyterLab should not ask to fetch news or check for updates.
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
endef

# The learner's and the book's environment, rebuilt only when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	$(call make_venv,-r requirements.txt)
	touch $@

install: $(STAMP)

# The tests' environment: the same, plus tools only the tests need (nbgrader, to check that the notebooks work
# with it; pytest-xdist), kept out of requirements.txt. One pip run installs both files, which on a fresh
# clone takes 20 s less than two. nbgrader's JupyterLab and server extensions are switched off, so `make lab`
# looks the same with or without them.
$(TEST_STAMP): requirements.txt requirements-test.txt pyproject.toml
	$(call make_venv,-r requirements.txt -r requirements-test.txt)
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader > /dev/null 2>&1 || true
	for part in formgrader validate_assignment assignment_list course_list; do \
		$(BIN)/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$part > /dev/null 2>&1 || true; \
	done
	touch $(STAMP) $@

# The browser tests' extras, on top of the tests' environment (pytest-xdist runs them on two processes):
# Playwright (PyPI) drives the system Chromium; axe-core (npm) checks accessibility.
BROWSER_STAMP := $(VENV)/.installed-browser
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser)
export CHROMIUM

$(BROWSER_STAMP): $(TEST_STAMP) tests_browser/requirements.txt tests_browser/package.json
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
	@touch $(BOOK_STAMP)
	@echo "The book is built. Open $(CURDIR)/_build/html/index.html"

# The browser tests and the screenshots read the book as `make book` builds it, rebuilt only when one of its
# sources changed since the last successful build. `make test` builds it with this same command
# (tests/builds.py) and leaves the stamp, so `.ci/run`'s browser tests do not build it a second time.
BOOK_STAMP := _build/html/.built
BOOK_SOURCES := _config.yml _toc.yml $(wildcard book/*) \
	$(shell find attention_course coursekit -name '*.py' -o -path '*/data/*' -type f)
$(BOOK_STAMP): $(STAMP) $(BOOK_SOURCES)
	$(MAKE) --no-print-directory book

book-nosolutions: $(STAMP)
	$(BIN)/python -m attention_course.nosolutions

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# The authors' loop: every test that needs no notebook executed and no book built. Each test module runs in one
# of the two workers (--dist loadfile), so its module-scoped fixtures (a training run, a recorded run) are made
# once. (pytest-xdist 3.8's --dist loadgroup does not group under pytest 9.2: it renames item._nodeid, which pytest 9
# no longer reads.)
quick: $(TEST_STAMP)
	$(BIN)/python -m pytest -m "not notebooks" -q -n 2 --dist loadfile

mutants: $(TEST_STAMP)
	$(BIN)/python -m coursekit.mutants --json _build/mutants.json

check-mutants: $(TEST_STAMP)
	$(BIN)/python -m coursekit.check_mutants --per-check

test-browser: chromium-check $(BROWSER_STAMP) $(BOOK_STAMP)
	$(BIN)/python -m pytest tests_browser -p no:cacheprovider -n 2

screenshots: chromium-check $(BROWSER_STAMP) $(BOOK_STAMP)
	$(BIN)/python tests_browser/screenshots.py --dark

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

grade: $(STAMP)
	@if [ -z "$(SUBMISSIONS)" ]; then echo 'Name the notebooks: make grade SUBMISSIONS="submitted/*.ipynb" [LESSON=06]'; exit 2; fi
	$(BIN)/python -m attention_course.grade $(SUBMISSIONS) $(if $(LESSON),--lesson $(LESSON)) --format $(FORMAT) $(GRADE_ARGS)

lesson-memory: $(STAMP)
	$(BIN)/python -m attention_course.lesson_memory

clean:
	rm -rf _build

# mrishare: two commands for a newcomer.
#   make book   install into .venv and build the executed book into _build/html
#   make test   install the test tools and run every test (the book build included)
# Other targets: make unit (the fast loop: every test but the book's, the browser's and the
# slow ones, and the docstring examples; no book build), make bench (benchmark table),
# make strip (strip notebook outputs), make home (copy the project address from _config.yml
# into README and notebooks), make clean.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

# `book` is also a folder name: without .PHONY make would call the target up to date.
.PHONY: all book test unit bench strip home clean install

all: book

install: $(STAMP)

$(STAMP): environment.yml pyproject.toml tools/pins.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) tools/pins.py environment.yml > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements.txt -c $(VENV)/requirements.txt \
	    -e ".[notebooks,book,test]"
	@touch $@

book: $(STAMP)
	@start=$$(date +%s); \
	rm -rf _build/html _build/.doctrees _build/jupyter_execute; \
	$(VENV)/bin/jupyter-book build . --all -W -n --keep-going --path-output . || exit 1; \
	end=$$(date +%s); \
	echo ""; \
	echo "The book is built in $$((end - start)) s. Open it in a browser:"; \
	echo "    file://$(CURDIR)/_build/html/index.html"

# Without a build the book's tests skip; here the book was just built, and
# MRISHARE_REQUIRE_BOOK=1 turns a missing build into a failure; likewise
# MRISHARE_REQUIRE_TOOLS=1 for the programs tools/test_tools.py installs (Chromium, dciodvfy).
test: book
	$(PY) tools/test_tools.py --install
	MRISHARE_REQUIRE_BOOK=1 MRISHARE_REQUIRE_TOOLS=1 $(PY) -m pytest -n $(JOBS) tests --doctest-modules src/mrishare

unit: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not book and not browser and not slow" tests \
	    --doctest-modules src/mrishare

bench: $(STAMP)
	$(PY) benchmarks/run.py

strip: $(STAMP)
	$(PY) tools/strip_notebooks.py notebooks/*.ipynb

home: $(STAMP)
	$(PY) tools/home.py

clean:
	rm -rf _build .pytest_cache

# The Kazakh Diaspora book. Two commands do everything on a fresh machine with Python 3.11:
#   make book   — create .venv, install requirements.txt, execute changed notebooks, build _build/html
#   make test   — the whole test suite (unit tests, nbval, strict book build, offline, browser)
# Other targets: execute, figures, paper-figures, pdf, map-layers, benchmark, lock, clean.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed
JBFLAGS := -W -n --keep-going

.PHONY: book execute build test figures paper-figures pdf map-layers benchmark lock clean validate sysdeps

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (the book needs Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

book: $(STAMP) execute build

validate: $(STAMP)
	$(PY) -m kazdiaspora.data validate

execute: $(STAMP)
	$(PY) -m kazdiaspora.execute

build: $(STAMP)
	$(PY) -m kazdiaspora.data validate
	$(JB) build . $(JBFLAGS)

figures: $(STAMP)
	$(PY) -m kazdiaspora.figures

# the paper edition (figures/paper/, generated, not committed): see book/paper_figures.md
paper-figures: $(STAMP)
	bash scripts/install-system-deps.sh paper
	$(PY) -m kazdiaspora.figures paper

sysdeps:
	bash scripts/install-system-deps.sh test

test: $(STAMP) sysdeps
	bash scripts/offline.sh $(PY) -m pytest

pdf: $(STAMP)
	bash scripts/build_pdf.sh $(PY)

map-layers: $(STAMP)
	$(PY) scripts/build_map_layers.py

benchmark: $(STAMP)
	$(PY) scripts/benchmark.py

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sort -f > requirements.lock.tmp
	{ head -4 requirements.txt; cat requirements.lock.tmp; } > requirements.txt.new && mv requirements.txt.new requirements.txt
	rm -f requirements.lock.tmp

clean:
	rm -rf _build

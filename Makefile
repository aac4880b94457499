# The Kazakh Diaspora book. Two commands do everything on a fresh machine with Python 3.11:
#   make book   — create .venv, install requirements.txt, execute changed notebooks, build _build/html
#   make test   — the whole test suite (unit tests, nbval, strict book build, offline, browser)
# Other targets: execute, figures, paper-figures, pdf, lab, map-layers, benchmark, lock, clean.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
JB     := $(PY) -m kazdiaspora.jb
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.10
JBFLAGS := -W -n --keep-going
# `make test` in parallel (pytest-xdist); notebooks and the build of the repository stay on one worker
TEST_JOBS ?= 2

.PHONY: book execute build test figures paper-figures paper-check pdf map-layers benchmark lock clean validate sysdeps lab

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (the book needs Python 3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# uv (pinned) installs the pinned requirements in a third of pip's time; pip does it if uv cannot
	$(PY) -m pip install --quiet uv==$(UV_VERSION) && $(VENV)/bin/uv pip install --quiet --python $(PY) \
	  --compile-bytecode -r requirements.txt || $(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

# Skipped when no input changed since the last successful `make book` (scripts/book_stamp.py).
# The data are validated while the notebooks execute, and the build starts up meanwhile and waits
# for both (kazdiaspora/jb.py); either failing stops it before it builds.
book: $(STAMP)
	@if $(PY) scripts/book_stamp.py check; then echo "make book: no input changed since the last build; _build/html is up to date"; \
	else $(JB) book $(JBFLAGS) && $(PY) scripts/book_stamp.py save; fi

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

# every figure's paper edition at both widths against the journal checks; what is not delivered yet is an expected failure (book/paper_figures.md)
paper-check: $(STAMP)
	bash scripts/install-system-deps.sh paper
	$(PY) -m pytest -p no:nbval -o addopts='' -n $(TEST_JOBS) -m paper_all tests/test_paper.py tests/test_maps_geography.py

sysdeps:
	bash scripts/install-system-deps.sh test
	bash scripts/install-system-deps.sh paper

# nbval runs in a process of its own (pytest-xdist hands a notebook's cells to a worker in batches
# and the kernel would be restarted between them), at the same time as the other tests on
# $(TEST_JOBS) workers; its report is printed after theirs, and either failing fails `make test`.
NBVAL_LOG := _build/nbval.log
test: $(STAMP) sysdeps
	@mkdir -p _build && rm -f $(NBVAL_LOG)
	bash scripts/offline.sh bash -c '$(PY) -m pytest notebooks book/intro.ipynb > $(NBVAL_LOG) 2>&1 & nb=$$!; \
	  $(PY) -m pytest -n $(TEST_JOBS) --dist worksteal --durations=15 tests; t=$$?; wait $$nb; n=$$?; \
	  echo "---- nbval: every cell of every notebook against its stored output ----"; cat $(NBVAL_LOG); \
	  echo "make test: tests exit $$t, nbval exit $$n"; exit $$(( t != 0 || n != 0 ))'

pdf: $(STAMP)
	bash scripts/build_pdf.sh $(PY)

# JupyterLab on the chapters, with the book's kernel (the venv's python3 kernelspec comes first).
# Extra options: make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
lab: $(STAMP)
	JUPYTER_PREFER_ENV_PATH=1 JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter lab \
	  --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks \
	  --MappingKernelManager.default_kernel_name=python3 $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

map-layers: $(STAMP)
	$(PY) scripts/build_map_layers.py

benchmark: $(STAMP)
	bash scripts/install-system-deps.sh paper
	$(PY) scripts/benchmark.py
	$(PY) -m kazdiaspora.weights _build/html

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable --exclude uv | sort -f > requirements.lock.tmp
	{ head -4 requirements.txt; cat requirements.lock.tmp; } > requirements.txt.new && mv requirements.txt.new requirements.txt
	rm -f requirements.lock.tmp

clean:
	rm -rf _build

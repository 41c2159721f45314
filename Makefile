# nanott: `make demo` and `make test` work on a fresh machine (they create .venv when no virtualenv is active).
ifdef VIRTUAL_ENV
PYTHON := python
NANOTT := nanott
STAMP := $(VIRTUAL_ENV)/.nanott-installed
else
PYTHON := .venv/bin/python
NANOTT := .venv/bin/nanott
STAMP := .venv/.nanott-installed
endif

.PHONY: demo test test-fast setup

demo: $(STAMP)
	$(NANOTT) explain examples/gemm.py --stop-after D3

test: $(STAMP)
	$(PYTHON) -m pytest -q

test-fast: $(STAMP)          # the edit-run loop: all but the C++ builds and the slow doc weaving
	$(PYTHON) -m pytest -q -m "not slow"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -n "$(VIRTUAL_ENV)" || test -x .venv/bin/python || python3 -m venv .venv
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $(STAMP)

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

.PHONY: demo test test-fast test-metal setup

demo: $(STAMP)
	$(NANOTT) explain examples/gemm.py --stop-after D3

test: $(STAMP)
	$(PYTHON) -m pytest -q

test-fast: $(STAMP)          # the edit-run loop: all but the C++ builds and the slow doc weaving
	$(PYTHON) -m pytest -q -m "not slow"

# the real-header tier: emitted C++ against the ttnn wheels of every supported release, fetched
# with pip into ~/.cache/nanott/wheels (or $NANOTT_WHEEL_CACHE) once; needs g++ with -m32 support
test-metal: $(STAMP)
	NANOTT_TEST_METAL=1 $(PYTHON) -m pytest -q tests/metal

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -n "$(VIRTUAL_ENV)" || test -x .venv/bin/python || python3 -m venv .venv
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $(STAMP)

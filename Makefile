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

.PHONY: demo test test-fast test-metal fuzz setup setup-torch

demo: $(STAMP)
	$(NANOTT) explain examples/gemm.py --stop-after D3

test: $(STAMP)
	$(PYTHON) -m pytest -q

test-fast: $(STAMP)          # the edit-run loop: all but the C++ builds, the browser, the course weaving and the README runs, on 2 workers
	OPENBLAS_NUM_THREADS=1 $(PYTHON) -m pytest -q -n 2 -m "not slow and not heavy"   # a BLAS thread per worker: idle OpenBLAS threads spin (20 s of CPU)

# the heavy tier: every example's protocol mutants and the kernel generator on fresh seeds
fuzz: $(STAMP)
	NANOTT_FRESH_SEEDS=1 $(PYTHON) -m pytest -q -m heavy

# the real-header tier: emitted C++ against the ttnn wheels of every supported release, fetched
# with pip into ~/.cache/nanott/wheels (or $NANOTT_WHEEL_CACHE) once; needs g++ with -m32 support
test-metal: $(STAMP)
	NANOTT_TEST_METAL=1 $(PYTHON) -m pytest -q tests/metal

setup: $(STAMP)

# optional: torch, for the tests that pass torch tensors (CI installs it; without it they skip). The
# CPU build: this project's machines keep its wheel on disk, where pip finds it; elsewhere give pip
# PyTorch's CPU wheel index. A plain `torch` from the index is a CUDA build of several GB.
setup-torch: $(STAMP)
	$(PYTHON) -m pip install -q 'torch==2.13.0+cpu'

$(STAMP): pyproject.toml
	test -n "$(VIRTUAL_ENV)" || test -x .venv/bin/python || python3 -m venv .venv
	$(PYTHON) -m pip install -q -e '.[dev]'
	touch $(STAMP)

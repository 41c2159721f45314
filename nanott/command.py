"""The `nanott` command's process: the CLI (nanott/cli.py) with the garbage collector set for a
short-lived compiler.

CPython's cyclic collector runs each time 700 more container objects exist than it last saw, and
every collection of its oldest generation walks every object alive. A compiler's process makes
many small objects (IR nodes, the ~150 classes of its languages, NumPy's and Typer's modules) and
frees nearly all of them by reference counting, so those walks find almost nothing. Here, before
anything is imported, the youngest generation is allowed 10,000 objects, and once the compiler is
imported everything it made is frozen (`gc.freeze`: the collector never walks it again; modules
live until exit anyway). Nothing else changes: the same app, arguments, output and exit codes
(`nanott explain examples/gemm.py --stop-after D3` spent 0.034-0.046 s CPU collecting garbage
without this, 0.012-0.013 s with it, measured with gc.callbacks; `python benchmarks/bench_startup.py`
times the command with and without it in one run).
Tests call `nanott.cli.app` in their own process, which keeps its collector as it was.

`nanott explain` also runs NumPy's BLAS on one thread unless the user chose a number
(OPENBLAS_NUM_THREADS, read when NumPy loads). Its interpreters multiply 32x32 tiles and small
blocks, below OpenBLAS's threading threshold; the one product above it (the reference's A @ B) then
leaves OpenBLAS's worker threads spinning on the other core: `nanott explain examples/gemm.py
--stop-after D3` spent 0.65-0.71 s CPU with them, 0.53-0.57 s without, printing the same bytes
(OpenBLAS splits a product over rows and columns, never over K, so each element sums in the same
order). The other commands keep NumPy's default: `nanott run` may multiply big matrices.
"""
from __future__ import annotations

import gc
import os
import sys

YOUNG = 10_000      # objects the youngest generation may hold before a collection (CPython: 700)


def main() -> None:
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])
    if sys.argv[1:2] == ["explain"]:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # before NumPy loads (the docstring)
    from nanott.cli import app
    gc.freeze()
    app(prog_name="nanott")

"""nanott: lower TileLang-style tile kernels to TT-Metalium, one small checked pass at a time.

From Python:

    import nanott
    program = nanott.lower(kernel, stop_after="D3")          # the L8 IR after D3
    nanott.run(kernel, A, B, C, level="L9")                  # simulate L9; writes C
    nanott.dump(program, "d3.json"); nanott.load("d3.json")  # IR as JSON, checked on load
    nanott.run_pass("D4", program)                           # one stage on a given program
    C = nanott.compile(kernel)(A, B)                         # callable, like TileLang's kernels

From the shell: `nanott explain examples/gemm.py --stop-after D3` (see `nanott --help`).
"""
from __future__ import annotations

from nanott import sum_order

sum_order.pin()                 # before anything imports NumPy (sum_order.py says why)

__all__ = ["lower", "run", "dump", "load", "run_pass", "compile", "__version__"]


def __getattr__(name: str):
    # Lazy, so `import nanott.language as T` in a kernel file does not load the whole compiler.
    if name == "__version__":
        from importlib.metadata import version
        return version("nanott")
    if name in ("lower", "run"):
        from nanott import api
        return getattr(api, name)
    if name in __all__:
        from nanott import notebook
        return getattr(notebook, name)
    raise AttributeError(f"module 'nanott' has no attribute {name!r}")

"""P0 parse: Python -> L0

Changes:   a TileLang-style `@T.prim_func` becomes an L0 grid kernel. The function's source is
           rewritten (control flow and binding only) and run once against its real globals and
           closure values: Python values fold to constants; block indices, loop variables, lets and
           loads stay symbolic. `T.copy` operands become explicit regions (a start and an int
           extent per dim); CUDA-only knobs become sorted `Attr`s on the kernel.
Preserves: the user's names (parameters, buffers, block and loop variables, lets) and, on every
           node, the file, line and column of the statement that made it.
Checks:    before any other work, front_checks: sizes positive and bounded, a kernel that writes
           something, no on-chip buffer read before it is written; warnings for copies wholly
           outside their tensor and output elements no block writes; each launch of a program of
           several (one per `with T.Kernel`) on its own.
Why:       every later pass and interpreter works on one small typed IR instead of Python, and
           every later diagnostic can still point at the user's line.
"""
from __future__ import annotations

from typing import Any

from nanott.front_checks import front_checks
from nanott.ir import launches_of
from nanott.language.prim_func import PrimFunc
from nanott.languages import l0
from nanott.target import DEFAULT_TARGET, Target


def parse(kernel: Any, target: Target = DEFAULT_TARGET) -> l0.Kernel | l0.Launches:
    """The L0 of a PrimFunc (or of a loader's LoadedKernel holding one): a Launches when it opens
    several T.Kernel blocks."""
    prim_func = getattr(kernel, "prim_func", kernel)
    if not isinstance(prim_func, PrimFunc):
        raise TypeError(f"P0 parse takes a @T.prim_func kernel, got {type(kernel).__name__}")
    kernel = prim_func.parse()
    for launch in launches_of(kernel):
        front_checks(launch)
    return kernel

"""What `T.print` can print, decided where the kernel says it (P0): an on-chip buffer (below), or a scalar.

A printed scalar is an expression over block indices, loop variables, lets and constants: `+ - *
/ // % min max`, comparisons and `and`/`or` (printed 1 or 0), `T.if_then_else`, `-x`, `abs(x)`
and casts to int32 or float32 (float32 values, as every level computes them). Every level and the
C++ compute it alike: NumPy's float32 arithmetic and C++'s `float` round the same operations the
same way. `-x` and `abs(x)` of a float become arithmetic L5's expressions have (`x * -1.0`, and
`if_then_else(x <= 0.0, 0.0 - x, x)`, which gives +0 for -0 as `abs` does), since from C2 on a
function of a value is a tile operation.

What stays refused (NT326), each for its reason: an element of a buffer (the print would read a
CB page outside the CB protocol); a transcendental function (exp, log, sqrt, ...: a data-movement
or compute core's scalar code has no math library nanott may rely on, and NumPy's results differ
from a C library's in the last bit); a cast to a narrow float (bfloat16, ...: the C++ would need
the rounding written out bit by bit); a float `//` or `%` (C++ has no such operator).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from nanott.ir import walk
from nanott.language.values import is_float
from nanott.languages import l0
from nanott.target import TILE

PRINTABLE_CASTS = ("int32", "float32")
SIGN_FUNCTIONS = ("neg", "abs")


def buffer_refusal(buffer: Any) -> str | None:
    """Why a buffer cannot be printed, or None: a buffer prints as its CB's tiles from C1 on
    (languages/printed.py), so it must be on chip, 2-D, and whole 32x32 tiles (no padding to hide)."""
    if buffer.scope == "dram":
        return f"of the DRAM tensor {buffer.label} (print the on-chip buffer it is copied into)"
    if len(buffer.shape) != 2 or any(n % TILE for n in buffer.shape):
        return (f"of {buffer.label}, {'x'.join(map(str, buffer.shape))}: only 2-D buffers of whole "
                f"{TILE}x{TILE} tiles print")
    return None


def refusal(value: Any) -> str | None:
    """Why a scalar cannot be printed (the words after `T.print`), or None when it can."""
    for x in walk(value):
        if isinstance(x, l0.Load):
            return "of a buffer element"
        if isinstance(x, l0.UnOp) and x.op not in SIGN_FUNCTIONS:
            return f"of {x.op}(...), a transcendental function of a scalar"
        if isinstance(x, l0.Cast) and x.dtype not in PRINTABLE_CASTS:
            return f"of a cast to {x.dtype}"
        if isinstance(x, l0.BinOp) and x.op in ("//", "%") and is_float(x):
            return "of a float // or %"
    return None


def sign_free(e: Any) -> Any:
    """`e` with `-x` and `abs(x)` written as the arithmetic every later level has."""
    if isinstance(e, l0.UnOp):
        x = sign_free(e.value)
        x = x if is_float(x) else l0.Cast("float32", x, loc=e.loc)     # both give a float32, as at L0
        zero = l0.Const(0.0, "float32", loc=e.loc)
        if e.op == "neg":
            return l0.BinOp("*", x, l0.Const(-1.0, "float32", loc=e.loc), loc=e.loc)
        return l0.Select(l0.BinOp("<=", x, zero, loc=e.loc), l0.BinOp("-", zero, x, loc=e.loc), x, loc=e.loc)
    if isinstance(e, (l0.BinOp, l0.Cast, l0.Select)):
        return dataclasses.replace(e, **{f.name: sign_free(getattr(e, f.name)) for f in dataclasses.fields(e)
                                         if f.name != "loc" and not isinstance(getattr(e, f.name), str)})
    return e

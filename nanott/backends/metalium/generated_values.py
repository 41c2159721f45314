"""The C++ of a value the reader generates element by element (GenerateToCb: a causal mask, a decay
mask, the 0/1 matrix that spreads packed bytes): signed int32 index arithmetic with Python's
meaning, comparisons, selects, float constants and the functions of GENERATED_FUNCTIONS.

`//` and `%` are C's `/` and `%` where both operands are >= 0 for every value of their variables
(indices are), and Python's floor division and modulo otherwise; a cast of an index to a narrower
integer dtype is C's conversion, as NumPy's astype.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from nanott.backends.metalium.api import GENERATED_FUNCTIONS
from nanott.ir import NOLOC, CheckError
from nanott.languages import l9
from nanott.printing import num

ELEMENT_TYPES = {"int32": "int32_t", "uint32": "uint32_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "uint8_t"}
VALUE_OPS = {"//": "/", "and": "&&", "or": "||"}


def generated_value(x: Any, index: Callable[[Any], str]) -> str:
    """x as C++; `index` prints a variable or core argument as the kernel names it."""
    def value(y: Any) -> str:
        return generated_value(y, index)
    match x:
        case l9.Const(v) if isinstance(v, float):
            return float_literal(v)
        case l9.Const(v):
            return f"int32_t{{{v}}}"
        case l9.Var() | l9.CoreArg():
            return f"static_cast<int32_t>({index(x)})"
        case l9.Select(cond, then, other):
            return f"({value(cond)} ? {value(then)} : {value(other)})"
        case l9.BinOp(op, a, b) if op in ("min", "max"):
            return f"std::{op}({value(a)}, {value(b)})"
        case l9.BinOp("//" | "%" as op, a, b) if not (non_negative(a) and non_negative(b)):
            m = f"((({value(a)} % {value(b)}) + {value(b)}) % {value(b)})"
            return m if op == "%" else f"(({value(a)} - {m}) / {value(b)})"     # Python's floor
        case l9.BinOp(op, a, b):
            return f"({value(a)} {VALUE_OPS.get(op, op)} {value(b)})"
        case l9.Cast(dtype, a) if dtype in ELEMENT_TYPES:       # an index cast to a narrower integer
            return f"static_cast<int32_t>(static_cast<{ELEMENT_TYPES[dtype]}>({value(a)}))"
        case l9.UnOp(op, a) if op in GENERATED_FUNCTIONS:
            return f"{GENERATED_FUNCTIONS[op]}(static_cast<float>({value(a)}))"
    raise CheckError(f"G1 cannot print the generated value {x} (at {getattr(x, 'loc', NOLOC)})")


def float_literal(x: float) -> str:
    """A C++ float literal that reads back as the same float32."""
    v = float(np.float32(x))
    if np.isnan(v):
        return '__builtin_nanf("")'
    if np.isinf(v):
        return ("-" if v < 0 else "") + "__builtin_huge_valf()"
    text = num(v)
    return text + ("f" if re.search(r"[.e]", text) else ".0f")


def non_negative(x: Any) -> bool:
    """Whether an index expression is >= 0 for every value of its variables (indices are): then C's
    / and % are Python's // and %."""
    match x:
        case l9.Const(v):
            return v >= 0
        case l9.Var() | l9.CoreArg():
            return True
        case l9.BinOp("+" | "*" | "//" | "%", a, b):
            return non_negative(a) and non_negative(b)
    return False

"""The scalar math a kernel writes inside `T.Parallel` (docs/reference.md §T8): `T.exp`, `T.exp2`, `T.log`,
`T.log2`, `T.sqrt`, `T.rsqrt`, `T.abs`, `T.sigmoid`, `T.tanh`, the binary `T.max` and `T.min`, `T.clamp(x, lo, hi)`, and the casts
`T.cast(value, dtype)` and `T.Cast(dtype, value)`, and the guarded select
`T.if_then_else(cond, a, b)` over comparisons of indices (a causal mask).

On run-time values they build L0 expressions (UnOp, BinOp min/max, Cast). On Python numbers they
fold, so they may be used outside a kernel (`scale = T.exp2(x)` at module level): `T.max`/`T.min`
as Python does (sizes such as `T.min(block, N)` stay ints), the functions and casts in float32,
with the arithmetic the kernel itself would do (l0_interp.UNARY, l0_interp.cast).
"""
from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from nanott.language.signatures import closed
from nanott.diagnostics import NanottError
from nanott.language.values import (NARROW_INTS, Cond, Sym, Tracing, binop, bits, canonical, narrow_int,
                                   normalize_dtype, to_expr)
from nanott.dtypes import LOWERED
from nanott.language import float_bits
from nanott.languages import l0
from nanott.languages.l0_interp import UNARY
from nanott.languages.l0_interp import cast as l0_cast
from nanott.value_bounds import decided, pruned

__all__ = ["exp", "exp2", "log", "log2", "clamp", "sqrt", "rsqrt", "abs", "sigmoid", "tanh", "max", "min", "cast",
           "Cast", "if_then_else"]


def unary(op: str, x: Any) -> Any:
    """`op(x)`: an L0 UnOp of a run-time value, a Python float for a number."""
    if _number(x):
        return float(UNARY[op](np.float32(x)))
    return Sym(l0.UnOp(op, to_expr(x), loc=Tracing.loc))


@closed()
def exp(x, *, span=None):
    """e ** x (TVM's `span=` keyword is accepted and dropped, as by every intrinsic here)."""
    return unary("exp", x)


@closed()
def exp2(x, *, span=None):
    """2 ** x."""
    return unary("exp2", x)


@closed()
def log(x, *, span=None):
    """The natural logarithm."""
    return unary("log", x)


@closed()
def log2(x, *, span=None):
    """The base-2 logarithm (online softmax's log-sum-exp in base 2)."""
    return unary("log2", x)


@closed()
def sqrt(x, *, span=None):
    return unary("sqrt", x)


@closed()
def rsqrt(x, *, span=None):
    """1 / sqrt(x)."""
    return unary("rsqrt", x)


@closed()
def abs(x, *, span=None):                                       # noqa: A001 (TileLang's name)
    return unary("abs", x)


@closed()
def sigmoid(x, *, span=None):
    """1 / (1 + exp(-x))."""
    return unary("sigmoid", x)


@closed()
def tanh(x, *, span=None):
    return unary("tanh", x)


def _number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@closed()
def max(a, b, *, span=None):                                         # noqa: A001 (TileLang's name)
    """The larger of two values; ReLU is `T.max(x, 0)`."""
    return builtins.max(a, b) if _number(a) and _number(b) else binop("max", a, b)


@closed()
def min(a, b, *, span=None):                                         # noqa: A001 (TileLang's name)
    """The smaller of two values."""
    return builtins.min(a, b) if _number(a) and _number(b) else binop("min", a, b)


@closed()
def clamp(x, lo, hi):
    """x limited to [lo, hi]: T.min(T.max(x, lo), hi), as TileLang defines it."""
    return min(max(x, lo), hi)


@closed()
def cast(value, dtype, *, span=None):
    """`value` rounded to `dtype` where it stands (TileLang's `T.cast(value, dtype)`, value first)."""
    if canonical(dtype) in NARROW_INTS:                             # an integer's low 16 bits
        return narrow_int(canonical(dtype), value)
    if _number(value):
        return float(l0_cast(np.float32(value), normalize_dtype(dtype)))
    return Sym(l0.Cast(normalize_dtype(dtype), to_expr(value), loc=Tracing.loc))


@closed()
def Cast(dtype, value, *, span=None):                                # noqa: N802 (TVM's expression class)
    """TVM's `T.Cast(dtype, value)`, dtype first: the same as `T.cast(value, dtype)`."""
    return cast(value, dtype)


@closed()
def reinterpret(dtype, value, *, span=None):
    """`T.reinterpret(dtype, x)` (TVM's `tirx.reinterpret`) of an integer: x's low bits read as
    `dtype`. To int8, the low byte as two's complement, ((x & 255) ^ 128) - 128 (a nibble shifted
    to the top of a byte, then `>> 4`: int4 sign extension); to uint8, x & 255; to int32, x (every
    integer computes on int32). To float16, the value the bits encode, as arithmetic on their
    fields (float_bits.py); to another float, and a float's bits read as an int, NT301."""
    name = normalize_dtype(dtype)
    if name in LOWERED and LOWERED[name].kind == "float":             # float_bits.py
        if name != "float16":
            raise float_bits.refuse(name)
        if _number(value) and not isinstance(value, int):
            raise float_bits.refuse(name)
        return float_bits.float16_from_bits(value)
    if name not in ("int8", "uint8", "int32"):
        raise NanottError("NT301", f"T.reinterpret to {name} is not supported by nanott",
                          hint="reinterpret an integer as int8, uint8 or int32")
    if _number(value) and not isinstance(value, int):
        raise NanottError("NT301", "T.reinterpret of a float constant is not supported by nanott",
                          hint="reinterpret an integer as int8, uint8 or int32")
    low = bits("&", value, 255)                    # NT301 unless value is an integer
    if name == "int32":
        return value
    return low if name == "uint8" else binop("-", bits("^", low, 128), 128)


def if_then_else(cond, then, other):
    """`then` where `cond` holds, `other` elsewhere; a Python bool picks one when the kernel is
    parsed. TileLang's causal mask: `T.if_then_else(bx * bm + i >= k * bn + j, 0, -T.infinity(dt))`."""
    if not isinstance(cond, (Cond, Sym)):
        return then if cond else other
    test = pruned(to_expr(cond), Tracing.ranges)           # `j < n` over a loop of j < n: always
    if (fixed := decided(test, Tracing.ranges)) is not None:
        return then if fixed else other
    return Sym(l0.Select(test, to_expr(then), to_expr(other), loc=Tracing.loc))

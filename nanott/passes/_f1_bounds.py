"""Interval bounds of index expressions, for F1: the least and greatest value an index takes over
the ranges its loops and lets give its variables, so F1 can check it against a CB's pages or the
DST's tiles without running the kernel.

`+ - * min max` combine the corners of their operands' intervals; `//` by a positive constant
divides them; `%` by a positive constant m is at most m - 1, or, when every coefficient of the
dividend is a multiple of g and g divides m, one of r, r + g, .., m - g + r (r: the dividend's
constant modulo g), so `(sb * 4) % 8` is 0 or 4.
"""
from __future__ import annotations

from math import gcd
from typing import Any

from nanott.languages import l9
from nanott.passes._affine import affine


def bound(e: Any, env: dict[str, tuple[int, int] | None]) -> tuple[int, int] | None:
    """The least and greatest value of an index expression (None when it cannot be bounded)."""
    if isinstance(e, l9.Const) and isinstance(e.value, int):
        return e.value, e.value
    if isinstance(e, l9.Var):
        return env.get(e.name)
    if isinstance(e, l9.Select):              # a guard's extent, if_then_else(k < n - 1, 1, 0)
        a, b = bound(e.then, env), bound(e.other, env)
        taken = decide(e.cond, env)
        if taken is not None:
            return a if taken else b
        return None if a is None or b is None else (min(a[0], b[0]), max(a[1], b[1]))
    if not isinstance(e, l9.BinOp):
        return None
    a, b = bound(e.lhs, env), bound(e.rhs, env)
    if a is None or b is None:
        return None
    if e.op in ("+", "-", "*", "min", "max"):
        f = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
             "min": min, "max": max}[e.op]
        corners = [f(x, y) for x in a for y in b]
        return min(corners), max(corners)
    if e.op in ("//", "%") and b[0] == b[1] and b[0] > 0 and a[0] >= 0:
        if e.op == "//":
            return a[0] // b[0], a[1] // b[0]
        g, r = stride(e.lhs)
        if g > 1 and b[0] % g == 0:           # lhs = r (mod g), g | m: lhs % m is one of r, r + g, .., m - g + r
            return r, max(r, min(a[1], b[0] - g + r))
        return 0, min(a[1], b[0] - 1)
    return None


COMPARE = {"<": lambda a, b: (a[1] < b[0], a[0] >= b[1]), "<=": lambda a, b: (a[1] <= b[0], a[0] > b[1]),
           ">": lambda a, b: (a[0] > b[1], a[1] <= b[0]), ">=": lambda a, b: (a[0] >= b[1], a[1] < b[0])}


def decide(c: Any, env: dict[str, tuple[int, int] | None]) -> bool | None:
    """True or False when a comparison holds for every value of its operands' ranges, or for none."""
    if not (isinstance(c, l9.BinOp) and c.op in COMPARE):
        return None
    a, b = bound(c.lhs, env), bound(c.rhs, env)
    if a is None or b is None:
        return None
    always, never = COMPARE[c.op](a, b)
    return True if always else False if never else None


def stride(e: Any) -> tuple[int, int]:
    """(g, r): every value of the integer expression e is r modulo g (g = 0: e is the constant r).
    `(sb * 4) % 8` then reaches 4, not 7, and a 1x4 matmul_block at it fits an 8-tile row."""
    terms, const = affine(e)
    g = gcd(*(c for _, c in terms))
    return g, const % g if g else const

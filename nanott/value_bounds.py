"""The least and greatest value an integer index expression can take: interval analysis.

`interval` (passes/_padding.py) bounds affine sums of variables; the index inputs (index_roles.py)
need a little more of what kernels write in an index: `x // c` and `x % c` by a positive constant
(`(k * block_N) % block_size` is in 0..block_size-1 whatever k is), `min`, `max`, a product of two
bounded parts, a select (either branch), and an element of an integer tensor whose values are known
to lie in a range (`values`). Anything else is unknown (None), never guessed. `decided` says when
a comparison of such expressions is true, or false, over all their values (P0's `if`s).
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l0
from nanott.passes._affine import affine

Range = tuple[int, int]


def bounds(e: Any, ranges: dict[str, Range], values: dict[str, Range] | None = None) -> Range | None:
    """(least, greatest) of e over its variables' `ranges` and its loaded elements' `values`."""
    terms, lo = affine(e)
    hi = lo
    for atom, coef in terms:
        r = atom_bounds(atom, ranges, values or {})
        if r is None:
            return None
        a, b = coef * r[0], coef * r[1]
        lo, hi = lo + min(a, b), hi + max(a, b)
    return lo, hi


def atom_bounds(x: Any, ranges: dict[str, Range], values: dict[str, Range]) -> Range | None:
    match x:
        case l0.Var(name):
            return ranges.get(name)
        case l0.Load(buffer, _):
            return values.get(buffer)
        case l0.Cast(_, value):
            return bounds(value, ranges, values)
        case l0.Select(_, then, other):
            t, o = bounds(then, ranges, values), bounds(other, ranges, values)
            return None if t is None or o is None else (min(t[0], o[0]), max(t[1], o[1]))
        case l0.BinOp("%", _, l0.Const(int() as m)) if m > 0:
            return 0, m - 1                                      # floor modulo: whatever the left side
        case l0.BinOp(op, lhs, rhs) if op in ("//", "min", "max", "*"):
            a, b = bounds(lhs, ranges, values), bounds(rhs, ranges, values)
            if a is None or b is None:
                return None
            if op == "//":
                return (a[0] // b[0], a[1] // b[0]) if b[0] == b[1] and b[0] > 0 else None
            if op in ("min", "max"):
                f = min if op == "min" else max
                return f(a[0], b[0]), f(a[1], b[1])
            corners = [p * q for p in a for q in b]
            return min(corners), max(corners)
    return None


CMP = {"<": lambda a, b: (a[1] < b[0], a[0] >= b[1]), "<=": lambda a, b: (a[1] <= b[0], a[0] > b[1]),
       ">": lambda a, b: (a[0] > b[1], a[1] <= b[0]), ">=": lambda a, b: (a[0] >= b[1], a[1] < b[0]),
       "==": lambda a, b: (a[0] == a[1] == b[0] == b[1], a[1] < b[0] or b[1] < a[0]),
       "!=": lambda a, b: (a[1] < b[0] or b[1] < a[0], a[0] == a[1] == b[0] == b[1])}


def decided(c: Any, ranges: dict[str, Range]) -> bool | None:
    """True or False when the condition c holds for every value, or for none, of its variables in
    their `ranges` (`i < 32` over a T.Parallel(32) variable i); None when that is not known."""
    match c:
        case l0.BinOp("and" | "or" as op, lhs, rhs):
            a, b = decided(lhs, ranges), decided(rhs, ranges)
            if op == "and":
                return False if False in (a, b) else True if a is b is True else None
            return True if True in (a, b) else False if a is b is False else None
        case l0.BinOp(op, lhs, rhs) if op in CMP:
            a, b = bounds(lhs, ranges), bounds(rhs, ranges)
            if a is None or b is None:
                return None
            always, never = CMP[op](a, b)
            return True if always else False if never else None
    return None


def pruned(c: Any, ranges: dict[str, Range]) -> Any:
    """c without the operands of its `and`s that hold for every value of their variables
    (`(mask[j] != 0) & (j < 128)` over a T.Parallel(64) j is `mask[j] != 0`); c itself when none do."""
    if isinstance(c, l0.BinOp) and c.op == "and":
        a, b = pruned(c.lhs, ranges), pruned(c.rhs, ranges)
        if decided(a, ranges) is True:
            return b
        if decided(b, ranges) is True:
            return a
        return c if (a, b) == (c.lhs, c.rhs) else l0.BinOp("and", a, b, loc=c.loc)
    return c

"""Affine index analysis: an index expression as a sum of atoms times integer coefficients plus an
integer constant, and exact division of such a sum by a tile size; and lets put in place of their
names (`q_idx = bx * bm + i` inside a T.Parallel), so an index is analysed as what it computes.

An atom is any subexpression that is not `+`, `-`, `*` by a constant, `//` by a constant dividing
every coefficient and the constant (a packed row's start, `(k * 64) // 2`), or an integer constant: a
loop variable, a let such as `bx`, a core argument, or an opaque `(start + b) % 4`. Atoms are
compared by value (frozen nodes, locations ignored) and kept in order of first appearance, so the
rebuilt expression prints the same every time.
"""
from __future__ import annotations

import math
from typing import Any

from nanott.ir import field_names, replace
from nanott.languages.l0 import BinOp, Const, Var

Terms = list[tuple[Any, int]]          # (atom, coefficient), in order of first appearance


def affine(e: Any) -> tuple[Terms, int]:
    """(terms, constant) with e == sum(coef * atom) + constant."""
    if isinstance(e, Const) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return [], e.value
    if isinstance(e, BinOp) and e.op in ("+", "-"):
        (lt, lc), (rt, rc) = affine(e.lhs), affine(e.rhs)
        sign = 1 if e.op == "+" else -1
        return _add(lt, [(a, sign * c) for a, c in rt]), lc + sign * rc
    if isinstance(e, BinOp) and e.op == "*":
        (lt, lc), (rt, rc) = affine(e.lhs), affine(e.rhs)
        if not rt:
            return [(a, c * rc) for a, c in lt], lc * rc
        if not lt:
            return [(a, c * lc) for a, c in rt], lc * rc
    if isinstance(e, BinOp) and e.op == "//" and isinstance(e.rhs, Const) and isinstance(e.rhs.value, int) \
            and e.rhs.value > 0:                   # (64 * k) // 2 is 32 * k: every part divides exactly
        terms, const = affine(e.lhs)
        if all(c % e.rhs.value == 0 for _, c in terms) and const % e.rhs.value == 0:
            return [(a, c // e.rhs.value) for a, c in terms], const // e.rhs.value
    return [(e, 1)], 0


def _add(terms: Terms, more: Terms) -> Terms:
    out = list(terms)
    for atom, coef in more:
        for i, (a, c) in enumerate(out):
            if a == atom:
                out[i] = (a, c + coef)
                break
        else:
            out.append((atom, coef))
    return [(a, c) for a, c in out if c != 0]


def divide(e: Any, by: int, multiples: dict[str, int] | None = None) -> Any | None:
    """e / by as an expression, when every coefficient and the constant are multiples of `by`; an
    atom that is a let known to hold a multiple of m (`multiples`: `i_s = Index[t] * 32`, m = 32)
    counts as m times `(atom // m)`, exact."""
    terms, const = affine(e)
    out = []
    for atom, c in terms:
        m = (multiples or {}).get(atom.name, 1) if isinstance(atom, Var) else 1
        if c % by and m > 1 and c * m % by == 0:
            atom, c = BinOp("//", atom, Const(m, "int32")), c * m
        elif c % by and (rest := remainder_of_multiple(atom, by, multiples)) is not None:
            atom, c = rest, c * by
        out.append((atom, c))
    if const % by or any(c % by for _, c in out):
        return None
    return build([(a, c // by) for a, c in out], const // by)


def remainder_of_multiple(atom: Any, by: int, multiples: dict[str, int] | None) -> Any | None:
    """(x % m) / by as `(x / by) % (m / by)` when by divides x and m (a view's offset into a dim:
    `(k * 32) % 64` is 32 times `k % 2`); else None."""
    if not (isinstance(atom, BinOp) and atom.op == "%" and isinstance(atom.rhs, Const)
            and atom.rhs.value % by == 0):
        return None
    quotient = divide(atom.lhs, by, multiples)
    if quotient is None or atom.rhs.value == by:               # x % 1 is 0
        return None if quotient is None else Const(0, "int32")
    return BinOp("%", quotient, Const(atom.rhs.value // by, "int32"))


def multiple_of(e: Any) -> int:
    """The largest m such that e is m times an integer by its affine form (1 when none is known)."""
    terms, const = affine(e)
    return math.gcd(const, *(c for _, c in terms)) or 1


def build(terms: Terms, const: int) -> Any:
    """The expression sum(coef * atom) + const, with unit coefficients and zero terms left out."""
    out = None
    for atom, coef in terms:
        term = atom if abs(coef) == 1 else BinOp("*", atom, Const(abs(coef), "int32"))
        if out is None:
            out = term if coef > 0 else BinOp("-", Const(0, "int32"), term)
        else:
            out = BinOp("+" if coef > 0 else "-", out, term)
    if out is None:
        return Const(const, "int32")
    if const:
        out = BinOp("+" if const > 0 else "-", out, Const(abs(const), "int32"))
    return out


def subst(x: Any, values: dict[str, Any]) -> Any:
    """x with every Var named in `values` replaced by its value."""
    if isinstance(x, Var) and x.name in values:
        return values[x.name]
    if isinstance(x, tuple):
        return tuple(subst(y, values) for y in x)
    names = field_names(type(x))
    if names is None:
        return x
    return replace(x, **{n: subst(getattr(x, n), values) for n in names})

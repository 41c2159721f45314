"""P0a's tensor rows: a block of m rows that names its rows as rows of the tensor.

TileLang's grouped cast masks the rows past a group's size inside a T.Parallel over the block's
rows (`T.if_then_else(row * blk_m + i < batch_sizes[bg], ...)`). The expression `b * m + i + c`
(b the block index, i the loop's row, c of no loop variable and no value of b) is the tensor row
of row i; merged blocks number the same row `b * 32 + i + c`. `plan` is _p0a_row_blocks's
RowBlocks (var, rows, buffers, varying).
"""
from __future__ import annotations

from typing import Any

from nanott.ir import field_names, replace, walk
from nanott.languages import l0
from nanott.passes._affine import affine


def depends_on(body: tuple, b: str) -> frozenset[str]:
    """b and the lets and loop variables whose values depend on it, directly or through others."""
    names, grew = {b}, True
    while grew:
        found = {s.var for s in walk(body) if isinstance(s, (l0.Let, l0.For)) and s.var not in names
                 and uses_any(s.value if isinstance(s, l0.Let) else s.extent, names)}
        names, grew = names | found, bool(found)
    return frozenset(names)


def map_tensor_rows(k: l0.Kernel, plan: Any, f) -> l0.Kernel:
    """k with each tensor row `b * m + i + c` of a T.Parallel over rows replaced by
    f(parallel, terms, const) (terms and const of its affine form)."""
    def rows_in(x: Any, p: l0.Parallel) -> Any:
        if isinstance(x, tuple):
            return tuple(rows_in(y, p) for y in x)
        names = field_names(type(x))
        if names is None:
            return x
        if isinstance(x, l0.BinOp) and (form := tensor_row(x, p, plan)) is not None:
            return f(p, *form)
        return replace(x, **{n: rows_in(getattr(x, n), p) for n in names})

    def visit(x: Any) -> Any:
        if isinstance(x, tuple):
            return tuple(visit(y) for y in x)
        if isinstance(x, l0.Parallel) and over_rows(x, plan):
            return replace(x, body=rows_in(x.body, x))
        names = field_names(type(x))
        return x if names is None else replace(x, **{n: visit(getattr(x, n)) for n in names})
    return replace(k, body=visit(k.body))


def over_rows(p: l0.Parallel, plan: Any) -> bool:
    """A T.Parallel whose first variable runs over the rows of the row buffers it touches."""
    touched = {x.buffer for x in walk(p.body) if isinstance(x, (l0.Load, l0.Store))}
    return p.extents[0] == plan.rows and bool(touched & plan.buffers)


def tensor_row(e: Any, p: l0.Parallel, plan: Any) -> tuple | None:
    """The affine form of e when e is `b * m + i + c` (i the loop's row, c of no loop variable and
    no value of b), else None."""
    terms, const = affine(e)
    b, i = (l0.Var(plan.var), plan.rows), (l0.Var(p.vars[0]), 1)
    rest = [a for a, c in terms if (a, c) not in (b, i)]
    if b in terms and i in terms and not any(uses_any(a, plan.varying | set(p.vars)) for a in rest):
        return terms, const
    return None


def uses_any(x: Any, names: set[str] | frozenset[str]) -> bool:
    return any(isinstance(v, l0.Var) and v.name in names for v in walk(x))

"""P0b's pick: one element of a DRAM tensor, read by no variable of a T.Parallel, as a vector holding
it in every element (P0b's docstring): the copy of the tile row that holds it, a one-hot mask, their
product and a sum along the mask's one-hot dim. A column vector (a sum along each row), or a row vector
where the loop's vectors lie along tile rows (_p0b_vector_way.py), so that C2 needs no transpose.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l0
from nanott.passes._affine import subst
from nanott.passes._p0b_dram_copies import copy
from nanott.passes._p0b_vector_way import row_wise
from nanott.target import TILE


def pick(st: Any, e: l0.Load, p: l0.Parallel) -> str:
    """A column vector of p's first extent holding the element e in every row (see the docstring)."""
    *outer, at = subst(e.indices, st.lets)
    loc, rows = e.loc, p.extents[0]
    c = lambda v: l0.Const(v, "int32", loc=loc)            # noqa: E731
    f = lambda v: l0.Const(v, "float32", loc=loc)          # noqa: E731
    tile = st.alloc(f"{e.buffer}_row", (TILE,), st.dram[e.buffer].dtype, "shared", loc)
    start = l0.BinOp("*", l0.BinOp("//", at, c(TILE), loc=loc), c(TILE), loc=loc)
    across = len(p.vars) == 1 and row_wise(st.kernel, p)     # its vectors lie along tile rows
    block = (TILE, rows) if across else (rows, TILE)
    mask, picked, elem = (st.alloc(f"{e.buffer}_{n}", shape, "float32", "fragment", loc)
                          for n, shape in (("mask", block), ("picked", block), ("elem", (rows,))))
    r, col = st.names.fresh("r"), st.names.fresh("c")
    ij = (l0.Var(col, loc=loc), l0.Var(r, loc=loc)) if across else (l0.Var(r, loc=loc), l0.Var(col, loc=loc))
    at_col = l0.BinOp("==", l0.Var(col, loc=loc), l0.BinOp("%", at, c(TILE), loc=loc), loc=loc)
    vars_ = tuple(v.name for v in ij)
    st.before += [
        copy(tile, (TILE,), e.buffer, (*outer, start), (*(1 for _ in outer), TILE), loc, out=False),
        l0.Parallel(vars_, block, (l0.Store(mask, ij, l0.Select(at_col, f(1.0), f(0.0), loc=loc),
                                            loc=loc),), loc=loc),
        l0.Parallel(vars_, block, (l0.Store(picked, ij, l0.BinOp(
            "*", l0.Load(mask, ij, loc=loc), l0.Load(tile, (l0.Var(col, loc=loc),), loc=loc), loc=loc),
            loc=loc),), loc=loc),
        l0.Reduce("sum", picked, elem, 0 if across else 1, True, loc=loc)]
    return elem

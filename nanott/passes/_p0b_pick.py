"""P0b's pick: one element of a DRAM tensor, read by no variable of a T.Parallel, as a vector holding
it in every element (P0b's docstring): the copy of the tile row that holds it, a one-hot mask, their
product and a sum along the mask's one-hot dim. A column vector (a sum along each row), or a row vector
where the loop's vectors lie along tile rows (_p0b_vector_way.py), so that C2 needs no transpose.

The shift is the same for a run of elements from a start read from DRAM (`w[m_start + i]`, fused
MoE's routing weight per row, m_start a group's offset: no multiple of 32): the run lies in two tile
rows, both copied (the second at the tensor's last tile row when the first is its last: its mask is
then all zeros), and row r's one-hot mask is 1 at the column of element start + r, in whichever of
the two it lies. Each row of the product has one nonzero, so the sum is that element, exactly.
A run that starts past the tensor's end (a block of fused MoE's routing with no rows: every element
of it masked by the kernel's own guard, `if i < actual_rows`) copies the last tile row instead,
with masks of zeros: the reader reads no page outside the tensor, and the run holds zeros.

A pick's row, mask and product are used up within it, so picks share them (by tensor, role and
shape: StageDramElements.reused); each pick of one T.Parallel has a vector of its own, and loops
after it reuse those: a combine that reads one element per loop over the splits needs four
circular buffers for its picks, not four per pick.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l0
from nanott.passes._affine import subst
from nanott.passes._p0b_dram_copies import copy
from nanott.passes._p0b_vector_way import row_wise
from nanott.target import TILE


def pick(st: Any, e: l0.Load, p: l0.Parallel) -> str:
    """A column vector of p's first extent holding the element e in every row (see the docstring);
    the tile row along the dim another launch moves lines of the tensor along (`st.line_dims`:
    glse[bz, hid, k], written by the split kernel in columns over heads, read along heads), else
    along its last dim."""
    index = subst(e.indices, st.lets)
    return picked_vector(st, e, p, index, st.line_dims.get(e.buffer, len(index) - 1), p.extents[0], False)


def shift(st: Any, e: l0.Load, p: l0.Parallel, outer: tuple, start: l0.Expr, rows: int) -> str:
    """A vector of `rows` (at most 32) whose element r is the tensor's element start + r along its last
    dim (the others at `outer`), start a value read from DRAM (see the docstring)."""
    return picked_vector(st, e, p, (*outer, start), len(outer), rows, True)


def picked_vector(st: Any, e: l0.Load, p: l0.Parallel, index: tuple, dim: int, rows: int, moving: bool) -> str:
    """The pick (moving false: the element at `index` in every row) or the shift (element at + r in
    row r, at = index[dim]), from tile rows along `dim` of the tensor."""
    loc = e.loc
    at = index[dim]
    line = lambda start: tuple(start if d == dim else x for d, x in enumerate(index))     # noqa: E731
    ones = tuple(TILE if d == dim else 1 for d in range(len(index)))
    c = lambda v: l0.Const(v, "int32", loc=loc)            # noqa: E731
    f = lambda v: l0.Const(v, "float32", loc=loc)          # noqa: E731
    dtype = st.dram[e.buffer].dtype
    tile = st.reused((e.buffer, "row", 0), f"{e.buffer}_row", (TILE,), dtype, "shared", loc)
    last = -(-st.dram[e.buffer].shape[dim] // TILE) - 1      # the tensor's last tile row along dim
    first = l0.BinOp("//", at, c(TILE), loc=loc)
    if moving:                                               # a run past the end: the last row, masked off
        first = l0.BinOp("min", first, c(last), loc=loc)
    start = l0.BinOp("*", first, c(TILE), loc=loc)
    across = len(p.vars) == 1 and row_wise(st.kernel, p)     # its vectors lie along tile rows
    block = (TILE, rows) if across else (rows, TILE)
    mask, picked = (st.reused((e.buffer, n, 0, block, across), f"{e.buffer}_{n}", block, "float32", "fragment", loc)
                    for n in ("mask", "picked"))
    elem = st.reused((e.buffer, "elem", st.picks_here, rows, across), f"{e.buffer}_elem", (rows,), "float32",
                     "fragment", loc)
    st.picks_here += 1
    r, col = st.names.fresh("r"), st.names.fresh("c")
    ij = (l0.Var(col, loc=loc), l0.Var(r, loc=loc)) if across else (l0.Var(r, loc=loc), l0.Var(col, loc=loc))
    want = l0.BinOp("%", at, c(TILE), loc=loc)
    if moving:                                               # row r wants element at + r
        want = l0.BinOp("+", want, l0.Var(r, loc=loc), loc=loc)
    at_col = l0.BinOp("==", l0.Var(col, loc=loc), want, loc=loc)
    if moving:
        at_col = l0.BinOp("and", at_col, l0.BinOp("<=", l0.BinOp("//", at, c(TILE), loc=loc), c(last), loc=loc),
                          loc=loc)
    vars_ = tuple(v.name for v in ij)
    one = lambda cond: l0.Select(cond, f(1.0), f(0.0), loc=loc)     # noqa: E731
    value = l0.BinOp("*", l0.Load(mask, ij, loc=loc), l0.Load(tile, (l0.Var(col, loc=loc),), loc=loc), loc=loc)
    reads = [copy(tile, (TILE,), e.buffer, line(start), ones, loc, out=False)]
    masks = [l0.Parallel(vars_, block, (l0.Store(mask, ij, one(at_col), loc=loc),), loc=loc)]
    if moving:                                               # the tile row after, or the last one
        row2 = l0.BinOp("min", l0.BinOp("+", l0.BinOp("//", at, c(TILE), loc=loc), c(1), loc=loc), c(last), loc=loc)
        tile2 = st.reused((e.buffer, "row", 1), f"{e.buffer}_row", (TILE,), dtype, "shared", loc)
        mask2 = st.reused((e.buffer, "mask", 1, block, across), f"{e.buffer}_mask", block, "float32", "fragment", loc)
        beyond = l0.BinOp("and", l0.BinOp("==", l0.BinOp("+", l0.Var(col, loc=loc), c(TILE), loc=loc), want, loc=loc),
                          l0.BinOp("<", l0.BinOp("//", at, c(TILE), loc=loc), c(last), loc=loc), loc=loc)
        reads.append(copy(tile2, (TILE,), e.buffer, line(l0.BinOp("*", row2, c(TILE), loc=loc)), ones, loc, out=False))
        masks.append(l0.Parallel(vars_, block, (l0.Store(mask2, ij, one(beyond), loc=loc),), loc=loc))
        value = l0.BinOp("+", value, l0.BinOp("*", l0.Load(mask2, ij, loc=loc),
                                              l0.Load(tile2, (l0.Var(col, loc=loc),), loc=loc), loc=loc), loc=loc)
    st.before += [*reads, *masks, l0.Parallel(vars_, block, (l0.Store(picked, ij, value, loc=loc),), loc=loc),
                  l0.Reduce("sum", picked, elem, 0 if across else 1, True, loc=loc)]
    return elem

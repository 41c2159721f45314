"""A gathered block (a RowGather: a convolution's im2col, nanott/row_gather.py), as D3 lowers it
for the reader: zeros written into the whole block when some rows may not be there, then per block
row its source row and, where its condition holds, one noc_async_read_row per tile column into that
row of its slot (the rows of a window read from a data row, D3's `window`, are moved the same way).
`d3` is the D3 rewriter, for its names, tensors and expressions.
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l7, l8
from nanott.passes._affine import subst
from nanott.target import TILE


def gathered(d3: Any, s: l7.TileSlice, cb: int, write: bool = False) -> list:
    """A gathered block, row by row: block row v is row `src` of the tensor's matrix, that is
    row src % 32 of the pages in tile row src // 32, into row v % 32 of the slots in block tile
    row v // 32, one read per tile column, when the gather's `valid` holds; zeros first. A
    scattered block (`write`) the other way, from the waited slots, with nothing written where
    `valid` fails (the tensor's rows there stay as they are), so no zeros."""
    from nanott.passes.d3_lower_cb_protocol import add, const, mul, var     # its expression helpers
    g, loc = s.gather, s.loc
    v, src, ok = (d3.names.numbered(x) for x in ("r", "src", "ok"))
    j = d3.names.numbered("j") if s.cols > 1 else None
    at = {g.var: l8.Var(v, loc=loc)}
    lets = [l8.Let(src, subst(d3.visit(g.row), at), loc=loc)]
    if g.valid is not None:
        lets.append(l8.Let(ok, subst(d3.visit(g.valid), at), loc=loc))
    tile_cols, row = d3.tensors[s.tensor].layout.tiles[-1], l8.Var(src, loc=loc)
    page = add(add(mul(l8.BinOp("//", row, const(32)), const(tile_cols)), d3.visit(s.col)), var(j))
    slot = add(mul(l8.BinOp("//", var(v), const(32)), const(s.cols)), var(j))
    at, to = l8.BinOp("%", row, const(TILE)), l8.BinOp("%", var(v), const(TILE))
    read = l8.NocWritePage(cb, slot, s.tensor, page, at, to, loc=loc) if write else \
        l8.NocReadPage(s.tensor, page, cb, slot, at, to, loc=loc)
    read = read if g.valid is None else l8.When(l8.Var(ok, loc=loc), (read,), loc=loc)
    body = [read] if j is None else [l8.For(j, const(s.cols), "serial", 0, (read,), loc=loc)]
    loop = l8.For(v, const(s.rows * TILE), "serial", 0, (*lets, *body), loc=loc)
    if g.valid is None or write:
        return [loop]
    a, b = d3.names.fresh("r"), d3.names.fresh("c")
    zeros = l8.GenerateToCb(cb, (a, b), (s.rows * TILE, s.cols * TILE), l8.Const(0.0, "float32"), loc=loc)
    return [zeros, loop]

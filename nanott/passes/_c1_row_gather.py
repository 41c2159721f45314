"""A T.Parallel gathering rows of a DRAM tensor (nanott/row_gather.py), as C1 lowers it: one
read_to_cb of a TileSlice whose RowGather says, for each block row, which row of the tensor's
stored matrix it is and whether it is there at all.

The stored matrix is A1's [prod(outer) * H', W'] (dims padded to whole tiles, in the order DRAM
stores them), so row (d_0, .., d_{n-2}) of the tensor is ((d_0 * p_1 + d_1) * p_2 + ..) + d_{n-2}
with p_k the padded dims, in that order (C1's as_matrix). The columns must be whole tiles: the start a provable multiple of 32 (affine analysis) and
the block's columns a multiple of 32, as for any copy; the block's rows too, since the reader
fills whole tile pages.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError, not_yet
from nanott.languages import l3, l4
from nanott.passes._affine import affine, build, divide
from nanott.passes._c1_vector_rows import row_bytes
from nanott.row_gather import Gather, row_gather, row_scatter
from nanott.target import TILE


def read_rows(c1: Any, p: l3.Parallel) -> l4.ReadToCb | l4.WriteFromCb | None:
    """The read_to_cb of the T.Parallel p when it is a gather of rows, its write_from_cb when it
    is a scatter of rows (rows of a block written where a condition holds), else None (c1: the
    C1 rewriter, for its tensors, CBs, lets and expressions)."""
    if (g := row_gather(p, c1.tensors)) is not None:
        return l4.ReadToCb(gathered(c1, g, "gather"), c1.index[g.buffer], loc=p.loc)
    if (g := row_scatter(p, c1.tensors)) is not None:
        return l4.WriteFromCb(c1.index[g.buffer], gathered(c1, g, "scatter"), loc=p.loc)
    return None


def gathered(c1: Any, g: Gather, what: str) -> l4.TileSlice:
    """The DRAM side of the gather (or scatter) g: a TileSlice with its RowGather."""
    layout = c1.tensors[g.tensor].layout
    if layout.order and layout.order[-1] != len(layout.order) - 1:
        raise not_yet(f"a {what} of rows of {g.tensor}, which DRAM stores with its last dim elsewhere", g.loc,
                      f"copy {g.tensor} in blocks of its last two dims only, or {what} other rows")
    rows, cols = g.extents
    shape = c1.cbs[c1.index[g.buffer]].shape
    if tuple(shape) != (rows, cols):
        raise not_yet(f"a {what} of {rows} x {cols} rows of part of the {'x'.join(map(str, shape))} block "
                      f"{g.buffer}", g.loc, f"{what} the whole block: T.Parallel{tuple(shape)}")
    if rows % TILE or cols % TILE:
        raise NanottError("NT112", f"a {what} of {rows} x {cols} elements of {g.tensor} is not whole "
                          f"{TILE}x{TILE} tiles", g.loc, f"make block sizes multiples of {TILE}")
    col = divide(g.col, TILE, c1.multiples)
    if col is None:
        raise NanottError("NT112", f"the {what}ed rows of {g.tensor} start at column {g.col}, which is "
                          f"not provably a multiple of {TILE}", g.loc,
                          f"a row is read in whole tile rows: let each block's columns start at a multiple "
                          f"of {TILE} (in a convolution: a block_K dividing the channels, a multiple of {TILE})")
    if what == "scatter":
        row_bytes(c1, g.tensor, False, g.loc)                 # whole bytes per face row (no block floats)
    one = l3.Region(g.tensor, (*g.rows, g.col), (*(1 for _ in g.rows), cols), loc=g.loc)
    row = c1.as_matrix(one, g.loc).starts[0]                  # the row in DRAM's order of the dims
    gather = l4.RowGather(g.var, c1.visit(build(*affine(row))), None if g.valid is None else c1.visit(g.valid), loc=g.loc)
    return l4.TileSlice(g.tensor, l4.Const(0, "int32"), c1.visit(col), rows // TILE, cols // TILE,
                        gather=gather, loc=g.loc)

"""An element of a DRAM tensor read by a let, for C1: the tile that holds it, through a scratch CB.

`kb = BlockIndex[bz, by, bx, t]` or a carried `row_offset += batch_sizes[i]`: the reader reads the
tile of the tensor's stored matrix that holds the element into a one-page scratch CB and takes the
element at its row and column there. One scratch CB per tensor, declared at its first element and
named `<tensor>_elem`, or the first free name after it (P0b may have made a buffer of that name:
the grouped cast's `batch_sizes_elem`).
"""
from __future__ import annotations

from typing import Any

from nanott.languages import l3, l4
from nanott.passes._affine import affine, build
from nanott.passes._cb_plan import cb_plan
from nanott.target import TILE


def element(c1: Any, e: l3.Load) -> l4.Element:
    """The Element for C1's LowerSharedToCb `c1` (its tensors, CB index, names and tile algebra)."""
    t = c1.tensors[e.buffer]
    if e.buffer not in c1.scratch:
        c1.scratch[e.buffer] = name = c1.names.fresh(f"{e.buffer}_elem")
        c1.visit_Alloc(l3.Alloc(name, (TILE, TILE), t.dtype, "shared", cb_plan(
            (TILE, TILE), t.dtype, 1, "scratch page: the reader reads elements through it"), loc=e.loc))
    ones = tuple(1 for _ in e.indices)
    if len(e.indices) > 2 or t.layout.order:
        region = c1.as_matrix(l3.Region(e.buffer, e.indices, ones), e.loc)
    else:
        starts = (l3.Const(0, "int32"), *e.indices) if len(e.indices) == 1 else e.indices
        region = l3.Region(e.buffer, starts, (1, 1))
    (row, col), tile = (build(*affine(x)) for x in region.starts), l3.Const(TILE, "int32")
    div = [l3.BinOp("//", c1.visit(x), tile, loc=e.loc) for x in (row, col)]
    mod = [l3.BinOp("%", c1.visit(x), tile, loc=e.loc) for x in (row, col)]
    return l4.Element(c1.index[c1.scratch[e.buffer]], l4.TileSlice(e.buffer, *div, 1, 1, loc=e.loc), *mod,
                      loc=e.loc)

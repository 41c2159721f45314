"""Two small launches that carry a parameter to and from rows of its own, for P0b's element_rows.

The block-sparse GQA decoders of TileLang pass their `glse` in (`glse: T.Tensor([batch, heads,
num_split])`) instead of allocating it, and store it as example_gqa_decode.py does: one value per
row into column `sid`, under an `if`, several cores writing parts of one DRAM row. The host reads
a parameter back in the layout it gave, so nanott cannot change the tensor's layout as it changes a
scratch tensor's (_p0b_element_rows.py). It gives the program a scratch twin instead, `glse_wide`,
a row of W per element, which every launch reads and writes in place of glse, and two launches of
whole rows around them:

  - before the first launch that touches it, `to_rows`: per line of 32 elements along the tensor's
    second-last dim (a block of heads, one split), the line read into a vector, broadcast to a
    [32, W] block, copied into the twin's 32 rows: the values the host gave, for the elements no
    store writes;
  - after the last launch, `from_rows`: per line, the twin's [32, 32] block read, its rows reduced
    by max into a vector (every column holds the element: the max is the element, exactly), and
    the vector copied into the line.

A line of the tensor is a row of its stored matrix (A1 stores a tensor copied in lines along one
dim with that dim last), written whole by one core: rule "owner" holds without any column store.
The cost: two launches of ceil(heads / 32) x splits x batch blocks, each one tile in and one out.
"""
from __future__ import annotations

from math import prod

from nanott.languages import l0
from nanott.passes._names import NameSupply
from nanott.target import TILE


def conversions(t: l0.Tensor, wide: l0.Tensor, names: NameSupply, loc) -> tuple[l0.Kernel, l0.Kernel]:
    """(to_rows, from_rows) for the parameter t of shape [*lead, H, L] and its twin [*lead, H, L, W]."""
    *lead, rows, cols = t.shape
    width = wide.shape[-1]
    bvars = tuple(names.fresh(v) for v in (*(f"d{n}" for n in range(len(lead))), "s", "r"))
    *lv, s, r = (l0.Var(v, loc=loc) for v in bvars)
    grid = (*lead, cols, -(-rows // TILE))
    zero, row0 = l0.Const(0, "int32", loc=loc), l0.BinOp("*", r, l0.Const(TILE, "int32", loc=loc), loc=loc)
    line = l0.Region(t.name, (*lv, row0, s), (*(1 for _ in lead), TILE, 1), loc=loc)
    v, blk = names.fresh(f"{t.name}_line"), names.fresh(f"{t.name}_block")

    def whole(buf: str, shape: tuple) -> l0.Region:
        return l0.Region(buf, tuple(zero for _ in shape), shape, loc=loc)

    def twin(w: int) -> l0.Region:
        return l0.Region(wide.name, (*lv, row0, s, zero), (*(1 for _ in lead), TILE, 1, w), loc=loc)

    i, c = names.fresh("i"), names.fresh("c")
    spread = l0.Parallel((i, c), (TILE, width), (l0.Store(blk, (l0.Var(i, loc=loc), l0.Var(c, loc=loc)),
                                                          l0.Load(v, (l0.Var(i, loc=loc),), loc=loc), loc=loc),), loc=loc)
    to_rows = (l0.Alloc(v, (TILE,), t.dtype, "fragment", loc=loc),
               l0.Alloc(blk, (TILE, width), t.dtype, "fragment", loc=loc),
               l0.Copy(line, whole(v, (TILE,)), loc=loc), spread,
               l0.Copy(whole(blk, (TILE, width)), twin(width), loc=loc))
    from_rows = (l0.Alloc(v, (TILE,), t.dtype, "fragment", loc=loc),
                 l0.Alloc(blk, (TILE, TILE), t.dtype, "shared", loc=loc),
                 l0.Copy(twin(TILE), whole(blk, (TILE, TILE)), loc=loc),
                 l0.Reduce("max", blk, v, 1, True, loc=loc),
                 l0.Copy(whole(v, (TILE,)), line, loc=loc))
    note = (l0.Attr("element_rows", f"{t.name}: carried {{}} {wide.name}, a row of {width} per element "
                    f"({prod(grid)} lines of {TILE})", loc=loc),)
    return tuple(l0.Kernel(f"{t.name}_{way}", (t, wide), grid, bvars, body,
                           (l0.Attr(note[0].key, note[0].value.format(into), loc=loc),), loc=loc)
                 for way, into, body in (("to_rows", "into", to_rows), ("from_rows", "back from", from_rows)))

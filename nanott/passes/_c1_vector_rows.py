"""A vector copied to or from one line of a tensor of more dims, for C1: the one row of tiles it is.

A1 stores a tensor so that the lines copies move along lie along the rows of its stored matrix
(_padding.CopyReach.order: a tensor copied only along one dim stores that dim last; a column
`X_amax[bx * 32:(bx + 1) * 32, by]` of a 2-D tensor makes it stored transposed, and the host
transposes it as it tilizes it). The line `lse[bz, by, bx * 64:(bx + 1) * 64]` of a
[batch, heads, seq] tensor is row bz * H' + by of the stored matrix [batch * H', seq] (H', heads
padded to 32), columns bx * 64 .. +64: the tiles (row // 32, bx * 2 .. +2) and, in each, the row
row % 32, which other blocks' rows share. So the slice gets a line (row % 32), and the reader and
writer move that row alone, to or from row 0 of the vector's tiles (a row vector; C2 transposes a
column vector through a row). In a tile's four 16x16 faces a row is 16 contiguous elements in
face 0 (2 for rows 16..31) and 16 in face 1 (3): two NoC transfers of 16 elements each (64 B in
float32, 32 B in bfloat16), at offsets that are multiples of their size. A write leaves the
tile's other rows as they are, and they are other blocks' (nothing is read and written back, so
no two cores race on a tile).

Not supported (NT314): a DRAM read of a row whose 16 elements are fewer bytes than the target's
DRAM alignment (32 B on Wormhole, 64 B on Blackhole: a bfloat16 row read on Blackhole); a block-float
format (Bfp8_b: a face row's mantissas share an exponent stored apart from them); and a line that
is a column of the stored matrix (the tensor is also copied in 2-D blocks, so A1 keeps its order):
a column's 32 elements lie a face row apart, which the NoC cannot write without their neighbours.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import not_yet
from nanott.ir import Loc, replace
from nanott.languages import l3, l4
from nanott.passes._affine import affine, build, divide
from nanott.target import TILE, tile_bytes

FACE_ROW = 16           # elements of a tile row in one face: one NoC transfer


def vector_row(c1: Any, r: l3.Region, loc: Loc, reading: bool) -> l4.TileSlice:
    """The DRAM side of a copy between a vector and the line `r` of a tensor: one row of a row of
    tiles (C1's LowerSharedToCb `c1` gives the tensors, the target and the tile algebra)."""
    t = c1.tensors[r.buffer]
    matrix = c1.as_matrix(r, loc)
    if matrix.extents[0] != 1:
        raise not_yet(f"a copy of {r}, a column of {r.buffer}'s tiles ({r.buffer} is also copied in "
                      "2-D blocks, so it is stored as written)", loc,
                      f"copy a 2-D block of {r.buffer}, or copy {r.buffer} only along this dim")
    row_bytes, align = FACE_ROW * tile_bytes(t.dtype) / (TILE * TILE), c1.target.dram_alignment
    if row_bytes != int(row_bytes) or reading and row_bytes % align:
        raise not_yet(f"a copy of one row of {r.buffer}'s tiles in {t.layout.format}: a face row "
                      f"of it is {row_bytes:g} B and a DRAM read on {c1.target.name} moves whole "
                      f"{align} B", loc, "use float32 or bfloat16 for a tensor read one row at a time")
    row, col = (build(*affine(x)) for x in matrix.starts)
    tiles = c1.tiles(l3.Region(r.buffer, (l3.Const(0, "int32"), col), (TILE, matrix.extents[1]),
                               loc=r.loc), loc, stored=True)
    tile_row, line = divide(row, TILE), l3.Const(0, "int32")
    if tile_row is None:
        size = l3.Const(TILE, "int32")
        tile_row, line = l3.BinOp("//", row, size, loc=loc), l3.BinOp("%", row, size, loc=loc)
    return replace(tiles, row=tile_row, line=line)

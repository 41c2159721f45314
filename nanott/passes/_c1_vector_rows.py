"""Rows moved one at a time, for C1: a vector to or from one line of a tensor of more dims (the one
row of tiles it is), and a block read from a row that is a value read from DRAM.

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

A read of whole tiles' worth of rows of a 2-D tensor whose first row is data (TileLang's grouped
cast: `X[row_offset + row * blk_m, ...]`, row_offset a sum of group sizes, after P0a merged the
blocks: `row_offset + bx * 32`) spans two rows of tiles, at a row known only when the reader has
read the sizes. The slice gets that start row (`.from_row[...]`; its tile row is start // 32), and
D3 moves each of its rows alone into its row of the block's tiles, the same face runs as a line.
A write to such a row of a 2-D tensor, or of a tensor of more dims, is a RowGather written (a row
scatter, rows_from_data): it shares tiles with the rows of other blocks around it, so each of its
rows is written alone, and only where it lies inside its dim.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import not_yet
from nanott.ir import Loc, replace, walk
from nanott.languages import l3, l4
from nanott.passes._affine import affine, build, divide
from nanott.target import TILE, tile_bytes

FACE_ROW = 16           # elements of a tile row in one face: one NoC transfer


def row_bytes(c1: Any, tensor: str, reading: bool, loc: Loc) -> None:
    """NT314 unless one face row of the tensor's tiles is whole bytes the NoC can move (a read:
    a multiple of the target's DRAM alignment)."""
    t = c1.tensors[tensor]
    size, align = FACE_ROW * tile_bytes(t.dtype) / (TILE * TILE), c1.target.dram_alignment
    if size != int(size) or reading and size % align:
        raise not_yet(f"a copy of one row of {tensor}'s tiles in {t.layout.format}: a face row "
                      f"of it is {size:g} B and a DRAM read on {c1.target.name} moves whole "
                      f"{align} B", loc, "use float32 or bfloat16 for a tensor read one row at a time")


def vector_row(c1: Any, r: l3.Region, loc: Loc, reading: bool) -> l4.TileSlice:
    """The DRAM side of a copy between a vector and the line `r` of a tensor: one row of a row of
    tiles (C1's LowerSharedToCb `c1` gives the tensors, the target and the tile algebra)."""
    matrix = c1.as_matrix(r, loc)
    if matrix.extents[0] != 1:
        raise not_yet(f"a copy of {r}, a column of {r.buffer}'s tiles ({r.buffer} is also copied in "
                      "2-D blocks, so it is stored as written)", loc,
                      f"copy a 2-D block of {r.buffer}, or copy {r.buffer} only along this dim")
    row_bytes(c1, r.buffer, reading, loc)
    row, col = (build(*affine(x)) for x in matrix.starts)
    tiles = c1.tiles(l3.Region(r.buffer, (l3.Const(0, "int32"), col), (TILE, matrix.extents[1]),
                               loc=r.loc), loc, stored=True)
    tile_row, line = divide(row, TILE), l3.Const(0, "int32")
    if tile_row is None:
        size = l3.Const(TILE, "int32")
        tile_row, line = l3.BinOp("//", row, size, loc=loc), l3.BinOp("%", row, size, loc=loc)
    return replace(tiles, row=tile_row, line=line)


def row_window(c1: Any, r: l3.Region, starts: list, loc: Loc) -> l4.TileSlice | None:
    """A read of whole tiles' worth of rows whose first row is a value read from DRAM, not a
    multiple of 32 (its column start is): a TileSlice with that start row, which D3 moves one row
    at a time, each to its row of the block's tiles; None for any other region."""
    row = r.starts[0]
    if len(c1.tensors[r.buffer].shape) != 2 or starts[0] is not None or starts[1] is None or not any(
            isinstance(v, l3.Var) and v.name in c1.data for v in walk(row)):
        return None
    if any(n % TILE for n in r.extents):
        return None                                            # C1's NT112 names the extent
    row_bytes(c1, r.buffer, True, loc)
    tile_row = l3.BinOp("//", row, l3.Const(TILE, "int32"), loc=loc)
    return l4.TileSlice(r.buffer, tile_row, starts[1], r.extents[0] // TILE, r.extents[1] // TILE,
                        start_row=row, loc=loc)


def rows_from_data(c1: Any, r: l3.Region, loc: Loc, reading: bool = True) -> l4.TileSlice | None:
    """A read of a block of an N-D tensor along one outer dim and the last, from a start read from
    DRAM (varlen attention's `Q_unpad[q_start + bx * 64:q_start + bx * 64 + 64, head, :]`), or from
    any start not a provable multiple of 32 (GQA decoding's `Q[b, hid * 4:hid * 4 + 32, :]`: a KV
    head's 4 query heads, then the next group's, each block's rows starting inside a tile): block
    row v is the stored matrix's row of (.., start + v, ..), a RowGather, zeros where start + v
    lies outside that dim (L0 reads zeros there; in the matrix, the row would be another head's).
    A write (`reading` false; a 2-D tensor too) is the same RowGather written, a row scatter: block
    row v into its row where start + v lies inside the dim (L0 skips the others), each row alone,
    so the rows of the tiles it spans that other blocks own stay as they are.
    None for any other region, and for a start that is a provable multiple of 32 (whole tiles)."""
    t = c1.tensors[r.buffer]
    wide = [d for d, n in enumerate(r.extents[:-1]) if n != 1]
    if len(r.starts) < (3 if reading else 2) or len(wide) != 1:
        return None
    (d,), rows = wide, r.extents[wide[0]]
    if not reading and not any(isinstance(v, l3.Var) and v.name in c1.data for v in walk(r.starts)):
        return None                                            # an affine write start: C1's NT112
    if divide(r.starts[d], TILE, c1.multiples) is not None:
        return None                                            # whole tiles (`i_s * 64`): a block read
    v = c1.names.fresh("r")
    at = l3.BinOp("+", r.starts[d], l3.Var(v, loc=loc), loc=loc)
    one = l3.Region(r.buffer, (*r.starts[:d], at, *r.starts[d + 1:]), (*r.extents[:d], 1, *r.extents[d + 1:]), loc=r.loc)
    row, col = c1.as_matrix(one, loc).starts
    col = divide(col, TILE, c1.multiples)
    if rows % TILE or r.extents[-1] % TILE or col is None:
        return None                                            # C1's NT112 names the extent or start
    row_bytes(c1, r.buffer, reading, loc)
    inside = l3.BinOp("and", l3.BinOp(">=", at, l3.Const(0, "int32"), loc=loc),
                      l3.BinOp("<", at, l3.Const(t.shape[d], "int32"), loc=loc), loc=loc)
    gather = l4.RowGather(v, c1.visit(build(*affine(row))), c1.visit(inside), loc=loc)
    return l4.TileSlice(r.buffer, l3.Const(0, "int32"), c1.visit(col), rows // TILE, r.extents[-1] // TILE,
                        gather=gather, loc=loc)

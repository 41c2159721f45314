"""A1 infer-layout: L0 -> L1

Changes:   every DRAM tensor gets its Tenstorrent layout: 32x32 tiles, one tile per page, pages
           interleaved over the DRAM banks, the data format of its dtype (bfloat16 is Float16_b),
           the padded shape and the tile grid of the 2-D view [prod(outer) * H, W]. Every on-chip
           buffer becomes an L1 Alloc with no CB plan yet (A2 plans it); no accessor yet (A3).
           A 1-D on-chip buffer (a vector) is kept 1-D; its length must be whole tiles too (C2
           decides whether it lies down a column of tiles or along a row).
Preserves: the grid, the body and every value computed; shapes and dtypes as the user wrote them.
Why:       Tensix cores compute on 32x32 tiles and DRAM is read a page (one tile) at a time, so
           every later pass counts in tiles and pages. Shapes that are not whole tiles are
           rejected here, at the user's line, before any pass depends on them.
"""
from __future__ import annotations

from math import prod

from nanott.diagnostics import NanottError
from nanott.languages import l0, l1
from nanott.passes._rewriter import Rewriter
from nanott.printing import shape as show
from nanott.target import TILE, Target, data_format, tile_bytes


def infer_layout(program: l0.Kernel, target: Target) -> l1.Kernel:
    return InferLayout().visit(program)


def tile_layout(shape: tuple[int, ...], dtype: str) -> l1.TileLayout:
    """Interleaved DRAM, one tile per page, tiles row-major over the padded 2-D view."""
    *outer, rows, cols = shape
    padded = (*outer, round_up(rows), round_up(cols))
    tiles = (prod(outer) * padded[-2] // TILE, padded[-1] // TILE)
    return l1.TileLayout("dram", "interleaved", data_format(dtype), padded, tiles, tile_bytes(dtype))


def round_up(n: int) -> int:
    return -(-n // TILE) * TILE


def whole_tiles(shape: tuple[int, ...]) -> bool:
    return all(n % TILE == 0 for n in shape[-2:])


class InferLayout(Rewriter, src=l0.LANG, dst=l1.LANG):
    def visit_Tensor(self, t: l0.Tensor) -> l1.Tensor:
        if len(t.shape) != 2:
            raise NanottError("NT313", f"tensor {t.name} is {len(t.shape)}-D ({show(t.shape)}); tensors "
                              "other than 2-D are not supported yet", t.loc,
                              "reshape it to 2-D on the host: [prod(outer dims) * H, W]")
        if not whole_tiles(t.shape):
            raise NanottError("NT312", f"tensor {t.name} is {show(t.shape)}: ragged tensors (masked "
                              "edge tiles) are not supported yet", t.loc,
                              f"pad it on the host to multiples of {TILE} in its last two dims")
        return l1.Tensor(t.name, t.shape, t.dtype, tile_layout(t.shape, t.dtype), None, loc=t.loc)

    def visit_Alloc(self, a: l0.Alloc) -> l1.Alloc:
        if not a.shape:
            raise NanottError("NT311", f"{a.name} is a 0-D on-chip buffer (a scalar); those are not "
                              "supported yet", a.loc, f"allocate a vector of {TILE} or a 2-D block")
        if len(a.shape) > 2:
            raise NanottError("NT313", f"{a.name} is {len(a.shape)}-D ({show(a.shape)}); on-chip "
                              "buffers other than 1-D and 2-D are not supported yet", a.loc,
                              "allocate a 2-D block and index it with a flattened row")
        if not whole_tiles(a.shape):
            raise NanottError("NT111", f"block {show(a.shape)} of {a.name} is not a multiple of the "
                              f"{TILE}x{TILE} tile", a.loc,
                              f"Tensix tiles are {TILE}x{TILE}; use block sizes that are multiples of {TILE}")
        return l1.Alloc(a.name, a.shape, a.dtype, a.scope, None, loc=a.loc)

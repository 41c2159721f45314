"""A1 infer-layout: L0 -> L1

Changes:   every DRAM tensor gets its Tenstorrent layout: 32x32 tiles, one tile per page, pages
           interleaved over the DRAM banks, the data format of its dtype (bfloat16 is Float16_b),
           the padded shape and the tile grid of the 2-D view [prod(outer) * H, W] (a 1-D tensor
           (n,) is the row [1, n]: its values lie along row 0 of a row of tiles). The two tiled
           dims are the last two, or, when copies move blocks along others (a BSHD tensor copied
           in (S, D) blocks), those two: DRAM then stores the tensor with its other dims first
           (BHSD), and the host permutes it that way as it tilizes it. A ragged tensor
           (a tiled dim that is no multiple of 32, or of a copy's block along it) is padded with
           zeros: each tiled dim to a multiple of lcm(32, every copy extent along it), far enough for
           every copy's last block (_padding.py); the host pads on entry and crops on exit, so a
           masked copy at the edge becomes a copy of whole tiles. Every on-chip buffer becomes an
           L1 Alloc with no CB plan yet (A2 plans it); no accessor yet (A3).
           A 1-D on-chip buffer (a vector) is kept 1-D; its length must be whole tiles too (C2
           decides whether it lies down a column of tiles or along a row).
           Trailing grid blocks whose every DRAM write lies wholly outside its tensor are dropped
           (the grid shrinks to the live grid, _padding.py), so they pad nothing. In a program of
           several launches, a tensor is stored in the order of the first launch that copies it in
           blocks (else in lines) in every launch that only reads or writes its elements, or moves
           lines along that order's last dim, and padded as far as the launch that reaches
           furthest needs (one DRAM buffer, one layout: a persistent kernel cut at T.sync_grid
           reads past the end, behind its guard, further than it writes).
Preserves: every element of every tensor, the body and every value computed; shapes and dtypes
           as the user wrote them; the grid, but for blocks that write nothing.
Why:       Tensix cores compute on 32x32 tiles and DRAM is read a page (one tile) at a time, so
           every later pass counts in tiles and pages. Padding with zeros is what TileLang's masked
           copies mean (outside reads are zero, outside stores are dropped), in whole tiles; on-chip
           blocks that are not whole tiles are rejected here, at the user's line.
"""
from __future__ import annotations

from math import prod

from nanott.diagnostics import NanottError
from nanott.ir import Launches, per_launch, replace
from nanott.languages import l0, l1
from nanott.passes._padding import CopyReach, live_grid, stored_orders
from nanott.passes._rewriter import Rewriter
from nanott.printing import shape as show
from nanott.target import TILE, Target, data_format, tile_bytes


def infer_layout(program: l0.Kernel | Launches, target: Target) -> l1.Kernel | Launches:
    """Each launch's layouts; a tensor that a launch of several copies in blocks (or, else, in
    lines) is stored in that order in every launch whose copies it fits: those that only read or
    write its elements (the combine step reading glse[b, h, k]) and those that move lines along the
    order's last dim: one DRAM buffer, one layout."""
    if not isinstance(program, Launches):
        return one_launch(program, {})
    orders = stored_orders(program.launches)
    pads: dict[str, tuple[int, ...]] = {}     # each tensor padded as far as any launch needs
    per_launch(one_launch, program, orders, pads)
    return per_launch(one_launch, program, orders, pads)


def one_launch(program: l0.Kernel, orders: dict[str, tuple[int, ...] | None],
               pads: dict[str, tuple[int, ...]] | None = None) -> l1.Kernel:
    grid = live_grid(program)
    if grid != program.grid:
        program = replace(program, grid=grid)
    return InferLayout(CopyReach(program), orders, pads if pads is not None else {}).visit(program)


def tile_layout(shape: tuple[int, ...], dtype: str, padded: tuple[int, ...] | None = None,
                order: tuple[int, ...] = ()) -> l1.TileLayout:
    """Interleaved DRAM, one tile per page, tiles row-major over the padded 2-D view of the dims in
    their stored `order` (padded to whole tiles unless `padded` says further). A 1-D tensor (n,) is
    the row [1, n]: padded to (32, n'), its values along row 0 of a row of tiles."""
    dims = padded or shape
    dims = tuple(dims[d] for d in order) if order else dims
    *outer, rows, cols = (1, *dims) if len(shape) == 1 else dims
    padded = (*outer, round_up(rows), round_up(cols))
    tiles = (prod(outer) * padded[-2] // TILE, padded[-1] // TILE)
    return l1.TileLayout("dram", "interleaved", data_format(dtype), padded, tiles, tile_bytes(dtype),
                         order)


def round_up(n: int) -> int:
    return -(-n // TILE) * TILE


def whole_tiles(shape: tuple[int, ...]) -> bool:
    return all(n % TILE == 0 for n in shape[-2:])


class InferLayout(Rewriter, src=l0.LANG, dst=l1.LANG):
    def __init__(self, reach: CopyReach, orders: dict[str, tuple[int, ...] | None],
                 pads: dict[str, tuple[int, ...]]):
        self.reach, self.orders = reach, orders      # orders: of the launches that copy a tensor
        self.pads = pads                             # the furthest padding any launch asked for

    def visit_Tensor(self, t: l0.Tensor) -> l1.Tensor:
        order = self.reach.order(t)
        if (given := self.orders.get(t.name)) and (order is None or t.name not in self.reach.moved
                                                   or self.reach.moved[t.name] == {given[-1]}):
            order = given
        if order is None:
            raise NanottError("NT313", f"tensor {t.name} is copied in blocks of more than two dims; a "
                              "tile holds two", t.loc, "copy 2-D blocks: index the other dims with one "
                              "value each (Q[b, bx * 64:(bx + 1) * 64, h, :])")
        tiled = order[-2:]
        padded = tuple(map(max, self.reach.padded(t, tiled), self.pads.get(t.name, t.shape)))
        self.pads[t.name] = padded
        if padded != t.shape and self.reach.read_and_written(t.name):
            raise NanottError("NT312", f"tensor {t.name} is {show(t.shape)}, padded to {show(padded)}, "
                              "and the kernel both reads and writes it: a ragged tensor that is read "
                              "and written is not supported yet", t.loc,
                              "read it from one tensor and write the result to another")
        stored = () if order == tuple(range(len(order))) else order
        return self.rebuild(t, layout=tile_layout(t.shape, t.dtype, padded, stored), accessor=None)

    def visit_AtomicStore(self, s: l0.AtomicStore):
        raise AssertionError(f"an element atomic add after P0b, which makes every one a block's: {s}")

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

"""C1 lower-shared-to-cb: L3 -> L4

Changes:   every on-chip buffer (T.alloc_shared, T.alloc_fragment), wherever it is allocated, is
           declared once in `Kernel.cbs` as a circular buffer with A2's plan, numbered in order of
           appearance; gemm, fill, reduce, store and load name CBs by index. A copy is split by the memory
           of its two sides (a tensor parameter lives in DRAM, an allocated buffer on chip):
           DRAM -> CB is read_to_cb, CB -> DRAM is write_from_cb, CB -> CB is copy_cb. The DRAM
           side becomes a TileSlice, its element starts divided by 32 by affine analysis (a 1-D
           tensor's region is in tile row 0: A1 lays a vector along row 0 of a row of tiles).
           A copy between a vector and a line of a tensor of more dims (`T.copy(logsum,
           lse[bz, by, bx * 64:(bx + 1) * 64])`, a one-column `X_amax[bx * 32 + i, by]` staged by
           P0b) moves one row of tiles: a TileSlice with a line (_c1_vector_rows.py). A read
           whose first row is a value read from DRAM (`X[row_offset + bx * 32, by * 128]`), not
           a multiple of 32, gets that row as its start row: it is moved row by row; in a tensor of
           more dims (`Q[q_start + bx * 64:.., head, :]`) its rows are a RowGather, zeros where a row
           lies outside its dim; a write to such a start (an atomic add's partial at a sequence's
           rows) is the same RowGather written, a row scatter: each row where it lies inside its
           dim, and no other row of the tiles it spans. A T.Parallel gathering rows of a DRAM
           tensor (a convolution's im2col) is read_to_cb of a TileSlice with a RowGather: each block row's row of the
           tensor, or zeros; one scattering a block's rows where a row condition holds is
           write_from_cb of such a slice: each block row to its row, where it holds (_c1_row_gather.py).
           A let reading an element of a DRAM tensor (`kb = BlockIndex[bz, by, bx, t]`) reads it
           as an Element: the tile holding it, through a new one-page scratch CB <tensor>_elem,
           and its place in that tile; the reader alone will read it (D1).
Preserves: every value computed and written, every loop, let and elementwise body, their order.
Why:       on a Tensix core an on-chip buffer is a circular buffer in L1 found by its index, and
           DRAM is reached only by moving whole 32x32 tiles.
"""
from __future__ import annotations

from nanott.diagnostics import NanottError, not_yet
from nanott.ir import NOLOC, Loc, walk
from nanott.languages import l3, l4
from nanott.passes._affine import divide, multiple_of
from nanott.passes._names import NameSupply, names_in
from nanott.passes._c1_elements import element
from nanott.passes._c1_row_gather import read_rows
from nanott.passes._c1_vector_rows import row_window, rows_from_data, vector_row
from nanott.passes._rewriter import Rewriter
from nanott.target import TILE, Target

ON_CHIP = "l1"          # where an allocated buffer lives; A1 lays tensors out in "dram"


def lower_shared_to_cb(program: l3.Kernel, target: Target) -> l4.Kernel:
    return LowerSharedToCb(program, target).visit(program)



class LowerSharedToCb(Rewriter, src=l3.LANG, dst=l4.LANG):
    def __init__(self, program: l3.Kernel, target: Target):
        self.target = target
        self.tensors = {p.name: p for p in program.params}
        self.cbs: list[l4.CircularBuffer] = []
        self.index: dict[str, int] = {}       # buffer name -> CB index, bound in program order
        self.where = NOLOC                    # the statement being rewritten, for expressions' errors
        self.in_let = False                   # in a let's value: a DRAM tensor's element is an Element
        self.multiples: dict[str, int] = {}   # let -> a number its value is a multiple of (copy starts)
        self.data: set[str] = set()           # lets whose value reads DRAM data (an Element, or such a let)
        self.names, self.scratch = NameSupply(names_in(program)), {}     # tensor -> its scratch CB's name

    def visit_Kernel(self, k: l3.Kernel) -> l4.Kernel:
        body = self.visit(k.body)
        return self.rebuild(k, cbs=tuple(self.cbs), body=body)

    def visit_Alloc(self, a: l3.Alloc) -> list:
        self.index[a.name] = len(self.cbs)
        self.cbs.append(l4.CircularBuffer(len(self.cbs), a.name, a.shape, a.dtype, a.scope, a.cb,
                                          loc=a.loc))
        return []

    def visit_PrintBuffer(self, p: l3.PrintBuffer) -> l4.PrintCb:
        return l4.PrintCb(p.label(), self.index[p.buffer], loc=p.loc)

    def memory(self, buffer: str) -> str:
        """Where a buffer lives: on chip if allocated, else where A1 laid out the tensor."""
        return ON_CHIP if buffer in self.index else self.tensors[buffer].layout.memory

    def visit_Parallel(self, p: l3.Parallel) -> l4.Stmt:
        return read_rows(self, p) or self.generic_visit(p)

    def visit_Copy(self, c: l3.Copy) -> l4.Stmt:
        src_on_chip, dst_on_chip = (self.memory(r.buffer) == ON_CHIP for r in (c.src, c.dst))
        blocks = [[n for n in r.extents if n != 1] for r in (c.src, c.dst)]
        ranks = {len(r.extents) for r in (c.src, c.dst)}
        # a vector and a tensor of more dims: the tensor's region is one line, moved as one row
        line = 1 in ranks and len(ranks) > 1 and len(blocks[0]) == 1 and src_on_chip != dst_on_chip
        if blocks[0] != blocks[1] or 1 in ranks and len(ranks) > 1 and not line:
            raise not_yet(f"a copy from {c.src} to {c.dst}, which differ in shape", c.loc,
                          "copy between regions of the same shape")
        if dst_on_chip and not src_on_chip:
            tiles = vector_row(self, c.src, c.loc, True) if line else self.tiles(c.src, c.loc, reading=True)
            return l4.ReadToCb(tiles, self.whole(c.dst, c.loc), loc=c.loc)
        if src_on_chip and not dst_on_chip:
            tiles = vector_row(self, c.dst, c.loc, False) if line else self.tiles(c.dst, c.loc)
            return l4.WriteFromCb(self.whole(c.src, c.loc), tiles, loc=c.loc)
        if src_on_chip and dst_on_chip:
            return l4.CopyCb(self.whole(c.src, c.loc), self.whole(c.dst, c.loc), loc=c.loc)
        raise not_yet(f"a copy from {c.src.buffer} to {c.dst.buffer}, both in DRAM", c.loc,
                      "copy through an on-chip buffer (T.alloc_shared)")

    def whole(self, r: l3.Region, loc: Loc) -> int:
        """The CB of an on-chip side, which must be the whole buffer."""
        cb = self.cbs[self.index[r.buffer]]
        at_origin = all(isinstance(s, l3.Const) and s.value == 0 for s in r.starts)
        if not at_origin or tuple(r.extents) != cb.shape:
            raise not_yet(f"a copy of part of on-chip buffer {r}", loc,
                          f"copy all of {r.buffer} ({'x'.join(map(str, cb.shape))})")
        return cb.index

    def tiles(self, r: l3.Region, loc: Loc, stored: bool = False, reading: bool = False) -> l4.TileSlice:
        """The DRAM side as a block of whole tiles: starts and extents divided by 32. A 1-D tensor
        is one row of tiles (A1): its region is tile row 0. A tensor of more dims is the matrix of
        its stored dims (A1's order), the leading ones folded into rows: the region must have
        extent 1 in all of them, and its first tile row counts the matrices before it (`stored`:
        `r` is a region of that matrix already)."""
        if not stored and (rows := rows_from_data(self, r, loc, reading)) is not None:
            return rows
        if not stored and len(r.starts) == 1:
            r = l3.Region(r.buffer, (l3.Const(0, "int32"), *r.starts), (TILE, *r.extents), loc=r.loc)
        elif not stored and (len(r.starts) > 2 or self.tensors[r.buffer].layout.order):
            r = self.as_matrix(r, loc)
        starts = [divide(s, TILE, self.multiples) for s in r.starts]
        if reading and (window := row_window(self, r, starts, loc)) is not None:
            return window
        for s, tile_start in zip(r.starts, starts):
            if tile_start is None:
                raise self.off_tile(s, r.buffer, loc)
        for n in r.extents:
            if n % TILE:
                raise NanottError("NT112", f"copy extent {n} of {r.buffer} is not a whole number of "
                                  "tiles", loc, f"make block sizes multiples of {TILE}")
        return l4.TileSlice(r.buffer, starts[0], starts[1], r.extents[0] // TILE,
                            r.extents[1] // TILE, loc=loc)

    def off_tile(self, start: l3.Expr, buffer: str, loc: Loc) -> NanottError:
        """NT112 for a copy start not provably a multiple of 32; one read from DRAM says so."""
        if not any(isinstance(v, l3.Var) and v.name in self.data for v in walk(start)):
            return NanottError("NT112", f"copy start {start} of {buffer} is not on a tile boundary", loc,
                               f"a copy moves whole {TILE}x{TILE} tiles: start it at a multiple of {TILE} "
                               "in every dimension")
        return NanottError("NT112", f"copy start {start} of {buffer} is a value read from DRAM, which need "
                           f"not be a multiple of {TILE}: a block from there spans two rows of tiles", loc,
                           f"a copy into DRAM moves whole {TILE}x{TILE} tiles: pad each group of rows to whole "
                           f"blocks on the host, so the starts are multiples of {TILE} (examples/fused_moe.py); "
                           "a read or write of a block of whole tiles' columns from such a row is moved row by row")

    def as_matrix(self, r: l3.Region, loc: Loc) -> l3.Region:
        """An N-D region as a region of the tensor's stored matrix [prod(outer) * H, W]."""
        layout = self.tensors[r.buffer].layout
        starts, extents, sizes = layout.stored(r.starts), layout.stored(r.extents), layout.padded_shape
        if any(n != 1 for n in extents[:-2]):
            raise not_yet(f"a copy of {r}, a block along more than its two tiled dims", loc,
                          "index the other dims with one value each")
        row: l3.Expr = l3.Const(0, "int32")
        for start, size in zip((*starts[:-2], starts[-2]), (*sizes[1:-1], 1)):
            row = l3.BinOp("*", l3.BinOp("+", row, start), l3.Const(size, "int32"))
        return l3.Region(r.buffer, (row, starts[-1]), extents[-2:], loc=r.loc)

    def visit_Region(self, r: l3.Region):
        raise AssertionError(f"a Region outside a copy: {r}")     # L3 has regions only in copies

    def cb(self, buffer: str, loc: Loc, what: str, hint: str) -> int:
        """The CB index of an on-chip buffer an op names; a DRAM tensor there is NT315."""
        if self.memory(buffer) != ON_CHIP:
            raise NanottError("NT315", f"{what} {buffer} directly, and {buffer} is a DRAM tensor",
                              loc, hint)
        return self.index[buffer]

    def visit_Gemm(self, g: l3.Gemm) -> l4.Gemm:
        a, b, c = (self.cb(x, g.loc, "T.gemm uses", "copy it into a shared buffer first")
                   for x in (g.a, g.b, g.c))
        return self.rebuild(g, a=a, b=b, c=c)

    def visit_Reduce(self, r: l3.Reduce) -> l4.Reduce:
        src, dst = (self.cb(x, r.loc, f"T.reduce_{r.op} uses", "copy it into a shared buffer first")
                    for x in (r.src, r.dst))
        return self.rebuild(r, src=src, dst=dst)

    def visit_Fill(self, f: l3.Fill) -> l4.Fill:
        cb = self.cb(f.buffer, f.loc, "T.fill writes", "fill a fragment, then T.copy it out")
        return self.rebuild(f, cb=cb)

    def visit_Store(self, s: l3.Store) -> l4.Store:
        self.where = s.loc
        cb = self.cb(s.buffer, s.loc, "T.Parallel writes",
                     "store into a fragment (T.alloc_fragment), then T.copy it out")
        return self.rebuild(s, cb=cb)

    def visit_Let(self, s: l3.Let) -> l4.Let:
        self.where, self.in_let = s.loc, True
        self.multiples[s.var] = multiple_of(s.value)
        value = self.visit(s.value)
        self.in_let = False
        if any(isinstance(x, l4.Element) or isinstance(x, l4.Var) and x.name in self.data for x in walk(value)):
            self.data.add(s.var)
        return l4.Let(s.var, value, s.update, loc=s.loc)

    def visit_Load(self, e: l3.Load) -> l4.Load:
        loc = e.loc if e.loc != NOLOC else self.where
        if self.in_let and self.memory(e.buffer) != ON_CHIP:
            return element(self, e)
        cb = self.cb(e.buffer, loc, "T.Parallel reads",
                     "copy it into a shared buffer first (T.copy into a T.alloc_shared buffer)")
        return self.rebuild(e, cb=cb)

"""C2 lower-tile-intrinsics: L4 -> L5

Changes:   every block operation becomes one TileGroup over the 32x32 tiles of its output block,
           whose body computes one output tile in float32 temporaries t0, t1, ... and stores it:
           gemm    c[mi, ni] = (load c[mi, ni] | fill 0) + sum over ki of a[mi, ki] @ b[ki, ni]
                   transpose_B: b[ni, ki]^T. The FPU transposes the in1 tile as it unpacks it, when
                   told by the matmul init (mm_init_short(a, b, 1), D4): nothing else changes.
                   transpose_A: matmul_tiles cannot transpose in0, and reads its operands only from
                   CBs; so a tile group first transposes A's tiles through the DST
                   (at[ti, tj] = transpose a[tj, ti], transpose_wh_tile) into a new intermediate
                   CB <a>_T of one block, which the matmul then reads as an untransposed A.
           fill    cb[ti, tj] = fill v
           copy_cb d[ti, tj] = load s[ti, tj]              (the store casts)
           parallel, one group per store: the elementwise value as tile operations (_c2_tile_expr;
                   an operand read transposed, x[j, i] in a map over (i, j), is transpose_wh_tile
                   of x's tile (tj, ti));
                   a value of indices alone (no buffer in it, some index: a causal mask) is made
                   by the reader: generate_to_cb into a new CB <cb>_gen of the store's block, in its
                   dtype, then a group copies it into the store's CB. A named temporary of the
                   body (a let: `q_idx = bx * bm + i`) is put in place of its uses first. A byte
                   read at column j // c (int4 weights, two to a byte: `B[i, j // 2]`) is spread
                   to the block's columns first by a matmul with a 0/1 matrix the reader makes,
                   into a new float32 CB <S>_wide the map reads at [i, j] (_c2_spread_columns.py)
           reduce  two groups (absmax: first a group writing |src| into a new CB <src>_abs, then a
                   max of it): a one-tile CB reduce_scaler (made once) = fill 1.0, reduce_tile's
                   scaler; then per tile of the vector, v = (fill identity | load v) and, for each
                   tile along the reduced dim, v = reduce(v, src tile) (REDUCE_ROW for dim 1)
           Vectors (1-D buffers) become blocks of tiles, a column (n, 32) or a row (32, n), the
           way their uses ask (_c2_vectors.py); the values lie in column 0 (row 0) of each tile.
           A 1-D tensor lies in DRAM as a row (A1); a column vector read from or written to one
           goes through a new CB <v>_row holding the row, in the tensor's dtype, and a group
           transposing it tile by tile (transpose_wh_tile: row 0 of a tile becomes column 0).
           Tile-loop names are fresh: they clash with no name of the kernel.
Preserves: read_to_cb, write_from_cb, loops and lets; which CB every value lands in; the order
           of operations, and every elementwise rounding.
Why:       a Tensix core computes on 32x32 tiles (FPU matmul and eltwise, SFPU on DST), never on
           a whole block at once; from here on, every operation is one a core has.
Numerics:  the GEMM K sum becomes a chain of 32x32 tile products added into a float32 temporary
           in K order, which rounds differently from one float32 product of the whole block; a sum
           reduction adds the 32 elements of a tile's row in order, then tile after tile in order,
           where L4 sums the whole row at once (NumPy's pairwise sum); log2 becomes ln times log2(e)
           in float32, which may differ from log2 in the last bit. Max and min, elementwise maps,
           broadcasts, fills and copies round exactly as before (bit-identical).
"""
from __future__ import annotations

from nanott.diagnostics import not_yet
from nanott.ir import NOLOC, replace, walk
from nanott.languages import l4, l5
from nanott.languages.l0_interp import Env, InterpL0
from nanott.passes._cb_plan import cb_plan
from nanott.passes._rewriter import Rewriter
from nanott.passes._affine import subst
from nanott.passes._c2_generated import GeneratedBlocks
from nanott.passes._c2_spread_columns import SpreadColumns
from nanott.passes._c2_parallel_lets import (called_lets, generated_parts, inline_lets, lets_of_elements,
                                             of_indices_alone, refuse_element_scalars)
from nanott.passes._c2_tile_expr import elementwise_group
from nanott.passes._names import NameSupply, names_in
from nanott.passes._tile_groups import copy_group, tile_grid
from nanott.passes._c2_vectors import COL, orientations, tile_shape
from nanott.backends.metalium.api import fpu_broadcasts
from nanott.target import TILE, Target

IDENTITY = {"sum": 0.0, "max": float("-inf"), "min": float("inf"), "absmax": 0.0}     # where a cleared reduction starts


def lower_tile_intrinsics(program: l4.Kernel, target: Target) -> l5.Kernel:
    return LowerTileIntrinsics(program, fpu_broadcasts(target.release)).visit(program)



class LowerTileIntrinsics(GeneratedBlocks, SpreadColumns, Rewriter, src=l4.LANG, dst=l5.LANG):
    def __init__(self, program: l4.Kernel, bcasts: frozenset[tuple[str, str]]):
        self.bcasts = bcasts                  # the release's FPU broadcasts, (op, "rows"/"cols")
        self.shapes = {cb.index: cb.shape for cb in program.cbs}
        self.dtypes = {p.name: p.dtype for p in program.params}
        self.ways = orientations(program)
        self.cbs = tuple(replace(cb, shape=tile_shape(cb.shape, self.ways[cb.index]))
                         if cb.index in self.ways else cb for cb in program.cbs)
        self.scaler: int | None = None        # the CB of reduce_tile's scaler, made on first use
        self.names = NameSupply(names_in(program, own_scope=(l5.TileGroup,)))
        self.gemm_vars = tuple(self.names.fresh(n) for n in ("mi", "ni", "ki"))
        self.tile_vars = (self.names.fresh("ti"), self.names.fresh("tj"))
        self.where = NOLOC                    # the let being rewritten, for a load's error
        self.called = called_lets(program.body)   # lets of functions, put in place in T.Parallel values
        self.read = lets_of_elements(program.body)  # lets of DRAM elements: never in a generated block

    def grid(self, cb: int) -> tuple[int, int]:
        return tile_grid(self.cbs[cb].shape)

    def visit_Gemm(self, g: l4.Gemm) -> list[l5.TileGroup]:
        before, a = ([], g.a) if not g.transpose_a else self.transposed(g.a, g.loc)
        (mt, kt), nt = self.grid(a), self.grid(g.b)[0 if g.transpose_b else 1]
        mi, ni, ki = (l5.Var(v) for v in self.gemm_vars)
        c = l5.TileRef(g.c, mi, ni)
        b = l5.TileRef(g.b, ni, ki) if g.transpose_b else l5.TileRef(g.b, ki, ni)
        product = l5.TileMatmul(l5.TileRef(a, mi, ki), b, "t0", g.transpose_b)
        return [*before, l5.TileGroup(self.gemm_vars[:2], (mt, nt), (
            l5.TAssign("t0", l5.TileFill(0.0) if g.clear_accum else l5.TileLoad(c), loc=g.loc),
            l5.TFor(ki.name, kt, (l5.TAssign("t0", product, loc=g.loc),), loc=g.loc),
            l5.TStore(c, "t0", loc=g.loc)), loc=g.loc)]

    def new_cb(self, name: str, shape: tuple[int, int], dtype: str, why: str, loc, depth: int = 1) -> int:
        """A new intermediate CB of `depth` blocks (compute to compute, or reader to compute); its index."""
        name = self.names.fresh(name)
        self.cbs = (*self.cbs, l5.CircularBuffer(len(self.cbs), name, shape, dtype, "intermediate",
                                                 cb_plan(shape, dtype, depth, why), loc=loc))
        return len(self.cbs) - 1

    def transposed(self, a: int, loc) -> tuple[list, int]:
        """A group transposing CB a's block tile by tile into a new CB, and the new CB's index."""
        cb = self.cbs[a]
        at = self.new_cb(f"{cb.name}_T", cb.shape[::-1], cb.dtype, "A transposed for the matmul", loc)
        return [self.transpose(a, at, loc)], at

    def transpose(self, src: int, dst: int, loc) -> l5.TileGroup:
        """dst[i, j] = src[j, i]^T, tile by tile (transpose_wh_tile), over dst's tiles."""
        i, j = (l5.Var(v) for v in self.tile_vars)
        return l5.TileGroup(self.tile_vars, self.grid(dst), (
            l5.TAssign("t0", l5.TileTranspose(l5.TileRef(src, j, i)), loc=loc),
            l5.TStore(l5.TileRef(dst, i, j), "t0", loc=loc)), loc=loc)

    def as_row(self, cb: int, tensor: str, loc) -> int | None:
        """For a column vector moved to or from a 1-D tensor (a row of tiles in DRAM, A1): a new CB
        holding it as that row, in the tensor's dtype. None for any other CB."""
        if self.ways.get(cb) != COL:
            return None
        c = self.cbs[cb]
        return self.new_cb(f"{c.name}_row", c.shape[::-1], self.dtypes[tensor],
                           "a column vector as the row of tiles DRAM holds", loc)

    def visit_ReadToCb(self, r: l4.ReadToCb) -> list:
        row = self.as_row(r.cb, r.src.tensor, r.loc)
        if row is None:
            return [self.generic_visit(r)]
        return [l5.ReadToCb(self.visit(r.src), row, loc=r.loc), self.transpose(row, r.cb, r.loc)]

    def visit_WriteFromCb(self, w: l4.WriteFromCb) -> list:
        row = self.as_row(w.cb, w.dst.tensor, w.loc)
        if row is None:
            return [self.generic_visit(w)]
        return [self.transpose(w.cb, row, w.loc), l5.WriteFromCb(row, self.visit(w.dst), loc=w.loc)]

    def visit_Reduce(self, r: l4.Reduce) -> list[l5.TileGroup]:
        """The scaler tile (1.0) made, then the vector's tiles reduced from the source's."""
        if self.scaler is None:
            self.scaler = self.new_cb("reduce_scaler", (TILE, TILE), "bfloat16", "reduce_tile's scaler",
                                      r.loc)
        before, src_cb, op = [], r.src, r.op
        if op == "absmax":                              # |x| into a CB of its own, then a max
            src_cb, op = self.new_cb(f"{self.cbs[r.src].name}_abs", self.cbs[r.src].shape,
                                     self.cbs[r.src].dtype, "|x| for reduce_absmax", r.loc), "max"
            before = [self.abs_group(r.src, src_cb, r.loc)]
        i, j, k = (l5.Var(v) for v in (*self.tile_vars, self.gemm_vars[2]))
        zero, (rows, cols) = l5.Const(0, "int32"), self.grid(src_cb)
        scaler = l5.TileRef(self.scaler, zero, zero)
        ones = l5.TileGroup(self.tile_vars, (1, 1), (
            l5.TAssign("t0", l5.TileFill(1.0), loc=r.loc), l5.TStore(l5.TileRef(self.scaler, i, j), "t0",
                                                                     loc=r.loc)), loc=r.loc)
        by_row = r.dim == 1                             # each row reduced: REDUCE_ROW, into column 0
        src, extent = (l5.TileRef(src_cb, i, k), cols) if by_row else (l5.TileRef(src_cb, k, j), rows)
        out = l5.TileRef(r.dst, i, j)
        step = l5.TileReduce(op, "row" if by_row else "col", src, scaler, "t0", r.dst)
        first = l5.TileLoad(out) if not r.clear else l5.TileFill(IDENTITY[r.op])
        return [*before, ones, l5.TileGroup(self.tile_vars, self.grid(r.dst), (
            l5.TAssign("t0", first, loc=r.loc),
            l5.TFor(k.name, extent, (l5.TAssign("t0", step, loc=r.loc),), loc=r.loc),
            l5.TStore(out, "t0", loc=r.loc)), loc=r.loc)]

    def abs_group(self, src: int, dst: int, loc) -> l5.TileGroup:
        """dst[i, j] = |src[i, j]|, tile by tile (abs_tile on the SFPU)."""
        i, j = (l5.Var(v) for v in self.tile_vars)
        return l5.TileGroup(self.tile_vars, self.grid(dst), (
            l5.TAssign("t0", l5.TileLoad(l5.TileRef(src, i, j)), loc=loc),
            l5.TAssign("t1", l5.TileUnary("abs", "t0"), loc=loc),
            l5.TStore(l5.TileRef(dst, i, j), "t1", loc=loc)), loc=loc)

    def visit_Kernel(self, k: l4.Kernel) -> l5.Kernel:
        body = self.visit(k.body)
        return self.rebuild(k, cbs=self.cbs, body=body)

    def visit_Fill(self, f: l4.Fill) -> l5.TileGroup:
        if any(isinstance(x, (l4.Var, l4.Load, l4.CoreArg)) for x in walk(f.value)):
            raise not_yet(f"T.fill with the computed value {f.value}", f.loc,
                          "fill with a constant, or compute the values in a T.Parallel")
        value = float(InterpL0().eval(f.value, Env()))     # the arithmetic L4 would do
        i, j = (l5.Var(n) for n in self.tile_vars)
        return l5.TileGroup(self.tile_vars, self.grid(f.cb), (
            l5.TAssign("t0", l5.TileFill(value), loc=f.loc),
            l5.TStore(l5.TileRef(f.cb, i, j), "t0", loc=f.loc)), loc=f.loc)

    def visit_CopyCb(self, c: l4.CopyCb) -> l5.TileGroup:
        return copy_group(c.src, c.dst, self.grid(c.dst), self.tile_vars, c.loc)

    def visit_Parallel(self, p: l4.Parallel) -> list[l5.TileGroup]:
        groups: list = []
        for s in inline_lets(p.body):
            if not isinstance(s, l4.Store):
                raise not_yet(f"a {type(s).__name__} inside T.Parallel", getattr(s, "loc", p.loc),
                              "a T.Parallel body may only store elementwise values")
            s = replace(s, value=subst(s.value, self.called))
            s, spread = self.spread_columns(p, s)
            groups += spread
            if of_indices_alone(s, p):
                groups += self.generated(p, s)
                continue
            parts: list = []
            s = replace(s, value=generated_parts(s.value, p, lambda e: self.part(p, s, e, parts), set(self.read)))
            refuse_element_scalars(s, self.read)
            groups += parts
            groups.append(elementwise_group(p, s, self.cbs, self.shapes, self.tile_vars, self.grid(s.cb),
                                            self.bcasts))
        return groups

    def visit_Store(self, s: l4.Store):
        raise not_yet("a store outside T.Parallel", s.loc, "write whole buffers in a T.Parallel")

    def visit_Let(self, s: l4.Let) -> l5.Let | list:
        self.where = s.loc
        return [] if s.var in self.called else self.generic_visit(s)

    def visit_Load(self, e: l4.Load):
        raise not_yet(f"reading one element of {self.cbs[e.cb].name} outside T.Parallel",
                      e.loc if e.loc != NOLOC else self.where, "read whole buffers in a T.Parallel")

"""C2 lower-tile-intrinsics: L4 -> L5

Changes:   every block operation becomes one TileGroup over the 32x32 tiles of its output block,
           whose body computes one output tile in float32 temporaries t0, t1, ... and stores it:
           gemm    c[mi, ni] = (load c[mi, ni] | fill 0) + sum over ki of a[mi, ki] @ b[ki, ni]
           fill    cb[ti, tj] = fill v
           copy_cb d[ti, tj] = load s[ti, tj]              (the store casts)
           parallel, one group per store: the elementwise value as tile operations (_tile_expr)
           Tile-loop names are fresh: they clash with no name of the kernel.
Preserves: read_to_cb, write_from_cb, loops and lets; which CB every value lands in; the order
           of operations, and every elementwise rounding.
Why:       a Tensix core computes on 32x32 tiles (FPU matmul and eltwise, SFPU on DST), never on
           a whole block at once; from here on, every operation is one a core has.
Numerics:  the GEMM K sum becomes a chain of 32x32 tile products added into a float32 temporary
           in K order, which rounds differently from one float32 product of the whole block.
           Elementwise maps, fills and copies round exactly as before (bit-identical).
"""
from __future__ import annotations

from nanott.diagnostics import NanottError, not_yet
from nanott.ir import NOLOC, walk
from nanott.languages import l4, l5
from nanott.languages.l0_interp import Env, InterpL0
from nanott.passes._rewriter import Rewriter
from nanott.passes._tile_expr import elementwise_group
from nanott.passes._tile_groups import copy_group, fresh, tile_grid, used_names
from nanott.target import Target


def lower_tile_intrinsics(program: l4.Kernel, target: Target) -> l5.Kernel:
    return LowerTileIntrinsics(program).visit(program)



class LowerTileIntrinsics(Rewriter, src=l4.LANG, dst=l5.LANG):
    def __init__(self, program: l4.Kernel):
        self.cbs = program.cbs
        used = used_names(program)
        self.gemm_vars = tuple(fresh(n, used) for n in ("mi", "ni", "ki"))
        self.tile_vars = (fresh("ti", used), fresh("tj", used))
        self.where = NOLOC                    # the let being rewritten, for a load's error

    def grid(self, cb: int) -> tuple[int, int]:
        return tile_grid(self.cbs[cb].shape)

    def visit_Gemm(self, g: l4.Gemm) -> l5.TileGroup:
        if g.transpose_a or g.transpose_b:
            raise NanottError("NT316", "T.gemm with a transposed operand is not supported yet", g.loc,
                              "store the operand already transposed in DRAM (B as K x N) and "
                              "drop transpose_A / transpose_B")
        (mt, kt), (_, nt) = self.grid(g.a), self.grid(g.b)
        mi, ni, ki = self.gemm_vars
        c = l5.TileRef(g.c, l5.Var(mi), l5.Var(ni))
        product = l5.TileMatmul(l5.TileRef(g.a, l5.Var(mi), l5.Var(ki)),
                                l5.TileRef(g.b, l5.Var(ki), l5.Var(ni)), "t0")
        return l5.TileGroup((mi, ni), (mt, nt), (
            l5.TAssign("t0", l5.TileFill(0.0) if g.clear_accum else l5.TileLoad(c), loc=g.loc),
            l5.TFor(ki, kt, (l5.TAssign("t0", product, loc=g.loc),), loc=g.loc),
            l5.TStore(c, "t0", loc=g.loc)), loc=g.loc)

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
        groups = []
        for s in p.body:
            if not isinstance(s, l4.Store):
                raise not_yet(f"a {type(s).__name__} inside T.Parallel", getattr(s, "loc", p.loc),
                              "a T.Parallel body may only store elementwise values")
            groups.append(elementwise_group(p, s, self.cbs, self.tile_vars, self.grid(s.cb)))
        return groups

    def visit_Store(self, s: l4.Store):
        raise not_yet("a store outside T.Parallel", s.loc, "write whole buffers in a T.Parallel")

    def visit_Let(self, s: l4.Let) -> l5.Let:
        self.where = s.loc
        return self.generic_visit(s)

    def visit_Load(self, e: l4.Load):
        raise not_yet(f"reading one element of {self.cbs[e.cb].name} outside T.Parallel",
                      e.loc if e.loc != NOLOC else self.where, "read whole buffers in a T.Parallel")

"""D5 insert-dst-management: L8 -> L9

Changes:   every tile group becomes DST code. Its temporaries get DST slots 0..r-1 within a
           tile by a linear scan over their live ranges (_d5_dst_slots.py): a new temporary takes
           the lowest slot no live temporary holds, an in-place op (`t1 = mul(t0, 2)`, a
           matmul's accumulator) the slot of the operand it updates, which must die there (the
           DST has no register copy).
           With the DST's capacity c (8 tiles, 4 when any compute CB is float32 or a cast needs
           typecast_tile from a float32 DST, and the DST accumulates in fp32), the group's n tiles
           run in n/s batches of s tiles, s the largest divisor of n with s * r <= c; r > c is error
           NT203. A batch is: tile_regs_acquire; each statement of the body in order, vectorised
           over the batch (`for j in 0..s`, with lets recovering the group's tile indices from t =
           sb * s + j), member j using slots j * r + k; tile_regs_commit; tile_regs_wait; the body's
           stores as pack_tile, vectorised the same way; tile_regs_release. A TFor becomes a For
           whose body is vectorised the same way: the K loop of a GEMM is interchanged with the
           batch loop, which is legal because batch members use disjoint DST slots. A CB tile (row,
           col) is index row * block_cols + col of the CB's waited front (loads) or reserved back
           (packs). Inits stay where D4 put them, not vectorised. The program gets its ComputeConfig
           (fp32_dest_acc_en, DST tiles, and the math fidelity chosen from the FPU operands' dtypes
           by _d5_fidelity.py: the fewest phases whose products are exact, HiFi4 unless fp8
           operands allow fewer, or the user's choice (--fidelity), warned (NT207) when it has
           fewer phases than the rule; the `math-fidelity` note says which and why) and an empty
           argument table.
           An init the batching made redundant (every path to it already holds what it sets:
           a group of one batch needs no re-init per tile) is dropped (sim/engine.py: prune).
Preserves: the CB protocol around each group, the order of the operations applied to each tile,
           every init that sets something, the reader and the writer, and every number: the DST is modelled at
           float32 in both accumulation modes (so 16-bit DST rounding is not modelled yet), each
           op computes what its L8 temporary computed, and pack_tile rounds to the CB's dtype to
           nearest even, as L8's store did. (No `Numerics:` line: L9 is bit-identical to L8.)
Why:       a tile temporary is a DST register on the device. MATH fills a DST section between
           acquire and commit, PACK drains it between wait and release; batching as many tiles
           as fit amortises the handshake, as Metalium's block-wise compute kernels do.
"""
from __future__ import annotations

import warnings
from math import prod
from typing import Any

from nanott.diagnostics import NanottError, NanottWarning
from nanott.ir import CheckError, replace, walk
from nanott.languages import l5, l8, l9
from nanott.passes._affine import affine, build
from nanott.passes._d5_dst_slots import dst_slots
from nanott.passes._d5_fidelity import choose
from nanott.passes._names import NameSupply, names_in
from nanott.passes._rewriter import Rewriter
from nanott.sim.engine import State, formats_of, prune
from nanott.target import TILE, Target
from nanott.terminals import MATH_FIDELITIES


def insert_dst_management(program: l8.Program, target: Target) -> l9.Program:
    body = program.kernel("compute").body
    refs = [x.cb for x in walk(body) if isinstance(x, l5.TileRef)]
    fp32 = (any(program.cbs[cb].dtype == "float32" for cb in refs)
            or any(isinstance(x, l5.TileCast) for x in walk(body)))
    out = InsertDstManagement(program, fp32, target.dst_capacity(fp32)).visit(program)
    compute = out.kernel("compute")
    body, _ = prune(compute.body, State(), formats_of(out))
    out = replace(out, kernels=tuple(replace(k, body=body) if k is compute else k for k in out.kernels))
    fidelity, why, rule = choose(out, target.math_fidelity)
    if MATH_FIDELITIES.index(fidelity) < MATH_FIDELITIES.index(rule):
        warnings.warn(NanottWarning("NT207", f"math fidelity {fidelity} has fewer phases than {rule}, the "
                                    "fewest whose products are exact for these dtypes: the device's results "
                                    "will differ from the simulated ones", program.loc,
                                    hint=f"leave --fidelity out, or give {rule}"))
    notes = (l9.Attr("math-fidelity", why, loc=out.loc),) if why else ()
    return replace(out, compute=replace(out.compute, math_fidelity=fidelity), attrs=out.attrs + notes)


def lin(e: Any) -> Any:
    """An index expression, affine parts folded: (j * 2) + 1, not ((j * 2) + 0) + 1."""
    return build(*affine(e))


def const(n: int) -> l9.Const:
    return l9.Const(n, "int32")


class InsertDstManagement(Rewriter, src=l8.LANG, dst=l9.LANG, whole=("TileGroup",)):
    """Per tile group (the one being rewritten): `slots` (temporary -> DST slot), `width` (slots
    per tile, r), `batch` (tiles per acquire, s), and the variables of the batch loop (`batch_var`,
    sb, None for a single batch) and of the member loop (`member_var`, j, None for one member)."""

    def __init__(self, program: l8.Program, fp32: bool, capacity: int):
        self.fp32, self.capacity = fp32, capacity
        self.block_cols = {cb.index: (1, *cb.shape)[-1] // TILE for cb in program.cbs}
        self.names = NameSupply(names_in(program))

    def visit_Program(self, p: l8.Program) -> l9.Program:
        return self.rebuild(p, compute=l9.ComputeConfig(self.fp32, self.capacity, "HiFi4", loc=p.loc),
                            args=None)

    def visit_TileGroup(self, g: l8.TileGroup) -> list:
        self.group, self.slots = g, dst_slots(g.body)
        self.width = width = max(self.slots.values(), default=-1) + 1
        count = prod(g.extents)
        if width > self.capacity:
            mode = "fp32 accumulation" if self.fp32 else "16-bit accumulation"
            raise NanottError("NT203", f"the tile program at line {g.loc.line} needs {width} DST tiles; "
                              f"the DST holds {self.capacity} ({mode})", g.loc,
                              "split the computation into several T.Parallel steps with fewer "
                              "intermediate values" + (", or use bfloat16 buffers: a 16-bit DST holds "
                                                       "twice as many tiles" if self.fp32 else ""))
        self.batch = batch = max(d for d in range(1, count + 1)
                                 if count % d == 0 and d * width <= self.capacity)
        self.batch_var = self.names.numbered("sb") if count > batch else None
        self.member_var = self.names.numbered("j") if batch > 1 else None
        stores = next((i for i, x in enumerate(g.body) if all(
            isinstance(y, (l5.TStore, l8.Init)) for y in g.body[i:])), len(g.body))
        if any(isinstance(x, l5.TStore) for x in walk(g.body[:stores])):
            raise CheckError(f"the tile group at {g.loc} stores before its last math statement")
        lets = self.lets(walk(g.body)) if batch == 1 else []
        section = (*lets, l9.RegsAcquire(loc=g.loc), *self.vec(g.body[:stores]), l9.RegsCommit(loc=g.loc),
                   l9.RegsWait(loc=g.loc), *self.vec(g.body[stores:]), l9.RegsRelease(loc=g.loc))
        if self.batch_var is None:
            return list(section)
        return [l9.For(self.batch_var, const(count // batch), "serial", 0, section, loc=g.loc)]

    def vec(self, body: tuple) -> list:
        """Each statement of a tile program, for every member j of the batch."""
        out: list[Any] = []
        for x in body:
            if isinstance(x, l8.Init):
                out.append(x)
            elif isinstance(x, l5.TFor):
                out.append(l9.For(x.var, const(x.extent), "serial", 0, tuple(self.vec(x.body)), loc=x.loc))
            else:
                call = self.call(x)
                out.append(call if self.member_var is None else l9.For(
                    self.member_var, const(self.batch), "serial", 0, (*self.lets(walk(x)), call), loc=x.loc))
        return out

    def call(self, x: Any) -> Any:
        """The Metalium call of one TAssign or TStore, on this batch member's slots."""
        loc = x.loc
        if isinstance(x, l5.TStore):
            return l9.PackTile(self.slot(x.src), x.dst.cb, self.index(x.dst), loc=loc)
        dst = self.slot(x.dst)
        match x.op:
            case l5.TileLoad(ref):
                return l9.CopyTile(ref.cb, self.index(ref), dst, loc=loc)
            case l5.TileFill(value):
                return l9.FillTile(dst, value, loc=loc)
            case l5.TileBinary(op, a, b, bcast):
                return l9.BinaryTiles(op, a.cb, b.cb, self.index(a), self.index(b), dst, bcast, loc=loc)
            case l5.TileBcast(ref, dim, out):
                return l9.UnaryBcast(dim, ref.cb, self.index(ref), dst, out, loc=loc)
            case l5.TileReduce(op, dim, src, scaler, acc, out) if acc == x.dst:
                return l9.ReduceTile(op, dim, src.cb, scaler.cb, self.index(src), self.index(scaler), dst,
                                     out, loc=loc)
            case l5.TileBinaryTemps(op, a, b):
                return l9.SfpuBinary(op, self.slot(a), self.slot(b), dst, loc=loc)
            case l5.TileWhere(c, a, b):
                return l9.SfpuWhere(self.slot(c), self.slot(a), self.slot(b), dst, loc=loc)
            case l5.TileBits(op, a, str() as b):
                return l9.SfpuBitsBinary(op, self.slot(a), self.slot(b), dst, loc=loc)
            case l5.TileBits(op, a, int() as b) if self.slots[a] == self.slots[x.dst]:
                return l9.SfpuBitsScalar(op, dst, b, loc=loc)
            case l5.TileScalar(op, a, scalar) if self.slots[a] == self.slots[x.dst]:
                return l9.SfpuScalar(op, dst, scalar, loc=loc)
            case l5.TileUnary(op, a) if self.slots[a] == self.slots[x.dst]:
                return l9.SfpuUnary(op, dst, loc=loc)
            case l5.TileCast(a, dtype) if self.slots[a] == self.slots[x.dst]:
                return l9.SfpuTypecast(dst, dtype, loc=loc)
            case l5.TileMatmul(a, b, acc, transpose) if acc == x.dst:
                return l9.MatmulTiles(a.cb, b.cb, self.index(a), self.index(b), dst, transpose, loc=loc)
            case l5.TileTranspose(ref):
                return l9.TransposeTile(ref.cb, self.index(ref), dst, loc=loc)
        raise CheckError(f"{x.head()} at {loc}: an in-place DST op (matmul, reduce, SFPU scalar, "
                         "unary, typecast) must assign the temporary it updates")

    def slot(self, temp: str) -> Any:
        k = self.slots[temp]
        return const(k) if self.member_var is None else lin(l9.BinOp("+", l9.BinOp(
            "*", l9.Var(self.member_var), const(self.width)), const(k)))

    def index(self, ref: l5.TileRef) -> Any:
        return lin(l9.BinOp("+", l9.BinOp("*", self.visit(ref.row), const(self.block_cols[ref.cb])),
                            self.visit(ref.col)))

    def lets(self, nodes) -> list:
        """Lets recovering the group's tile indices a statement uses, from t = sb * s + j."""
        used = {x.name for x in nodes if isinstance(x, l5.Var)}
        sb = l9.BinOp("*", l9.Var(self.batch_var), const(self.batch)) if self.batch_var else const(0)
        t = lin(l9.BinOp("+", sb, l9.Var(self.member_var) if self.member_var else const(0)))
        out, extents = [], self.group.extents
        for i, (v, n) in enumerate(zip(self.group.vars, extents)):
            later = prod(extents[i + 1:])
            value = t if later == 1 else l9.BinOp("//", t, const(later))
            value = value if i == 0 else l9.BinOp("%", value, const(n))
            if v in used:
                out.append(l9.Let(v, value if not isinstance(t, l9.Const) else const(
                    t.value // later % n), loc=self.group.loc))
        return out


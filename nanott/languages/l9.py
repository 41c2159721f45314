"""L9: the compute kernel drives the DST register file; the argument table is fixed (D5, E1, F1).

  Program ::= Program(name, params, work, cbs, kernels, attrs, compute: ComputeConfig, args: ArgTable | None)
  Stmt    ::= (L8's statements but TileGroup)
            | RegsAcquire() | RegsCommit() | RegsWait() | RegsRelease()      the DST handshake
            | CopyTile(cb: int, index: Expr, dst: Expr)                      CB front tile -> DST
            | BinaryTiles(op, a_cb: int, b_cb: int, a_index: Expr, b_index: Expr, dst: Expr, bcast)
                                                  FPU; bcast rows | cols: {op}_tiles_bcast_{bcast}
            | MatmulTiles(a_cb: int, b_cb: int, a_index: Expr, b_index: Expr, dst: Expr, transpose: bool)
                                                  DST += A @ B, or A @ B^T (the init's transpose flag)
            | MatmulBlock(a_cb, b_cb, a_index, b_index, dst, rt: int, ct: int, kt: int)
                                                  DST[dst + r*ct + c] += A[a + r*kt] @ B[b + c], r < rt, c < ct
            | TransposeTile(cb: int, index: Expr, dst: Expr)                 CB front tile^T -> DST
            | UnaryBcast(dim, cb: int, index: Expr, dst: Expr, out: int)      a vector tile spread -> DST
            | ReduceTile(op, dim, cb: int, scaler_cb: int, index: Expr, scaler_index: Expr, dst: Expr,
                         out: int)                DST (op)= CB tile reduced along dim (reduce_tile)
            | SfpuBinary(op, a: Expr, b: Expr, dst: Expr)                     DST op DST -> DST
            | SfpuScalar(op, dst: Expr, scalar: float)                        DST op constant, in place
            | SfpuUnary(op, dst: Expr)                                        f(DST), in place
            | SfpuTypecast(dst: Expr, dtype)                                  DST rounded to dtype, in place
            | SfpuWhere(cond: Expr, a: Expr, b: Expr, dst: Expr)              DST[a] where DST[cond] != 0,
                                                                              else DST[b] -> DST (where_tile)
            | SfpuBitsBinary(op: bitop, a: Expr, b: Expr, dst: Expr)          DST op DST -> DST, on int32
                                                  (binary_right_shift_tile, bitwise_and_binary_tile, ...)
            | SfpuBitsScalar(op: bitop, dst: Expr, value: int)               DST op constant, in place, on
                                                  int32 (right_shift_tile, bitwise_and_tile, ...)
            | FillTile(dst: Expr, value: float)
            | PackTile(dst: Expr, cb: int, slot: Expr)                        DST -> reserved CB slot
  ComputeConfig ::= ComputeConfig(fp32_dest_acc: bool, dst_tiles: int, math_fidelity)
  ArgTable      ::= ArgTable(kernels: KernelArgs*, cores: CoreArgs*)           made by E1
  KernelArgs    ::= KernelArgs(role, names: str*)          the runtime-argument slots of a kernel
  CoreArgs      ::= CoreArgs(core: int*, role, values: (int | str)*)   one core's values; a str
                                                                       names a host-side value
Delta from L8 (made by D5 insert-dst-management; E1 finalize-signature fills `args`):
  - TileGroup, TAssign, TStore, TFor, TileLoad, TileFill, TileBinary, TileBinaryTemps, TileScalar,
    TileUnary, TileCast, TileWhere, TileBits, TileMatmul, TileTranspose, TileRef   tile temporaries become DST slots,
                                                              in batches that fit the DST
  + RegsAcquire, RegsCommit, RegsWait, RegsRelease   the MATH/PACK handshake on a DST section
  - TileBcast, TileReduce                            (vectors) become UnaryBcast, ReduceTile
  + MatmulBlock                                      a subblock's matmuls in one call (made by D5b)
  + CopyTile, BinaryTiles, MatmulTiles, TransposeTile, UnaryBcast, ReduceTile, SfpuBinary,
    SfpuScalar, SfpuUnary, SfpuTypecast, SfpuWhere, SfpuBitsBinary, SfpuBitsScalar, FillTile, PackTile
                                                     Metalium's calls
  ~ Program          gains the compute configuration and the runtime-argument table
  + ComputeConfig, ArgTable, KernelArgs, CoreArgs
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l8
from nanott.languages.l0 import param_lines
from nanott.languages.l8 import (  # noqa: F401  (productions L9 keeps)
    Print, PrintCb, Accessor, Attr, BinOp, Binding, Cast, CbPlan, CbPop, CbPush, CbReserve, CbWait, CircularBuffer,
    BackElement, Const, CoreArg, CoreWork, DeviceKernel, FrontElement, For, GenerateToCb, Init, Select, Let, NocReadBarrier,
    NocReadPage, NocWriteBarrier, NocWritePage, Tensor, TileLayout, UnOp, Var, WorkSplit, statements_in_their_kernels,
    COOPERATION, McastPages, Rect, SemInc, SemSet, SemSetMcast, SemWait, When, NocReadTrid, NocReadBarrierTrid)
from nanott.printing import num, seq
from nanott.terminals import (BITS_BINARY, BITS_SCALAR, BROADCAST, bits_init, reduce_kind,  # noqa: F401 (G1's names)
                              sfpu_binary, typecast_formats)


def _simple(name: str, text: str):
    cls = type(name, (), {"head": lambda self: text, "__module__": __name__})
    return node(cls)


RegsAcquire = _simple("RegsAcquire", "tile_regs_acquire")
RegsCommit = _simple("RegsCommit", "tile_regs_commit")
RegsWait = _simple("RegsWait", "tile_regs_wait")
RegsRelease = _simple("RegsRelease", "tile_regs_release")


@node
class CopyTile:
    cb: int
    index: Expr
    dst: Expr

    def head(self):
        return f"copy_tile cb{self.cb}[{self.index}] -> dst[{self.dst}]"


@node
class BinaryTiles:
    op: TileOp
    a_cb: int
    b_cb: int
    a_index: Expr
    b_index: Expr
    dst: Expr
    bcast: Bcast = "none"

    def head(self):
        how = "" if self.bcast == "none" else f"_bcast_{self.bcast}"
        return (f"{self.op}_tiles{how} cb{self.a_cb}[{self.a_index}], cb{self.b_cb}[{self.b_index}]"
                f" -> dst[{self.dst}]")


@node
class MatmulTiles:
    a_cb: int
    b_cb: int
    a_index: Expr
    b_index: Expr
    dst: Expr
    transpose: bool = False

    def head(self):
        return (f"matmul_tiles cb{self.a_cb}[{self.a_index}], cb{self.b_cb}[{self.b_index}]"
                f"{'^T' if self.transpose else ''} -> dst[{self.dst}] +=")


@node
class MatmulBlock:
    a_cb: int
    b_cb: int
    a_index: Expr
    b_index: Expr
    dst: Expr
    rt: int
    ct: int
    kt: int

    def head(self):
        return (f"matmul_block cb{self.a_cb}[{self.a_index}], cb{self.b_cb}[{self.b_index}] -> dst[{self.dst}] += "
                f"({self.rt}x{self.ct} tiles, A rows {self.kt} apart)")


@node
class UnaryBcast:
    dim: BcastDim
    cb: int
    index: Expr
    dst: Expr
    out: int

    def head(self):
        how = BROADCAST.get(self.dim, self.dim)
        return f"unary_bcast<{how}> cb{self.cb}[{self.index}] -> dst[{self.dst}]"


@node
class ReduceTile:
    op: ReduceOp
    dim: ReduceDim
    cb: int
    scaler_cb: int
    index: Expr
    scaler_index: Expr
    dst: Expr
    out: int

    def head(self):
        return (f"reduce_tile<{reduce_kind(self.op, self.dim)}> cb{self.cb}[{self.index}], "
                f"cb{self.scaler_cb}[{self.scaler_index}] -> dst[{self.dst}]")




@node
class TransposeTile:
    cb: int
    index: Expr
    dst: Expr

    def head(self):
        return f"transpose_wh_tile cb{self.cb}[{self.index}] -> dst[{self.dst}]"


@node
class SfpuBinary:
    op: TileOp
    a: Expr
    b: Expr
    dst: Expr

    def head(self):
        return f"{sfpu_binary(self.op)} dst[{self.a}], dst[{self.b}] -> dst[{self.dst}]"




@node
class SfpuScalar:
    op: TileOp
    dst: Expr
    scalar: float

    def head(self):
        return f"{self.op}_unary_tile dst[{self.dst}], {num(self.scalar)}"


@node
class SfpuUnary:
    op: UnaryTileOp
    dst: Expr

    def head(self):
        return f"{self.op}_tile dst[{self.dst}]"


@node
class SfpuTypecast:
    dst: Expr
    dtype: DType

    def head(self):
        return f"typecast_tile<{typecast_formats(self.dtype)}> dst[{self.dst}]"




@node
class SfpuWhere:
    cond: Expr
    a: Expr
    b: Expr
    dst: Expr

    def head(self):
        return f"where_tile dst[{self.cond}] ? dst[{self.a}] : dst[{self.b}] -> dst[{self.dst}]"


@node
class SfpuBitsBinary:
    op: BitOp
    a: Expr
    b: Expr
    dst: Expr

    def head(self):
        return f"{BITS_BINARY[self.op]} dst[{self.a}], dst[{self.b}] -> dst[{self.dst}]"


@node
class SfpuBitsScalar:
    op: BitOp
    dst: Expr
    value: int

    def head(self):
        return f"{BITS_SCALAR[self.op]} dst[{self.dst}], {self.value}"


@node
class FillTile:
    dst: Expr
    value: float

    def head(self):
        return f"fill_tile dst[{self.dst}], {num(self.value)}"


@node
class PackTile:
    dst: Expr
    cb: int
    slot: Expr

    def head(self):
        return f"pack_tile dst[{self.dst}] -> cb{self.cb}.back[{self.slot}]"


@node
class ComputeConfig:
    fp32_dest_acc: bool
    dst_tiles: int
    math_fidelity: MathFidelity

    def __str__(self):
        return (f"compute config: fp32_dest_acc_en={num(self.fp32_dest_acc)}, DST {self.dst_tiles} "
                f"tiles, {self.math_fidelity}")


@node
class KernelArgs:
    role: Role
    names: tuple[str, ...]


@node
class CoreArgs:
    core: tuple[int, int]
    role: Role
    values: tuple[int | str, ...]


@node
class ArgTable:
    kernels: tuple[KernelArgs, ...]
    cores: tuple[CoreArgs, ...]

    def lines(self) -> list[str]:
        out = [f"  runtime args of {k.role}: {seq(k.names)}" for k in self.kernels]
        return out + [f"    core ({seq(c.core)}) {c.role}: {seq(c.values)}" for c in self.cores]


@node
class Program:
    name: str
    params: tuple[Tensor, ...]
    work: WorkSplit
    cbs: tuple[CircularBuffer, ...]
    kernels: tuple[DeviceKernel, ...]
    attrs: tuple[Attr, ...]
    compute: ComputeConfig
    args: ArgTable | None

    def lines(self):
        out = param_lines(self) + self.work.lines() + [cb.line() for cb in self.cbs]
        out += [f"  {self.compute}"] + [f"  {a.key}: {a.value}" for a in self.attrs if a.key in NOTES]
        out += self.args.lines() if self.args else []
        for k in self.kernels:
            out += k.lines()
        return out

    def kernel(self, role: str) -> DeviceKernel:
        return next(k for k in self.kernels if k.role == role)


Expr = l8.Expr
NOTES = ("dst-accumulator", "multicast", "math-fidelity")   # attributes a pass adds to say what it decided, printed
DST_OPS = (RegsAcquire, RegsCommit, RegsWait, RegsRelease, CopyTile, BinaryTiles, MatmulTiles, MatmulBlock,
           TransposeTile, UnaryBcast, ReduceTile, SfpuBinary, SfpuScalar, SfpuUnary, SfpuTypecast,
           SfpuWhere, SfpuBitsBinary, SfpuBitsScalar, FillTile, PackTile)
Stmt = (CbReserve | CbPush | CbWait | CbPop | NocReadPage | NocWritePage | NocReadBarrier
        | NocWriteBarrier | GenerateToCb | Init | For | Let | Print | PrintCb | RegsAcquire | RegsCommit | RegsWait
        | RegsRelease
        | CopyTile | BinaryTiles | MatmulTiles | MatmulBlock | TransposeTile | UnaryBcast | ReduceTile | SfpuBinary
        | SfpuScalar | SfpuUnary | SfpuTypecast | SfpuWhere | SfpuBitsBinary | SfpuBitsScalar | FillTile | PackTile | When | SemSet | SemWait | SemInc
        | McastPages | SemSetMcast | NocReadTrid | NocReadBarrierTrid)

PROTOCOL = dict(l8.PROTOCOL, compute=("CbWait", "CbPop", "CbReserve", "CbPush", "Init", "Print", "PrintCb")
                + tuple(c.__name__ for c in DST_OPS))

LANG = Language("L9", sys.modules[__name__], Program, l8.LANG, {"Stmt": Stmt, "Expr": Expr},
                invariants=lambda p: statements_in_their_kernels(p, PROTOCOL))

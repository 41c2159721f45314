"""L5: block operations become programs over 32x32 tiles (C2).

  Stmt     ::= ReadToCb | WriteFromCb | For | Let | Print | PrintCb
             | GenerateToCb(cb: int, vars: str*, extents: int*, value: Expr)
                                                   the reader computes a block from indices alone:
                                                   element (vars) of cb's block gets value (the one
                                                   place an Expr may call a function: UnOp)
             | TileGroup(vars: str*, extents: int*, body: TStmt*)   for every tile of an output block
  TStmt    ::= TAssign(dst: str, op: TOp)          a tile temporary (a future DST slot) gets a value
             | TStore(dst: TileRef, src: str)      a temporary is stored to a CB tile (a future pack)
             | TFor(var, extent: int, body: TStmt*)
  TOp      ::= TileLoad(src: TileRef)                                  copy a CB tile
             | TileFill(value: float)                                  a tile of one value
             | TileBinary(op, a: TileRef, b: TileRef, bcast)           FPU: both operands from CBs;
                                                                       bcast: none | rows | cols (b a vector)
             | TileBinaryTemps(op, a: str, b: str)                     SFPU: both operands temporaries
             | TileScalar(op, a: str, scalar: float)                   SFPU: temporary op constant
             | TileUnary(op: unary, a: str)                            SFPU: a function of a temporary
             | TileCast(a: str, dtype)                                 SFPU: round a temporary to dtype
             | TileWhere(cond: str, a: str, b: str)                    SFPU: a where cond != 0, else b
             | TileBits(op: bitop, a: str, b: str | int)               SFPU on int32: a op b (b a temporary
                                                                       or a constant), an int32 result
             | TileMatmul(a: TileRef, b: TileRef, acc: str, transpose_b: bool)   acc + a @ b (b^T)
             | TileTranspose(src: TileRef)                             a CB tile, transposed (32x32)
             | TileBcast(src: TileRef, dim, out: int)                  a vector tile spread over a whole
                                                                       tile (dim rows: row 0 down all
                                                                       rows; cols: column 0 across)
             | TileReduce(op, dim, src: TileRef, scaler: TileRef, acc: str, out: int)
                                       acc (op)= src reduced along dim (row: each row, into column 0;
                                       col: each column, into row 0), times the scaler tile's [0, 0]
  TileRef  ::= TileRef(cb: int, row: Expr, col: Expr)                  a tile of a CB's block
  op       ::= add | sub | mul | div | rsub | max | min
               (TileBinary: add, sub, mul; TileScalar: add, sub, mul, div, rsub = scalar - a)
  bitop    ::= and | or | xor | shl | shr                 (shr: arithmetic, as Python's >> of an int)
  unary    ::= exp | exp2 | log | sqrt | rsqrt | abs | sigmoid | tanh | relu | negative
             | eqz | nez | ltz | lez | gtz | gez     (x == 0, ...: 1.0 where true, 0.0 where not)
  `out` of TileBcast and TileReduce is the CB the group packs to: their inits configure its packer.
  Expr     ::= Const | Var | BinOp | Cast | Select | CoreArg | Element | UnOp   (Element: L4's, in lets)

Delta from L4 (made by C2 lower-tile-intrinsics):
  - Gemm, Fill, Parallel, Store, Load, CopyCb   each becomes one TileGroup over its output tiles
  - Reduce                                      a reduction becomes two TileGroups (below)
  + TileGroup, TAssign, TStore, TFor            a tile program per output tile, in temporaries
  + TileLoad, TileFill, TileBinary, TileBinaryTemps, TileScalar, TileMatmul   the tile operations
  + TileUnary, TileCast                         SFPU functions and casts of a temporary, in place
  + TileWhere                                   a select on data (T.if_then_else of a comparison of
                                                buffers): the condition a 0/1 tile, from a
                                                subtraction and a comparison with zero
  + TileBits                                    bit operations on integer elements (int4 weights
                                                unpacked from bytes): the SFPU's int32 ops, its
                                                operands typecast to int32 first (TileCast int32)
                                                and its result back to float32 (TileCast float32:
                                                from the int32 in DST) where a float op uses it
  + TileTranspose                               a CB tile transposed into a temporary (for A^T)
  + TileBcast, TileReduce                       vectors: a broadcast into a temporary, a reduction
  + TileRef                                     a tile of a CB's block, by tile row and column
  + GenerateToCb                                a T.Parallel value of indices alone (a causal mask:
                                                no buffer in it) is made by the reader, element by
                                                element, into a CB of its own; a group copies it on
                                                (or the part of a value that reads no buffer, a
                                                decay mask exp2((i - j) * d), loaded where it was).
                                                An elementwise function (UnOp) becomes a TileUnary;
                                                it stays only in such a value: the reader computes
                                                it in float32

Vectors. A 1-D buffer of n elements lies in n/32 tiles, as a column or as a row (C2 decides from
its uses, _c2_vectors.py): a column vector's element k is at row k % 32 of column 0 of tile k // 32,
and its CB has the 2-D shape (n, 32); a row vector's is at column k % 32 of row 0, shape (32, n).
The other elements of those tiles carry no data: reduce_tile writes column 0 (row 0) and the
broadcasts read only it; an elementwise map over a vector computes on whole tiles. A reduction
becomes a group filling a one-tile CB with 1.0 (reduce_tile's scaler) and a group over the
vector's tiles: acc = fill identity (0, -inf, +inf) or the old tile (clear=False); for each tile
along the reduced dim, acc = reduce(acc, src tile); store. A vector in a 2-D T.Parallel (s[i],
w[j]) is a broadcast: `x op s[i]` with x in a CB is TileBinary with bcast (add, sub, mul), anything
else spreads the vector over a temporary first (TileBcast).

Temporaries are float32 tiles; a TStore rounds to the CB's dtype, a TileCast to its dtype (to
nearest even) where it stands. A TileBits computes on int32 (l0_interp.on_int32: two's complement,
>> arithmetic, << wrapping) the integers its float32 operands hold (exact below 2**24). The elementwise operations compute in float32 as L0 does (the
functions of l0_interp.UNARY; relu is max(x, 0)). TileMatmul accumulates one 32x32 product per K
tile, in order; that is the rounding every later level keeps.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l4
from nanott.languages.l4 import (  # noqa: F401  (productions L5 keeps)
    Print, PrintCb, Accessor, Attr, BinOp, Cast, CbPlan, CircularBuffer, Const, CoreArg, CoreWork, Element, For, Kernel,
    Let, ReadToCb, Select, Tensor, TileLayout, TileSlice, RowGather, UnOp, Var, WorkSplit, WriteFromCb, cbs_declared)
from nanott.printing import num, seq, shape

from nanott.terminals import BCAST, BIT_OPS, REDUCE_DIMS, TILE_OPS, UNARY_TILE_OPS  # noqa: E402,F401


@node
class TileRef:
    cb: int
    row: Expr
    col: Expr

    def __str__(self):
        return f"cb{self.cb}[{self.row}, {self.col}]"


@node
class TileLoad:
    src: TileRef

    def __str__(self):
        return f"load {self.src}"


@node
class TileFill:
    value: float

    def __str__(self):
        return f"fill {num(self.value)}"


@node
class TileBinary:
    op: TileOp
    a: TileRef
    b: TileRef
    bcast: Bcast = "none"

    def __str__(self):
        how = "" if self.bcast == "none" else f"_bcast_{self.bcast}"
        return f"{self.op}_tiles{how}({self.a}, {self.b})"


@node
class TileBinaryTemps:
    op: TileOp
    a: str
    b: str

    def __str__(self):
        return f"{self.op}({self.a}, {self.b})"


@node
class TileScalar:
    op: TileOp
    a: str
    scalar: float

    def __str__(self):
        return f"{self.op}({self.a}, {num(self.scalar)})"


@node
class TileUnary:
    op: UnaryTileOp
    a: str

    def __str__(self):
        return f"{self.op}({self.a})"


@node
class TileCast:
    a: str
    dtype: DType

    def __str__(self):
        return f"cast<{self.dtype}>({self.a})"


@node
class TileMatmul:
    a: TileRef
    b: TileRef
    acc: str
    transpose_b: bool = False

    def __str__(self):
        return f"{self.acc} + {self.a} @ {self.b}{'^T' if self.transpose_b else ''}"


@node
class TileTranspose:
    src: TileRef

    def __str__(self):
        return f"transpose {self.src}"


@node
class TileBcast:
    src: TileRef
    dim: BcastDim
    out: int

    def __str__(self):
        return f"bcast_{self.dim} {self.src}"


@node
class TileReduce:
    op: ReduceOp
    dim: ReduceDim
    src: TileRef
    scaler: TileRef
    acc: str
    out: int

    def __str__(self):
        return f"reduce_{self.op}_{self.dim}({self.acc}, {self.src}, scaler {self.scaler})"


@node
class TileWhere:
    cond: str
    a: str
    b: str

    def __str__(self):
        return f"where({self.cond}, {self.a}, {self.b})"


@node
class TileBits:
    op: BitOp
    a: str
    b: str | int

    def __str__(self):
        return f"{self.op}({self.a}, {self.b})"


TOp = (TileLoad | TileFill | TileBinary | TileBinaryTemps | TileScalar | TileUnary | TileCast | TileMatmul
       | TileTranspose | TileBcast | TileReduce | TileWhere | TileBits)


@node
class TAssign:
    dst: str
    op: TOp

    def head(self):
        return f"{self.dst} = {self.op}"


@node
class TStore:
    dst: TileRef
    src: str

    def head(self):
        return f"{self.dst} <- {self.src}"


@node
class TFor:
    var: str
    extent: int
    body: tuple[TStmt, ...]

    def head(self):
        return f"for {self.var} in 0..{self.extent}:"


TStmt = TAssign | TStore | TFor


@node
class GenerateToCb:
    cb: int
    vars: tuple[str, ...]
    extents: tuple[int, ...]
    value: Expr

    def head(self):
        return f"generate_to_cb cb{self.cb}[{seq(self.vars)}] in {shape(self.extents)} = {self.value}"


@node
class TileGroup:
    vars: tuple[str, ...]
    extents: tuple[int, ...]
    body: tuple[TStmt, ...]

    def head(self):
        return f"tiles ({seq(self.vars)}) in {shape(self.extents)}:"


Expr = Const | Var | BinOp | Cast | Select | CoreArg | Element | UnOp
Stmt = ReadToCb | WriteFromCb | GenerateToCb | TileGroup | For | Let | Print | PrintCb

LANG = Language("L5", sys.modules[__name__], Kernel, l4.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp}, invariants=cbs_declared)

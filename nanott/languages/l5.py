"""L5: block operations become programs over 32x32 tiles (C2).

  Stmt     ::= ReadToCb | WriteFromCb | For | Let
             | TileGroup(vars: str*, extents: int*, body: TStmt*)   for every tile of an output block
  TStmt    ::= TAssign(dst: str, op: TOp)          a tile temporary (a future DST slot) gets a value
             | TStore(dst: TileRef, src: str)      a temporary is stored to a CB tile (a future pack)
             | TFor(var, extent: int, body: TStmt*)
  TOp      ::= TileLoad(src: TileRef)                                  copy a CB tile
             | TileFill(value: float)                                  a tile of one value
             | TileBinary(op, a: TileRef, b: TileRef)                  FPU: both operands from CBs
             | TileBinaryTemps(op, a: str, b: str)                     SFPU: both operands temporaries
             | TileScalar(op, a: str, scalar: float)                   SFPU: temporary op constant
             | TileMatmul(a: TileRef, b: TileRef, acc: str)            acc + a @ b
  TileRef  ::= TileRef(cb: int, row: Expr, col: Expr)                  a tile of a CB's block
  op       ::= add | sub | mul | rsub   (rsub: scalar - a)
  Expr     ::= Const | Var | BinOp | Cast | CoreArg

Delta from L4 (made by C2 lower-tile-intrinsics):
  - Gemm, Fill, Parallel, Store, Load, CopyCb   each becomes one TileGroup over its output tiles
  + TileGroup, TAssign, TStore, TFor            a tile program per output tile, in temporaries
  + TileLoad, TileFill, TileBinary, TileBinaryTemps, TileScalar, TileMatmul   the tile operations
  + TileRef                                     a tile of a CB's block, by tile row and column

Temporaries are float32 tiles; a TStore rounds to the CB's dtype. TileMatmul accumulates one 32x32
product per K tile, in order; that is the rounding every later level keeps.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l4
from nanott.languages.l4 import (  # noqa: F401  (productions L5 keeps)
    Accessor, Attr, BinOp, Cast, CbPlan, CircularBuffer, Const, CoreArg, CoreWork, For, Kernel, Let,
    ReadToCb, Tensor, TileLayout, TileSlice, Var, WorkSplit, WriteFromCb, cbs_declared)
from nanott.printing import num, seq, shape

TILE_OPS = ("add", "sub", "mul", "rsub")


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
    op: str
    a: TileRef
    b: TileRef

    def __str__(self):
        return f"{self.op}_tiles({self.a}, {self.b})"


@node
class TileBinaryTemps:
    op: str
    a: str
    b: str

    def __str__(self):
        return f"{self.op}({self.a}, {self.b})"


@node
class TileScalar:
    op: str
    a: str
    scalar: float

    def __str__(self):
        return f"{self.op}({self.a}, {num(self.scalar)})"


@node
class TileMatmul:
    a: TileRef
    b: TileRef
    acc: str

    def __str__(self):
        return f"{self.acc} + {self.a} @ {self.b}"


TOp = TileLoad | TileFill | TileBinary | TileBinaryTemps | TileScalar | TileMatmul


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
class TileGroup:
    vars: tuple[str, ...]
    extents: tuple[int, ...]
    body: tuple[TStmt, ...]

    def head(self):
        return f"tiles ({seq(self.vars)}) in {shape(self.extents)}:"


Expr = Const | Var | BinOp | Cast | CoreArg
Stmt = ReadToCb | WriteFromCb | TileGroup | For | Let

LANG = Language("L5", sys.modules[__name__], Kernel, l4.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp}, invariants=cbs_declared)

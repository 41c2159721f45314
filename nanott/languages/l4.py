"""L4: on-chip buffers are circular buffers; copies are protocol-less block transfers (C1).

  Kernel         ::= Kernel(name, params: Tensor*, work: WorkSplit, cbs: CircularBuffer*,
                            body: Stmt*, attrs: Attr*)
  CircularBuffer ::= CircularBuffer(index: int, name, shape: int*, dtype, scope, plan: CbPlan)
  Stmt  ::= ReadToCb(src: TileSlice, cb: int)      a block of tiles DRAM -> CB, no protocol yet
          | WriteFromCb(cb: int, dst: TileSlice)   a block of tiles CB -> DRAM
          | CopyCb(src: int, dst: int)             a whole-block copy between CBs (may cast)
          | Gemm(a, b, c: int, transpose_a, transpose_b, clear_accum: bool)
          | Fill(cb: int, value: Expr) | Parallel(vars, extents, body) | Store(cb: int, indices, value)
          | Reduce(op, src: int, dst: int, dim: int, clear: bool)
          | For(...) | Let(var, value)
          | PrintCb(text: str, cb: int)            T.print of a buffer: its CB's block, as its lines name it
  TileSlice ::= TileSlice(tensor, row: Expr, col: Expr, rows: int, cols: int, line: Expr?,
                          start_row: Expr?, gather: RowGather?)   in tiles; a line: only that row of
                 each tile (a vector in one row of a tensor's matrix); a start row: the block's rows
                 start at that row of the matrix, any row (row is its tile row), and rows past either
                 end read as zero; a gather: each of the block's rows read on its own
  RowGather ::= RowGather(var, row: Expr, valid: Expr?)   block row `var` (0 .. rows * 32) is row `row`
                 of the tensor's stored matrix (columns col * 32 ..), or zeros where valid is false;
                 written (a scatter), block row `var` goes to row `row` only where valid holds
  Expr  ::= Const | Var | BinOp | Cast | Select | CoreArg | Load(cb: int, indices: Expr*)
          | Element(cb: int, src: TileSlice, row: Expr, col: Expr)   one element of a DRAM tensor, read
                                             by the reader: tile src through the one-page scratch cb,
                                             element (row, col) of it (a block index, a row offset)

Delta from L3 (made by C1 lower-shared-to-cb):
  - Alloc          on-chip buffers are declared once per kernel as circular buffers
  - Copy           split by direction, decided from the memory of each side (A1's layouts)
  - Region         element regions become tile slices
  + CircularBuffer a CB index 0..31 with the buffer's plan; ops name CBs by index, never by name
  + ReadToCb       DRAM -> CB, one block of tiles; the NoC reads come in D3
  + WriteFromCb    CB -> DRAM, one block of tiles
  + CopyCb         on-chip copy or cast between two CBs
  + TileSlice      the explicit tile-id algebra: the block's first tile row and column; with a line,
                   one row of those tiles (`lse[bz, by, bx * 64:(bx + 1) * 64]`: row by % 32 of the
                   tiles, which other blocks' rows share), moved with the vector's row 0; with a
                   start row, a read of a block whose first row is a value read from DRAM (TileLang's
                   grouped cast: `X[row_offset + bx * 32, ...]`), moved row by row
  + RowGather      a block filled row by row from rows of a tensor picked by index arithmetic (a
                   convolution's im2col, nanott/row_gather.py): `row` and `valid` are functions of `var`;
                   in a WriteFromCb, a block's rows written where a row condition holds (varlen
                   attention's `if bx * 64 + i < seqlen: O[start + bx * 64 + i, h, d] = ...`)
  + Element        a let reading an element of a DRAM tensor (`kb = BlockIndex[bz, by, bx, t]`): the value
                   decides what the reader fetches next (a data-dependent load)
  ~ Kernel         gains `cbs`
  ~ Gemm, Fill, Reduce, Store, Load   name CB indices instead of buffers
  - PrintBuffer    a printed buffer is its CB:
  + PrintCb        the lines name the T.print's message or the buffer (the CB keeps its name)
"""
from __future__ import annotations

import json
import sys

from nanott.ir import Language, node, walk
from nanott.languages import l3
from nanott.languages.l0 import param_lines
from nanott.languages.l3 import (  # noqa: F401  (productions L4 keeps)
    Print, Accessor, Attr, BinOp, Cast, CbPlan, Const, CoreArg, CoreWork, For, Let, Parallel, Tensor,
    Select, TileLayout, UnOp, Var, WorkSplit)
from nanott.printing import seq, shape, stmt_lines


@node
class CircularBuffer:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    scope: Scope
    plan: CbPlan

    def line(self) -> str:
        return f"  cb{self.index} {self.name}: {self.scope} {self.dtype}[{shape(self.shape)}]  {self.plan}"


@node
class RowGather:
    var: str
    row: Expr
    valid: Expr | None = None

    def __str__(self):
        valid = "" if self.valid is None else f" if {self.valid} else zeros"
        return f"row {self.var} <- row {self.row}{valid}"


@node
class TileSlice:
    tensor: str
    row: Expr
    col: Expr
    rows: int
    cols: int
    line: Expr | None = None
    start_row: Expr | None = None
    gather: RowGather | None = None

    def __str__(self):
        if self.gather is not None:
            return f"{self.tensor}.tiles[gathered, {self.col} +{self.rows}x{self.cols}] ({self.gather})"
        row = "" if self.line is None else f".row[{self.line}]"
        row += "" if self.start_row is None else f".from_row[{self.start_row}]"
        return f"{self.tensor}.tiles[{self.row}, {self.col} +{self.rows}x{self.cols}]{row}"


@node
class ReadToCb:
    src: TileSlice
    cb: int

    def head(self):
        return f"read_to_cb {self.src} -> cb{self.cb}"


@node
class WriteFromCb:
    cb: int
    dst: TileSlice

    def head(self):
        g = self.dst.gather
        if g is not None:                       # a scatter: rows written where valid holds, no zeros
            where = "" if g.valid is None else f" where {g.valid}"
            return (f"write_from_cb cb{self.cb} -> {self.dst.tensor}.tiles[scattered, {self.dst.col} "
                    f"+{self.dst.rows}x{self.dst.cols}] (row {g.var} -> row {g.row}{where})")
        return f"write_from_cb cb{self.cb} -> {self.dst}"


@node
class CopyCb:
    src: int
    dst: int

    def head(self):
        return f"copy_cb cb{self.src} -> cb{self.dst}"


@node
class Gemm:
    a: int
    b: int
    c: int
    transpose_a: bool
    transpose_b: bool
    clear_accum: bool

    def head(self):
        a = f"cb{self.a}^T" if self.transpose_a else f"cb{self.a}"
        b = f"cb{self.b}^T" if self.transpose_b else f"cb{self.b}"
        return f"gemm cb{self.c} {'=' if self.clear_accum else '+='} {a} @ {b}"


@node
class Fill:
    cb: int
    value: Expr

    def head(self):
        return f"fill cb{self.cb} = {self.value}"


@node
class Reduce:
    op: ReduceOp
    src: int
    dst: int
    dim: ReduceAxis
    clear: bool

    def head(self):
        return (f"reduce_{self.op} cb{self.src} -> cb{self.dst}, dim {self.dim}"
                + ("" if self.clear else ", accumulating"))


@node
class Store:
    cb: int
    indices: tuple[Expr, ...]
    value: Expr

    def head(self):
        return f"cb{self.cb}[{seq(self.indices)}] = {self.value}"


@node
class Load:
    cb: int
    indices: tuple[Expr, ...]

    def __str__(self):
        return f"cb{self.cb}[{seq(self.indices)}]"


@node
class Element:
    cb: int
    src: TileSlice
    row: Expr
    col: Expr

    def __str__(self):
        return f"element {self.src}[{self.row}, {self.col}] via cb{self.cb}"


@node
class Kernel:
    name: str
    params: tuple[Tensor, ...]
    work: WorkSplit
    cbs: tuple[CircularBuffer, ...]
    body: tuple[Stmt, ...]
    attrs: tuple[Attr, ...]

    def lines(self):
        return (param_lines(self) + self.work.lines() + [cb.line() for cb in self.cbs]
                + stmt_lines(self.body))


@node
class PrintCb:
    text: str
    cb: int

    def head(self):
        return f"print {json.dumps(self.text)}, cb{self.cb}"

    def label(self) -> str:
        return self.text


Expr = Const | Var | BinOp | Load | Cast | UnOp | Select | CoreArg | Element
Stmt = ReadToCb | WriteFromCb | CopyCb | Gemm | Fill | Reduce | For | Parallel | Store | Let | Print | PrintCb


def cbs_declared(k) -> str | None:
    """CB indices are 0..n-1 in declaration order and every CB an op names is declared."""
    if [cb.index for cb in k.cbs] != list(range(len(k.cbs))):
        return f"CB indices are {[cb.index for cb in k.cbs]}, expected 0..{len(k.cbs) - 1}"
    n = len(k.cbs)
    for x in walk(k.body):
        problem = undeclared_cb(x, n)
        if problem:
            return problem
    return None


def undeclared_cb(x, n: int) -> str | None:
    """What is wrong with node x's CB fields (CB_FIELDS, by its class, looked up once per class)
    when n CBs are declared, or None."""
    names = _CB_FIELDS_OF.get(type(x))
    if names is None:
        names = _CB_FIELDS_OF[type(x)] = CB_FIELDS.get(type(x).__name__, ())
    for field_name in names:
        if not 0 <= getattr(x, field_name) < n:
            return f"{type(x).__name__}.{field_name} names cb{getattr(x, field_name)}, not declared"
    return None


CB_FIELDS = {"ReadToCb": ("cb",), "WriteFromCb": ("cb",), "CopyCb": ("src", "dst"),
             "Gemm": ("a", "b", "c"), "Fill": ("cb",), "Reduce": ("src", "dst"), "Store": ("cb",),
             "Load": ("cb",), "TileRef": ("cb",), "Element": ("cb",), "PrintCb": ("cb",)}
_CB_FIELDS_OF: dict[type, tuple[str, ...]] = {}      # node class -> its CB_FIELDS entry

LANG = Language("L4", sys.modules[__name__], Kernel, l3.LANG, {"Stmt": Stmt, "Expr": Expr},
                invariants=cbs_declared)

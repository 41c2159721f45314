"""L8: split kernels with the circular-buffer and NoC protocol explicit (D3, D4).

  Stmt ::= For | Let
         | CbReserve(cb: int, pages: int) | CbPush(cb, pages) | CbWait(cb, pages) | CbPop(cb, pages)
         | NocReadPage(tensor, page: Expr, cb: int, slot: Expr)    page -> the reserved slot of cb
         | NocWritePage(cb: int, slot: Expr, tensor, page: Expr)   the waited slot of cb -> page
         | NocReadBarrier() | NocWriteBarrier()
         | GenerateToCb(cb, vars, extents, value)                  L7's, into the reserved back of cb
         | TileGroup(vars, extents, body: TStmt*)                  L5's form: reads the waited front
                                                                   of a CB, stores to its reserved back
         | Init(op: init, cbs: int*, args: int*)                   an engine (re)configuration,
                                                                   args after the CBs (a transpose flag)
  TStmt ::= TAssign | TStore | TFor | Init                         inits may sit inside a tile program
  init  ::= compute_kernel_hw_startup | copy_tile_init | add_tiles_init | reduce_init<SUM, REDUCE_ROW>
          | ...                                                    INIT_CALLS of nanott/terminals.py
  everything else as in L7.

Delta from L7 (made by D3 lower-cb-protocol; Init placed by D4 insert-compute-init):
  - ReadToCb, WriteFromCb    replaced by the calls Metalium makes, under Metalium's names
  - CbEffect                 effects become the protocol calls around each tile group
  - Release                  becomes the cb_pop_front that ends the block the loop peeked
  - TileSlice                block transfers become page transfers with explicit page ids
  ~ TileGroup                loses `effects` (L5's form again)
  + CbReserve, CbPush, CbWait, CbPop     one node per CB call: the protocol a learner has to see
  + NocReadPage, NocWritePage            one tile page each, addressed by its page id in the tensor
  + NocReadBarrier, NocWriteBarrier      data lands in L1 only at its barrier; the simulator enforces it
  + Init                                 placed by D4: an L8 -> L8 pass adds nodes, never productions
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l7
from nanott.languages.l5 import TileGroup
from nanott.languages.l7 import (  # noqa: F401  (productions L8 keeps)
    Print, Accessor, Attr, BinOp, Binding, Cast, CbPlan, CircularBuffer, Const, CoreArg, CoreWork,
    DeviceKernel, For, GenerateToCb, Let, Program, Select, TAssign, TFor, TileBcast, TileBinary, TileBinaryTemps,
    TileCast, TileFill, TileLayout, TileLoad, TileMatmul, TileReduce, TileRef, TileScalar,
    TileTranspose, TileUnary, Tensor, TOp, TStore, Var, WorkSplit, statements_in_their_kernels)
from nanott.printing import seq


@node
class CbReserve:
    cb: int
    pages: int

    def head(self):
        return f"cb_reserve_back cb{self.cb}, {self.pages}"


@node
class CbPush:
    cb: int
    pages: int

    def head(self):
        return f"cb_push_back cb{self.cb}, {self.pages}"


@node
class CbWait:
    cb: int
    pages: int

    def head(self):
        return f"cb_wait_front cb{self.cb}, {self.pages}"


@node
class CbPop:
    cb: int
    pages: int

    def head(self):
        return f"cb_pop_front cb{self.cb}, {self.pages}"


@node
class NocReadPage:
    tensor: str
    page: Expr
    cb: int
    slot: Expr

    def head(self):
        return f"noc_async_read_page {self.tensor}.page[{self.page}] -> cb{self.cb}.back[{self.slot}]"


@node
class NocWritePage:
    cb: int
    slot: Expr
    tensor: str
    page: Expr

    def head(self):
        return f"noc_async_write_page cb{self.cb}.front[{self.slot}] -> {self.tensor}.page[{self.page}]"


@node
class NocReadBarrier:
    def head(self):
        return "noc_async_read_barrier"


@node
class NocWriteBarrier:
    def head(self):
        return "noc_async_write_barrier"


@node
class Init:
    op: InitCall
    cbs: tuple[int, ...]
    args: tuple[int, ...] = ()

    def head(self):
        return f"{self.op}({seq([*(f'cb{c}' for c in self.cbs), *map(str, self.args)])})"


Expr = l7.Expr
TStmt = TAssign | TStore | TFor | Init
Stmt = (CbReserve | CbPush | CbWait | CbPop | NocReadPage | NocWritePage | NocReadBarrier
        | NocWriteBarrier | GenerateToCb | TileGroup | Init | For | Let | Print)

PROTOCOL = {
    "reader": ("CbReserve", "CbPush", "NocReadPage", "NocReadBarrier", "GenerateToCb"),
    "compute": ("CbWait", "CbPop", "CbReserve", "CbPush", "TileGroup", "Init", "Print"),
    "writer": ("CbWait", "CbPop", "NocWritePage", "NocWriteBarrier"),
}

LANG = Language("L8", sys.modules[__name__], Program, l7.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp},
                invariants=lambda p: statements_in_their_kernels(p, PROTOCOL))

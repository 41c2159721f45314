"""L8: split kernels with the circular-buffer and NoC protocol explicit (D3, D4).

  Stmt ::= For | Let
         | CbReserve(cb: int, pages: int) | CbPush(cb, pages) | CbWait(cb, pages) | CbPop(cb, pages)
         | NocReadPage(tensor, page: Expr, cb: int, slot: Expr, row: Expr?, to: Expr?)   page -> the
                                                                   reserved slot of cb (a row: that row of
                                                                   the page -> row `to` (0) of the slot,
                                                                   nothing else)
         | NocWritePage(cb: int, slot: Expr, tensor, page: Expr, row: Expr?, source: Expr?)  the waited
                                                                   slot of cb -> page (a row: row `source`
                                                                   (0) of the slot -> that row of the page,
                                                                   the rest untouched)
         | NocReadBarrier() | NocWriteBarrier()
         | NocReadTrid(trid: int)                                  the reads issued after it carry transaction
                                                                   id trid (0..15), until the next
         | NocReadBarrierTrid(trid: int)                           block until the reads of id trid have landed
         | GenerateToCb(cb, vars, extents, value)                  L7's, into the reserved back of cb
         | TileGroup(vars, extents, body: TStmt*)                  L5's form: reads the waited front
                                                                   of a CB, stores to its reserved back
         | Init(op: init, cbs: int*, args: int*)                   an engine (re)configuration,
                                                                   args after the CBs (a transpose flag)
         | When(cond: Expr, body: Stmt*)                           the body on the cores where cond holds
         | SemSet(sem: int, value: int)                            this core's semaphore := value
         | SemWait(sem: int, value: int)                           block until this core's semaphore = value
         | SemInc(sem: int, at_x: Expr, at_y: Expr)                +1 on that core's semaphore (a NoC atomic)
         | McastPages(cb: int, pages: int, rect: Rect)             the reserved back `pages` of cb -> the same
                                                                   L1 pages of cb on every core of rect
         | SemSetMcast(sem: int, value: int, rect: Rect)           this core's semaphore := value, and the
                                                                   same word on every core of rect
  Rect  ::= Rect(x0: Expr, y0: Expr, x1: Expr, y1: Expr)           an inclusive rectangle of logical cores
  Expr  ::= Const | Var | BinOp | Cast | Select | CoreArg | UnOp (in a generated value)
          | FrontElement(cb: int, row: Expr, col: Expr)            element (row, col) of the first waited
                                                                   page of cb, read from L1 by the reader,
                                                                   or by compute (read_tile_value)
          | BackElement(cb: int, row: Expr, col: Expr)             element (row, col) of the first reserved
                                                                   page of cb, read from L1 by the reader
  TStmt ::= TAssign | TStore | TFor | Init                         inits may sit inside a tile program
  init  ::= compute_kernel_hw_startup | copy_tile_init | add_tiles_init | reduce_init<SUM, REDUCE_ROW>
          | ...                                                    INIT_CALLS of nanott/terminals.py
  everything else as in L7.

Delta from L7 (made by D3 lower-cb-protocol; Init placed by D4 insert-compute-init):
  - ReadToCb, WriteFromCb    replaced by the calls Metalium makes, under Metalium's names
  - CbEffect                 effects become the protocol calls around each tile group
  - Release                  becomes the cb_pop_front that ends the block the loop (or a print) peeked
  - TileSlice                block transfers become page transfers with explicit page ids
  - RowGather                a gathered block becomes zeros, then a loop over its rows, each row's
                             tiles read one row at a time into their row of the slot, when it is there;
                             a scattered one (written) the same loop, each row written from its row
                             of the slot where its condition holds, nothing elsewhere
  ~ TileGroup                loses `effects` (L5's form again)
  + CbReserve, CbPush, CbWait, CbPop     one node per CB call: the protocol a learner has to see
  + NocReadPage, NocWritePage            one tile page each, addressed by its page id in the tensor; or
                                         one row of it (a TileSlice's line): two transfers of 16
                                         contiguous elements, one per face the row crosses (a
                                         read of a block from any row: into row `to` of the slot; a
                                         row written from a scattered block: from row `source`)
  + NocReadBarrier, NocWriteBarrier      data lands in L1 only at its barrier; the simulator enforces it
  + Init                                 placed by D4: an L8 -> L8 pass adds nodes, never productions
  + When                                 cores of one kernel take different parts (a multicast's sender)
  + SemSet, SemWait, SemInc              semaphores (CreateSemaphore): cores that wait for each other
  + McastPages, SemSetMcast, Rect        NoC multicast to a rectangle of cores (made by D3b)
  + NocReadTrid, NocReadBarrierTrid      transaction ids: a barrier for one id's reads only, so a sender
                                         reads its next part while it multicasts the last (made by D3d)
  - Element                  a let's DRAM element becomes its protocol: the reader reserves its
                             scratch page, reads the tile into it, waits for the barrier, pushes and
                             waits for it itself (the reader is both ends of the scratch CB), and
  + FrontElement             reads the element out of L1; it pops the page after the let. When
                             compute needs the value too (a loop bound: an `if` on data), the
                             scratch CB runs reader -> compute: the reader reads the element out
  + BackElement              of the page it reserved, after the barrier, and pushes the page;
                             compute waits for it, reads the same element (a FrontElement) and pops
  The reader and the writer may both read, multicast and use semaphores (D3c gives the writer a block).
  Semaphores are numbered from 0, each created on every core of the work split with the value 0.
  A multicast lands on its rectangle no later than a semaphore multicast the same kernel issues after
  it (one NoC, in order: tt-metal's sender sets the receivers' flag right after the data), or at the
  kernel's next noc_async_write_barrier.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l7
from nanott.languages.l5 import TileGroup
from nanott.languages.l7 import (  # noqa: F401  (productions L8 keeps)
    Print, PrintCb, Accessor, Attr, BinOp, Binding, Cast, CbPlan, CircularBuffer, Const, CoreArg, CoreWork,
    DeviceKernel, For, GenerateToCb, Let, Program, Select, TAssign, TFor, TileBcast, TileBinary, TileBinaryTemps,
    TileCast, TileFill, TileLayout, TileLoad, TileMatmul, TileReduce, TileRef, TileScalar,
    TileTranspose, TileUnary, TileWhere, TileBits, Tensor, UnOp, TOp, TStore, Var, WorkSplit, statements_in_their_kernels)
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
    row: Expr | None = None
    to: Expr | None = None

    def head(self):
        if self.row is not None:
            return (f"noc_async_read_row {self.tensor}.page[{self.page}].row[{self.row}] -> "
                    f"cb{self.cb}.back[{self.slot}].row[{0 if self.to is None else self.to}]")
        return f"noc_async_read_page {self.tensor}.page[{self.page}] -> cb{self.cb}.back[{self.slot}]"


@node
class NocWritePage:
    cb: int
    slot: Expr
    tensor: str
    page: Expr
    row: Expr | None = None
    source: Expr | None = None

    def head(self):
        if self.row is not None:
            return (f"noc_async_write_row cb{self.cb}.front[{self.slot}].row[{0 if self.source is None else self.source}] -> "
                    f"{self.tensor}.page[{self.page}].row[{self.row}]")
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
class NocReadTrid:
    trid: int

    def head(self):
        return f"noc_async_read_set_trid {self.trid}"


@node
class NocReadBarrierTrid:
    trid: int

    def head(self):
        return f"noc_async_read_barrier_with_trid {self.trid}"


@node
class Init:
    op: InitCall
    cbs: tuple[int, ...]
    args: tuple[int, ...] = ()

    def head(self):
        return f"{self.op}({seq([*(f'cb{c}' for c in self.cbs), *map(str, self.args)])})"


@node
class Rect:
    x0: Expr
    y0: Expr
    x1: Expr
    y1: Expr

    def __str__(self):
        return f"cores ({self.x0}, {self.y0})..({self.x1}, {self.y1})"


@node
class When:
    cond: Expr
    body: tuple[Stmt, ...]

    def head(self):
        return f"if {self.cond}:"


@node
class SemSet:
    sem: int
    value: int

    def head(self):
        return f"noc_semaphore_set sem{self.sem} := {self.value}"


@node
class SemWait:
    sem: int
    value: int

    def head(self):
        return f"noc_semaphore_wait sem{self.sem} == {self.value}"


@node
class SemInc:
    sem: int
    at_x: Expr
    at_y: Expr

    def head(self):
        return f"noc_semaphore_inc core ({self.at_x}, {self.at_y}).sem{self.sem} += 1"


@node
class McastPages:
    cb: int
    pages: int
    rect: Rect

    def head(self):
        return f"noc_async_write_multicast cb{self.cb}.back[0..{self.pages}] -> {self.rect}"


@node
class SemSetMcast:
    sem: int
    value: int
    rect: Rect

    def head(self):
        return f"noc_semaphore_set_multicast sem{self.sem} := {self.value} -> {self.rect}"


@node
class FrontElement:
    cb: int
    row: Expr
    col: Expr

    def __str__(self):
        return f"cb{self.cb}.front[0][{self.row}, {self.col}]"


@node
class BackElement:
    cb: int
    row: Expr
    col: Expr

    def __str__(self):
        return f"cb{self.cb}.back[0][{self.row}, {self.col}]"


Expr = Const | Var | BinOp | Cast | Select | CoreArg | FrontElement | BackElement | UnOp
COOPERATION = (When, SemSet, SemWait, SemInc, McastPages, SemSetMcast)
TStmt = TAssign | TStore | TFor | Init
Stmt = (CbReserve | CbPush | CbWait | CbPop | NocReadPage | NocWritePage | NocReadBarrier
        | NocWriteBarrier | GenerateToCb | TileGroup | Init | For | Let | Print | PrintCb | When | SemSet | SemWait
        | SemInc | McastPages | SemSetMcast | NocReadTrid | NocReadBarrierTrid)

PROTOCOL = {
    "reader": ("CbReserve", "CbPush", "CbWait", "CbPop", "NocReadPage", "NocReadBarrier", "GenerateToCb", "When", "SemSet",
               "SemWait", "SemInc", "McastPages", "SemSetMcast", "NocWriteBarrier", "NocReadTrid", "NocReadBarrierTrid"),
    "compute": ("CbWait", "CbPop", "CbReserve", "CbPush", "TileGroup", "Init", "Print", "PrintCb"),
    "writer": ("CbWait", "CbPop", "NocWritePage", "NocWriteBarrier", "CbReserve", "CbPush", "NocReadPage",
               "NocReadBarrier", "When", "SemSet", "SemWait", "SemInc", "McastPages", "SemSetMcast", "NocReadTrid",
               "NocReadBarrierTrid"),   # its own DRAM elements (D1), D3c's
}

LANG = Language("L8", sys.modules[__name__], Program, l7.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp},
                invariants=lambda p: statements_in_their_kernels(p, PROTOCOL))

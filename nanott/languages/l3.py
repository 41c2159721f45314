"""L3: one persistent program per core; the grid is gone (B2).

  Kernel  ::= Kernel(name, params: Tensor*, work: WorkSplit, body: Stmt*, attrs: Attr*)
  Expr    ::= ... | CoreArg(name)          a per-core runtime value: "start", "count" (B2), or
                                           "logical_x", "logical_y" (the core's place; D3b)
  For.kind ::= serial | pipelined | persistent
  everything else as in L2.

Delta from L2 (made by B2 grid-to-persistent):
  ~ Kernel   loses `grid` and `block_vars`: no hardware block scheduler, each core loops itself
  + CoreArg  the values that differ between cores (its first block id and its block count)

The body starts with `for b in 0..count (persistent)` and recovers the user's block indices with
lets (`let bx = (start + b) % gx`), so the user's grid body stays intact inside the loop.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l2
from nanott.languages.l0 import param_lines
from nanott.languages.l2 import (  # noqa: F401  (productions L3 keeps)
    Print, PrintBuffer, Accessor, Alloc, Attr, BinOp, Cast, CbPlan, Const, Copy, CoreWork, Fill, For, Gemm, Let, Load,
    Parallel, Reduce, Region, Select, Store, Tensor, TileLayout, UnOp, Var, WorkSplit, buffers_defined_before_use)
from nanott.printing import stmt_lines

CORE_ARGS = ("start", "count", "logical_x", "logical_y")     # the core's coordinates (D3b)


@node
class CoreArg:
    name: str

    def __str__(self):
        return f"core.{self.name}"


@node
class Kernel:
    name: str
    params: tuple[Tensor, ...]
    work: WorkSplit
    body: tuple[Stmt, ...]
    attrs: tuple[Attr, ...]

    def lines(self):
        return param_lines(self) + self.work.lines() + stmt_lines(self.body)


Expr = Const | Var | BinOp | Load | Cast | UnOp | Select | CoreArg
Stmt = Alloc | Copy | Gemm | Fill | Reduce | For | Parallel | Store | Let | Print | PrintBuffer


def known_core_args(k: Kernel) -> str | None:
    from nanott.ir import walk
    for x in walk(k.body):
        if isinstance(x, CoreArg) and x.name not in CORE_ARGS:
            return f"CoreArg {x.name!r} is not one of {CORE_ARGS}"
    return buffers_defined_before_use(k)


LANG = Language("L3", sys.modules[__name__], Kernel, l2.LANG, {"Stmt": Stmt, "Expr": Expr},
                invariants=known_core_args)

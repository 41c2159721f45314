"""L6: the single program with its dataflow explicit (C3).

  CircularBuffer ::= CircularBuffer(index, name, shape, dtype, scope, plan, producer: Role, consumer: Role)
  TileGroup      ::= TileGroup(vars, extents, body: TStmt*, effects: CbEffect*)
  CbEffect       ::= CbEffect(cb: int, mode)
  Stmt           ::= ... | Release(cb: int, unread: bool)     compute frees a block a loop carried
                                                   (unread: one nobody waited for, a trip's overwritten block)
  Role ::= reader | compute | writer
  mode ::= peek     read the block at the front of the CB and keep it for a later reader
         | take     read the front block and free it (its last reader)
         | give     write a new block at the back of the CB
         | update   take the front block and give its new value (an accumulator)
  ReadToCb and GenerateToCb give their CB; WriteFromCb takes its CB. Everything else as in L5.

Delta from L5 (made by C3 build-tile-dataflow):
  ~ CircularBuffer   gains `producer` and `consumer`: exactly one role writes a CB, one reads it
  ~ TileGroup        gains `effects`: what the group does to each CB it touches, per execution
  + CbEffect         one CB and one mode
  + Release          the end of a block a loop carried from one iteration to the next (flash
                     attention's Q tile, read by every step; its running row max, read, then
                     updated): the loop's last reader peeks it, and after the loop the compute
                     kernel frees it once (C3 makes one only for a block compute consumes);
                     also the end of a block whose last reader is a print of its CB (PrintCb),
                     and (`unread`) of a block one trip of a loop gives and the next overwrites

C3 also adds the intermediate CBs the rule "one producer, one consumer" requires, with the compute
copies (casts included) that fill them: the NoC moves bytes, only compute converts formats.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l5
from nanott.languages.l5 import (  # noqa: F401  (productions L6 keeps)
    Print, PrintCb, Accessor, Attr, BinOp, Cast, CbPlan, Const, CoreArg, CoreWork, Element, For, GenerateToCb, Kernel,
    Let, ReadToCb, Select,
    TAssign, TFor, TileBcast, TileBinary, TileBinaryTemps, TileCast, TileFill, TileLayout, TileLoad,
    TileMatmul, TileReduce, TileRef, TileScalar, TileTranspose, TileSlice, RowGather, TileUnary, TileWhere, TileBits, UnOp, Tensor, TOp,
    TStmt, TStore, Var, WorkSplit, WriteFromCb, cbs_declared)
from nanott.printing import seq, shape

from nanott.terminals import MODES, ROLES  # noqa: E402,F401  (the vocabularies, re-exported)


@node
class CircularBuffer:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    scope: Scope
    plan: CbPlan
    producer: Role
    consumer: Role

    def line(self) -> str:
        return (f"  cb{self.index} {self.name}: {self.producer} -> {self.consumer}, {self.scope} "
                f"{self.dtype}[{shape(self.shape)}]  {self.plan}")


@node
class CbEffect:
    cb: int
    mode: Mode

    def __str__(self):
        return f"{self.mode} cb{self.cb}"


@node
class TileGroup:
    vars: tuple[str, ...]
    extents: tuple[int, ...]
    body: tuple[TStmt, ...]
    effects: tuple[CbEffect, ...]

    def head(self):
        return f"tiles ({seq(self.vars)}) in {shape(self.extents)}:  [{seq(self.effects)}]"


@node
class Release:
    cb: int
    unread: bool = False

    def head(self):
        return f"release cb{self.cb}" + " (unread)" * self.unread


Expr = l5.Expr
Stmt = ReadToCb | WriteFromCb | GenerateToCb | TileGroup | Release | For | Let | Print | PrintCb


def one_producer_one_consumer(k) -> str | None:
    for cb in k.cbs:
        if cb.producer not in ROLES or cb.consumer not in ROLES:
            return f"cb{cb.index} has roles {cb.producer} -> {cb.consumer}; roles are {ROLES}"
    from nanott.ir import walk
    for x in walk(k.body):
        if isinstance(x, CbEffect) and x.mode not in MODES:
            return f"cb{x.cb} has effect mode {x.mode!r}; modes are {MODES}"
    return cbs_declared(k)


LANG = Language("L6", sys.modules[__name__], Kernel, l5.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp},
                invariants=one_producer_one_consumer)

"""L7: reader, compute and writer kernels per core, talking only through CBs (D1, D2).

  Program      ::= Program(name, params: Tensor*, work: WorkSplit, cbs: CircularBuffer*,
                           kernels: DeviceKernel*, attrs: Attr*)
  DeviceKernel ::= DeviceKernel(role, body: Stmt*, bindings: Binding*)
  Binding      ::= Binding(tensor, cta_offset: int, addr_arg: str)     made by D2
  Stmt         ::= ReadToCb | WriteFromCb | GenerateToCb | TileGroup | Release | For | Let | Print
                                                    each only in its role's kernel
  everything else as in L6.

Delta from L6 (made by D1 split-device-kernel, D2 bind-tensor-accessors):
  - Kernel        one program is three kernels now
  + Program       the kernels of one Metalium program, all on the cores of `work`
  + DeviceKernel  reader (ReadToCb, GenerateToCb), compute (TileGroup, Release, Print, PrintCb) or writer (WriteFromCb only),
                  each with the loops and lets its statements need
  + Binding       a tensor this kernel addresses: where its TensorAccessorArgs start among the
                  compile-time arguments, and the runtime argument holding its base address
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node, walk
from nanott.languages import l6
from nanott.languages.l0 import param_lines
from nanott.languages.l6 import (  # noqa: F401  (productions L7 keeps)
    Print, PrintCb, Accessor, Attr, BinOp, Cast, CbEffect, CbPlan, CircularBuffer, Const, CoreArg, CoreWork, Element,
    For, GenerateToCb, Let, ReadToCb, Release, Select, TAssign, TFor, TileBcast, TileBinary, TileBinaryTemps, TileCast, TileFill,
    TileGroup, TileLayout, TileLoad, TileMatmul, TileReduce, TileRef, TileScalar, TileTranspose,
    TileSlice, RowGather, TileUnary, TileWhere, TileBits, Tensor, UnOp, TOp, TStmt, TStore, Var, WorkSplit, WriteFromCb, cbs_declared)
from nanott.languages.l4 import undeclared_cb
from nanott.printing import seq, stmt_lines

from nanott.terminals import ROLES  # noqa: E402  (the vocabulary, re-exported)


@node
class Binding:
    tensor: str
    cta_offset: int
    addr_arg: str

    def __str__(self):
        return f"{self.tensor} (accessor args at cta {self.cta_offset}, base address in {self.addr_arg})"


@node
class DeviceKernel:
    role: Role
    body: tuple[Stmt, ...]
    bindings: tuple[Binding, ...]

    def lines(self) -> list[str]:
        out = [f"  {self.role}:"] + [f"    binds {b}" for b in self.bindings]
        return out + stmt_lines(self.body, depth=2)


@node
class Program:
    name: str
    params: tuple[Tensor, ...]
    work: WorkSplit
    cbs: tuple[CircularBuffer, ...]
    kernels: tuple[DeviceKernel, ...]
    attrs: tuple[Attr, ...]

    def lines(self):
        out = param_lines(self) + self.work.lines() + [cb.line() for cb in self.cbs]
        for k in self.kernels:
            out += k.lines()
        return out

    def kernel(self, role: str) -> DeviceKernel:
        return next(k for k in self.kernels if k.role == role)


Expr = l6.Expr
Stmt = ReadToCb | WriteFromCb | GenerateToCb | TileGroup | Release | For | Let | Print | PrintCb

ROLE_STATEMENTS = {"reader": ("ReadToCb", "GenerateToCb"), "compute": ("TileGroup", "Release", "Print", "PrintCb"), "writer": ("WriteFromCb",)}


def statements_in_their_kernels(p, allowed=ROLE_STATEMENTS) -> str | None:
    """Each kernel holds only its role's statements (plus loops and lets), once per role; then
    L4's cbs_declared over all kernels. One walk does both (the first misplaced statement wins
    over any CB problem, as when the statements were walked first)."""
    if tuple(k.role for k in p.kernels) != ROLES:
        return f"kernels are {seq(k.role for k in p.kernels)}, expected {seq(ROLES)}"
    cbs_ok = [cb.index for cb in p.cbs] == list(range(len(p.cbs)))
    n, cb_problem = len(p.cbs), None
    for k in p.kernels:
        role_allows = allowed[k.role]
        misplaced = _MISPLACED.setdefault(role_allows, {})
        for x in walk(k.body):
            bad = misplaced.get(type(x))
            if bad is None:
                name = type(x).__name__
                bad = misplaced[type(x)] = hasattr(x, "head") and name not in CONTROL and name not in role_allows
            if bad:
                return f"{type(x).__name__} in the {k.role} kernel"
            if cbs_ok and cb_problem is None:
                cb_problem = undeclared_cb(x, n)
    if not cbs_ok:
        return cbs_declared(p)
    return cb_problem


CONTROL = frozenset({"For", "Let", "TFor", "TAssign", "TStore"})   # statements every kernel may hold
_MISPLACED: dict[tuple[str, ...], dict[type, bool]] = {}   # a role's statements -> node class -> misplaced?


LANG = Language("L7", sys.modules[__name__], Program, l6.LANG,
                {"Stmt": Stmt, "Expr": Expr, "TStmt": TStmt, "TOp": TOp},
                invariants=statements_in_their_kernels)

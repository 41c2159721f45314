"""Elementwise maps as tile programs (C2's recogniser for T.Parallel bodies).

A store `C[i, j] = f(A[i, j], B[i, j], constants)` over the whole of C, where every buffer is
indexed exactly by the Parallel's variables in order, computes each 32x32 tile of C from the same
tile of A and B; so it becomes one TileGroup over C's tiles whose body evaluates f on tiles:

  load op load          -> TileBinary      (FPU: both operands straight from CBs)
  value op constant     -> TileScalar      (SFPU; constant - value is rsub)
  value op value        -> TileBinaryTemps (SFPU; a load becomes a TileLoad temporary first)
  constants only        -> folded, with the interpreter's own float32 arithmetic

so every operation rounds exactly as the elementwise evaluation of L4 does. Anything else (a
division, a cast, a scalar variable, another index) is rejected with the construct named.
"""
from __future__ import annotations

from typing import Any

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC, walk
from nanott.languages import l4, l5
from nanott.languages.l0_interp import Env, InterpL0
from nanott.printing import seq, shape

OPS = {"+": "add", "-": "sub", "*": "mul"}
IDENTITY_HINT = "write out[i, j] = f(a[i, j], b[i, j], constants) over whole buffers of one shape"
OPS_HINT = "a tile elementwise map may use +, - and * of whole-buffer loads and constants"

Value = float | l5.TileRef | str          # a folded constant, a CB tile not yet loaded, a temporary


def elementwise_group(p: l4.Parallel, store: l4.Store, cbs: tuple, tile_vars: tuple[str, str],
                      grid: tuple[int, int]) -> l5.TileGroup:
    """The TileGroup computing one store of a T.Parallel, over the tiles of its output CB."""
    program = _TileProgram(p, store, cbs, tile_vars)
    dst = program.ref(store.cb, store.indices)
    result = program.temp_of(program.value(store.value))
    body = (*program.stmts, l5.TStore(dst, result, loc=store.loc))
    return l5.TileGroup(tile_vars, grid, body, loc=store.loc)


class _TileProgram:
    def __init__(self, p: l4.Parallel, store: l4.Store, cbs: tuple, tile_vars: tuple[str, str]):
        self.p, self.store, self.cbs = p, store, cbs
        self.tile_vars = tuple(l5.Var(v) for v in tile_vars)
        self.stmts: list[l5.TAssign] = []

    def temp(self, op: Any) -> str:
        name = f"t{len(self.stmts)}"
        self.stmts.append(l5.TAssign(name, op, loc=self.store.loc))
        return name

    def temp_of(self, v: Value) -> str:
        if isinstance(v, str):
            return v
        return self.temp(l5.TileLoad(v) if isinstance(v, l5.TileRef) else l5.TileFill(v))

    def ref(self, cb: int, indices: tuple) -> l5.TileRef:
        """The tile of `cb` this group's tile (i, j) reads or writes: identity indexing only."""
        buf = self.cbs[cb]
        access = f"{buf.name}[{seq(indices)}]"
        if tuple(self.p.extents) != buf.shape:
            raise NanottError("NT317", f"T.Parallel over {shape(self.p.extents)} accesses {access}, and "
                              f"{buf.name} is {shape(buf.shape)}: only elementwise maps with identity "
                              "indexing are supported yet", self.store.loc, IDENTITY_HINT)
        for k, (index, var) in enumerate(zip(indices, self.p.vars)):
            if index != l4.Var(var):
                raise NanottError("NT317", f"{access}: index {k} is {index}, not {var}; only "
                                  "elementwise maps with identity indexing are supported yet",
                                  self.store.loc, IDENTITY_HINT)
        return l5.TileRef(cb, *self.tile_vars)

    def value(self, e: Any) -> Value:
        if not any(isinstance(x, (l4.Var, l4.Load, l4.CoreArg)) for x in walk(e)):
            return float(InterpL0().eval(e, Env()))          # the arithmetic L4 would do
        match e:
            case l4.Load(cb, indices):
                return self.ref(cb, indices)
            case l4.BinOp(op, lhs, rhs) if op in OPS:
                return self.binary(OPS[op], self.value(lhs), self.value(rhs))
            case l4.BinOp(op, _, _):
                what = f"the operator {op}"
            case l4.Cast(dtype, _):
                what = f"a cast to {dtype}"
            case l4.Var(name) | l4.CoreArg(name):
                what = f"the scalar {name} in an elementwise value"
            case _:
                what = f"{type(e).__name__} {e}"
        loc = e.loc if e.loc != NOLOC else self.store.loc
        raise NanottError("NT318", f"{what} (line {loc.line}) is not supported yet in a tile "
                          "elementwise map", loc, OPS_HINT)

    def binary(self, op: str, a: Value, b: Value) -> str:
        if isinstance(a, l5.TileRef) and isinstance(b, l5.TileRef):
            return self.temp(l5.TileBinary(op, a, b))
        if isinstance(b, float):
            return self.temp(l5.TileScalar(op, self.temp_of(a), b))
        if isinstance(a, float):
            return self.temp(l5.TileScalar("rsub" if op == "sub" else op, self.temp_of(b), a))
        return self.temp(l5.TileBinaryTemps(op, self.temp_of(a), self.temp_of(b)))

"""Elementwise maps as tile programs (C2's recogniser for T.Parallel bodies).

A store `C[i, j] = f(A[i, j], B[i, j], constants)` over the whole of C, where every buffer is
indexed exactly by the Parallel's variables in order, computes each 32x32 tile of C from the same
tile of A and B; so it becomes one TileGroup over C's tiles whose body evaluates f on tiles:

  load (+ - *) load     -> TileBinary      (FPU: both operands straight from CBs)
  value (+ - * /) c     -> TileScalar      (SFPU binop_with_scalar; c - value is rsub)
  c (+ *) value         -> TileScalar      (both commute exactly in float32)
  max(value, 0)         -> TileUnary relu  (ReLU, as TileLang writes it: T.max(x, 0))
  value op value        -> TileBinaryTemps (SFPU on two DST tiles: add sub mul div max min; a
                                            load becomes a TileLoad temporary first, a constant a
                                            TileFill: c / x is fill c, then div)
  log2(value)           -> TileUnary log, then TileScalar mul by log2(e) (the SFPU's log_with_base)
  f(value), -value      -> TileUnary       (SFPU, in place: exp exp2 log sqrt rsqrt abs sigmoid
                                            tanh, negative)
  cast<d>(value)        -> TileCast        (SFPU typecast, in place), or nothing when it changes no
                                            value: d is float32 (temporaries are float32), or the
                                            value is a load of a CB already in d
  load (+ - *) v[i]     -> TileBinary with bcast cols (v[j]: rows), the FPU's *_tiles_bcast_*
                           (v + load and v * load too: they commute) where the target's release
                           has that broadcast (0.65/0.66 have no sub_tiles_bcast_rows); any other
                           use of a vector in a 2-D map spreads it over a temporary first
                           (TileBcast, unary_bcast), then the SFPU's binary op
  if_then_else(c, x, y) -> TileWhere      (SFPU where_tile: x where the 0/1 tile of c is not 0)
     a (== != < <= > >=) b -> sub(a, b), then eqz nez ltz lez gtz gez: the sign of a float32
                           difference is the order of a and b (for finite values, denormals kept:
                           the SFPU flushes them, not modelled); both sides as DST temporaries,
                           never the FPU, whose srcA/srcB keep 19 bits of a float32 (TF32), so
                           values that differ only in low bits would compare equal. A constant
                           side is a TileScalar sub; 0 needs none. c1 and c2 is mul of the 0/1
                           tiles, c1 or c2 max; any other condition v is v != 0
  a (>> << & | ^) b      -> TileBits        (SFPU on int32: right_shift_tile, bitwise_and_tile, ...
                           with a constant b; binary_right_shift_tile, bitwise_and_binary_tile,
                           ... with a tile b). Each operand is typecast to int32 first (TileCast
                           int32, exact for the integers a tile of integer elements holds), and
                           the result stays int32 through further bit operations; a float op
                           or a store takes it back to float32 first (TileCast float32, the
                           typecast from Int32). P0 admits bit operations on integers only.
  constants only        -> folded, with the interpreter's own float32 arithmetic

  a[j, i]               -> TileTranspose    (transpose_wh_tile through DST) of a's tile (tj, ti) for
                           the group's tile (ti, tj): in a 2-D map over (i, j), a 2-D buffer of the
                           map's shape reversed, indexed by the two variables swapped, is read
                           transposed; the tile grid transposes with the tiles (a 32 x 64 block
                           read as 64 x 32: its 1 x 2 tiles for a group of 2 x 1). A transpose
                           moves values, so it rounds nothing. Only reads of the whole buffer: a
                           store out[j, i] is NT317 (swap the map's variables instead), and so is
                           a[j, i] of a part of a (a 64 x 64 a in a map over 32 x 64).

Of a binary op's two operands, the one that needs more DST tiles is evaluated first (`need`, Sethi
and Ullman's order), so the other's temporaries are not alive meanwhile: an fp4 decoder's bit
patterns fit the 4 tiles of fp32 mode. The op still takes its operands in order: no value changes.

A buffer is indexed by the T.Parallel's variables in order (a 1-D T.Parallel over a vector too), or,
in a 2-D T.Parallel over (i, j), a vector as v[i] or v[j]: a broadcast, or a 2-D buffer as a[j, i]:
a transposed read. So every operation rounds exactly as the elementwise evaluation of L4 does.
Anything else (// or %, a scalar variable, another index, a store into a vector from a 2-D map) is
rejected with the construct named.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nanott.diagnostics import NanottError
from nanott.ir import NOLOC, walk
from nanott.languages import l4, l5
from nanott.languages.l0_interp import Env, InterpL0
from nanott.passes._c2_tile_bits import BITS, IntTemp, TileBitOps
from nanott.passes._c2_tile_refs import Bcast, TileRefs, Transposed

LOG2_E = float(np.float32(1.0 / np.log(2.0)))    # log2(x) = ln(x) * log2(e)
OPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "max": "max", "min": "min"}
FPU_OPS = ("add", "sub", "mul")                  # what the FPU does with both operands in CBs
SCALAR_OPS = ("add", "sub", "mul", "div")        # binop_with_scalar, the constant on the right
UNARY = {"neg": "negative", **{op: op for op in l5.UNARY_TILE_OPS}}
OPS_HINT = ("a tile elementwise map may use + - * /, T.max, T.min, T.exp, T.exp2, T.log, T.sqrt, "
            "T.rsqrt, T.abs, T.sigmoid, T.tanh, T.cast and T.if_then_else of comparisons of "
            "whole-buffer loads, vectors (v[i], v[j]) and constants")
COMPARE = {"==": "eqz", "!=": "nez", "<": "ltz", "<=": "lez", ">": "gtz", ">=": "gez"}
MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}    # c op x is x MIRROR[op] c
JOIN = {"and": "mul", "or": "max"}                                                 # of two 0/1 tiles



Value = float | l5.TileRef | Bcast | Transposed | str | IntTemp   # a folded constant, a CB tile not loaded yet, a temporary


def elementwise_group(p: l4.Parallel, store: l4.Store, cbs: tuple, shapes: dict[int, tuple],
                      tile_vars: tuple[str, str], grid: tuple[int, int],
                      bcasts: frozenset[tuple[str, str]]) -> l5.TileGroup:
    """The TileGroup computing one store of a T.Parallel, over the tiles of its output CB; `cbs`
    are the L5 CBs (vectors as blocks of tiles), `shapes` every CB's shape as the user wrote it,
    `bcasts` the FPU broadcasts the target's release has, as (op, dim)."""
    program = _TileProgram(p, store, cbs, shapes, tile_vars, bcasts)
    dst = program.target()
    result = program.temp_of(program.value(store.value))
    body = (*program.stmts, l5.TStore(dst, result, loc=store.loc))
    return l5.TileGroup(tile_vars, grid, body, loc=store.loc)


class _TileProgram(TileRefs, TileBitOps):
    def __init__(self, p: l4.Parallel, store: l4.Store, cbs: tuple, shapes: dict[int, tuple],
                 tile_vars: tuple[str, str], bcasts: frozenset[tuple[str, str]]):
        self.p, self.store, self.cbs, self.shapes, self.bcasts = p, store, cbs, shapes, bcasts
        self.tile_vars = tuple(l5.Var(v) for v in tile_vars)
        self.stmts: list[l5.TAssign] = []

    def temp(self, op: Any) -> str:
        name = f"t{len(self.stmts)}"
        self.stmts.append(l5.TAssign(name, op, loc=self.store.loc))
        return name

    def temp_of(self, v: Value) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, IntTemp):                         # int32 in DST: back to float32
            return self.temp(l5.TileCast(v.name, "float32"))
        if isinstance(v, Bcast):
            return self.temp(l5.TileBcast(v.ref, v.dim, self.store.cb))
        if isinstance(v, Transposed):
            return self.temp(l5.TileTranspose(v.ref))
        return self.temp(l5.TileLoad(v) if isinstance(v, l5.TileRef) else l5.TileFill(v))

    def value(self, e: Any) -> Value:
        if not any(isinstance(x, (l4.Var, l4.Load, l4.CoreArg)) for x in walk(e)):
            return float(InterpL0().eval(e, Env()))          # the arithmetic L4 would do
        match e:
            case l4.Load(cb, indices):
                ref = self.ref(cb, indices)
                return self.temp_of(ref) if isinstance(ref, Transposed) else ref
            case l4.BinOp(op, lhs, rhs) if op in OPS:
                return self.binary(OPS[op], *self.operands(lhs, rhs))
            case l4.BinOp(op, lhs, rhs) if op in BITS:
                return self.bits(BITS[op], *self.operands(lhs, rhs))
            case l4.BinOp(op, _, _):
                what = f"the operator {op}"
            case l4.UnOp("log2", x):                           # the SFPU's log_with_base
                ln = self.temp(l5.TileUnary("log", self.temp_of(self.value(x))))
                return self.temp(l5.TileScalar("mul", ln, LOG2_E))
            case l4.UnOp(op, x):
                return self.temp(l5.TileUnary(UNARY[op], self.temp_of(self.value(x))))
            case l4.Cast(dtype, x):
                return self.cast(dtype, self.value(x))
            case l4.Select(cond, x, y):
                mask = self.condition(cond)
                return self.temp(l5.TileWhere(mask, self.temp_of(self.value(x)), self.temp_of(self.value(y))))
            case l4.Var(name) | l4.CoreArg(name):
                what = f"the scalar {name} in an elementwise value"
            case _:
                what = f"{type(e).__name__} {e}"
        loc = e.loc if e.loc != NOLOC else self.store.loc
        raise NanottError("NT318", f"{what} (line {loc.line}) is not supported yet in a tile "
                          "elementwise map", loc, OPS_HINT)

    def operands(self, lhs: Any, rhs: Any) -> tuple[Value, Value]:
        """Both operands' values, the one that needs more DST tiles computed first (Sethi and
        Ullman's order: the other's temporaries are not alive meanwhile); the op still takes
        them as (lhs, rhs), so the order changes no value."""
        if need(rhs) > need(lhs):
            b = self.value(rhs)
            return self.value(lhs), b
        return self.value(lhs), self.value(rhs)

    def condition(self, e: Any) -> str:
        """A temporary holding 1.0 where the condition e holds and 0.0 where it does not."""
        match e:
            case l4.BinOp(op, lhs, rhs) if op in JOIN:
                return self.temp(l5.TileBinaryTemps(JOIN[op], self.condition(lhs), self.condition(rhs)))
            case l4.BinOp(op, lhs, rhs) if op in COMPARE:
                a, b = self.value(lhs), self.value(rhs)
                if isinstance(a, float):
                    a, b, op = b, a, MIRROR[op]
                if b == 0.0:
                    diff = self.temp_of(a)
                elif isinstance(b, float):
                    diff = self.temp(l5.TileScalar("sub", self.temp_of(a), b))
                else:
                    diff = self.temp(l5.TileBinaryTemps("sub", self.temp_of(a), self.temp_of(b)))
                return self.temp(l5.TileUnary(COMPARE[op], diff))
        return self.temp(l5.TileUnary("nez", self.temp_of(self.value(e))))

    def binary(self, op: str, a: Value, b: Value) -> str:
        if op == "max" and 0.0 in (a, b) and not all(isinstance(x, float) for x in (a, b)):
            return self.temp(l5.TileUnary("relu", self.temp_of(b if a == 0.0 else a)))
        if isinstance(a, Bcast) and isinstance(b, l5.TileRef) and op in ("add", "mul"):
            a, b = b, a                                    # they commute exactly
        if isinstance(a, l5.TileRef) and isinstance(b, Bcast) and (op, b.dim) in self.bcasts:
            return self.temp(l5.TileBinary(op, a, b.ref, b.dim))
        if isinstance(a, l5.TileRef) and isinstance(b, l5.TileRef) and op in FPU_OPS:
            return self.temp(l5.TileBinary(op, a, b))
        if isinstance(b, float) and op in SCALAR_OPS:
            return self.temp(l5.TileScalar(op, self.temp_of(a), b))
        if isinstance(a, float) and op in FPU_OPS:
            return self.temp(l5.TileScalar("rsub" if op == "sub" else op, self.temp_of(b), a))
        return self.temp(l5.TileBinaryTemps(op, self.temp_of(a), self.temp_of(b)))

    def cast(self, dtype: str, v: Value) -> Value:
        """A cast where it changes a value; where it cannot (to float32, the temporaries' type, or
        of a CB tile already in `dtype`), the value itself."""
        ref = v.ref if isinstance(v, Bcast) else v
        if isinstance(v, IntTemp) and dtype == "int32":
            return v                                       # already int32
        if dtype == "float32" or isinstance(ref, l5.TileRef) and self.cbs[ref.cb].dtype == dtype:
            return v
        return self.temp(l5.TileCast(self.temp_of(v), dtype))


def need(e: Any) -> int:
    """The DST tiles evaluating e takes, by Sethi and Ullman's count: a load or a leaf 1 (so is
    an FPU op on two loads), a constant 0, a unary op its operand's, a binary op the larger of its
    operands' or one more when they are equal. An estimate (broadcasts, transposes and casts are
    not counted), used only to order evaluation."""
    match e:
        case l4.BinOp("+" | "-" | "*", l4.Load(), l4.Load()):
            return 1                                           # the FPU reads both from CBs
        case l4.BinOp(_, lhs, rhs) | l4.Select(_, lhs, rhs):
            a, b = need(lhs), need(rhs)
            return max(a, b) if a != b else a + (a > 0)
        case l4.UnOp(_, x) | l4.Cast(_, x):
            return need(x)
        case l4.Const():
            return 0
    return 1

"""CompiledTiles: InterpL5's tile programs (L5..L8), each tile statement compiled once into a closure.

InterpL5 runs a TileGroup's body once per tile, and on every tile walks each statement through
`match` (exec_tile, then tile_op's ten cases). A GEMM's K loop is a group of one load, one
matmul and one store per tile: for a 256^3 GEMM each level runs some two thousand of them, and
the walking costs more than the 32x32 arithmetic. This mixin (before an interpreter of L5..L8,
after `Compiled`) compiles a group's body once per node into closures over (env, temps), the
operation and its operands resolved; the tiles are still read and written by the level's own
`tile` and `store_tile` (L7's and L8's protocol checks, L8's ring slots), and every statement
or operation not compiled here (L8's Init, a reduce, a broadcast) runs by the level's own rule.
The arithmetic is InterpL5's, op for op, so both give the same bits (tests/test_compiled.py, every
example at every level).
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from nanott.languages import l5
from nanott.languages.l0_interp import cast
from nanott.languages.l5_interp import TILE_BITS, TILE_OPS, TILE_UNARY, Temps, where

F32 = np.float32
TileCode = Callable[[Any, Temps], None]
Value = Callable[[Any, Temps], np.ndarray]      # (the executor's context, temps) -> a tile or a stack


def binary_temps(op: l5.TileBinaryTemps) -> Value:
    f, a, b = TILE_OPS[op.op], op.a, op.b
    return lambda _, temps: f(temps[a], temps[b])


def scalar(op: l5.TileScalar) -> Value:
    f, a, s = TILE_OPS[op.op], op.a, F32(op.scalar)
    return lambda _, temps: f(temps[a], s)


def unary(op: l5.TileUnary) -> Value:
    f, a = TILE_UNARY[op.op], op.a
    return lambda _, temps: f(temps[a])


def cast_temp(op: l5.TileCast) -> Value:
    a, dtype = op.a, op.dtype
    return lambda _, temps: cast(temps[a], dtype)


def where_temps(op: l5.TileWhere) -> Value:
    c, a, b = op.cond, op.a, op.b
    return lambda _, temps: where(temps[c], temps[a], temps[b])


def bits(op: l5.TileBits) -> Value:
    f, a, b = TILE_BITS[op.op], op.a, op.b
    if isinstance(b, str):
        return lambda _, temps: f(temps[a], temps[b])
    s = F32(b)
    return lambda _, temps: f(temps[a], s)


# The operations of L5 that read temporaries only, each InterpL5.tile_op's rule as a closure over
# (context, temps); the context (CompiledTiles: the env; BatchedTiles: the run's tile places) is
# unused. Elementwise, so the same closure computes one tile or a stack of them: the one place
# both executors take these operations' NumPy semantics from.
TEMPS_ONLY: dict[type, Callable[[Any], Value]] = {
    l5.TileBinaryTemps: binary_temps, l5.TileScalar: scalar, l5.TileUnary: unary,
    l5.TileCast: cast_temp, l5.TileWhere: where_temps, l5.TileBits: bits}


class CompiledTiles:
    """run_group with the group's body compiled once (the `compiled` cache of `Compiled`)."""

    def run_group(self, vars: tuple[str, ...], extents: tuple[int, ...], body: tuple, env: Any) -> None:
        code = self.compiled(body, self.tile_block)
        inner = env.child()
        scalars = inner.scalars
        with np.errstate(invalid="ignore"):      # -inf - -inf where a vector's tiles carry no data
            for tile in itertools.product(*(range(n) for n in extents)):
                scalars.update(zip(vars, tile))
                temps: Temps = {}
                for f in code:
                    f(inner, temps)

    def tile_block(self, body: tuple) -> list[TileCode]:
        return [self.tile_stmt(t) for t in body]

    def tile_stmt(self, t: Any) -> TileCode:
        match t:
            case l5.TAssign(dst, op):
                value = self.tile_value(op)

                def assign(env, temps):
                    temps[dst] = value(env, temps)
                return assign
            case l5.TStore(dst, src):
                store_tile = self.store_tile

                def store(env, temps):
                    out = store_tile(dst, env)
                    out[...] = temps[src].astype(out.dtype)
                return store
            case l5.TFor(var, extent, body):
                inner = self.tile_block(body)

                def loop(env, temps):
                    for i in range(extent):
                        env.scalars[var] = i
                        for f in inner:
                            f(env, temps)
                return loop
        rule = self.exec_tile
        return lambda env, temps: rule(t, env, temps)

    def tile_value(self, op: Any) -> Value:
        build = TEMPS_ONLY.get(type(op))
        if build is not None:
            return build(op)
        tile = self.tile
        match op:
            case l5.TileLoad(src):
                return lambda env, temps: tile(src, env).astype(F32)
            case l5.TileMatmul(a, b, acc, False):
                def matmul(env, temps):
                    b32 = tile(b, env).astype(F32)           # b read first, as the reference does
                    return temps[acc] + tile(a, env).astype(F32) @ b32
                return matmul
        rule = self.tile_op
        return lambda env, temps: rule(op, env, temps)

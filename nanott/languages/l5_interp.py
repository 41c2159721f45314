"""InterpL5: runs an L5 kernel, whose block operations are tile programs over 32x32 tiles.

A TileGroup runs its body once per tile of its grid (a Python loop over tiles; the elements of a
tile go through NumPy as one 32x32 array). Temporaries are float32 tiles, local to one tile's run; a
TileRef reads a CB tile as float32; a TStore rounds to the CB's dtype. TileMatmul is `acc + a @ b`
(b^T with transpose_b) in float32, TileTranspose a CB tile transposed, TileScalar, TileBinary,
TileBinaryTemps and TileUnary are the float32 elementwise operations of L0 (TILE_OPS, TILE_UNARY; a
comparison with zero is 1.0 or 0.0), TileBits its bit operations on int32 (TILE_BITS), TileWhere
picks a where its condition is not 0, else b, TileCast is L0's cast, so L5 rounds as L4 everywhere but in the GEMM's K sum and the reductions (see
C2's Numerics line): TileReduce reduces the 32 elements of a row (column) of a tile in order and
combines tile after tile in order; TileBcast and TileBinary's bcast spread a vector tile's column 0
(row 0) over a tile. GenerateToCb evaluates its value over the block's element indices at once
(as L0 runs a T.Parallel) and rounds it to the CB's dtype. Everything else (read_to_cb,
write_from_cb, loops, lets) is L4's.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nanott.languages import l5
from nanott.languages.l0_interp import BINOPS, COMBINE, REDUCE, UNARY, Env, NoRule, cast
from nanott.languages.l4_interp import InterpL4, cb_key
from nanott.target import TILE

Temps = dict[str, np.ndarray]

TILE_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
            "rsub": lambda a, scalar: np.subtract(scalar, a), "max": np.maximum, "min": np.minimum}
COMPARE_ZERO = {"eqz": np.equal, "nez": np.not_equal, "ltz": np.less, "lez": np.less_equal,
                "gtz": np.greater, "gez": np.greater_equal}
TILE_UNARY = {**{op: UNARY[op] for op in ("exp", "exp2", "log", "sqrt", "rsqrt", "abs", "sigmoid", "tanh")},
              "relu": lambda a: np.maximum(a, np.float32(0.0)), "negative": UNARY["neg"],
              **{op: lambda a, f=f: f(a, np.float32(0.0)).astype(np.float32) for op, f in COMPARE_ZERO.items()}}

# the SFPU's integer ops, on the int32 its float32 operands hold (L0's bit operations on elements)
TILE_BITS = {name: BINOPS[op] for name, op in (("and", "&"), ("or", "|"), ("xor", "^"), ("shl", "<<"), ("shr", ">>"))}


def where(cond: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """where_tile: a where cond is not 0 (NaN is not 0), else b."""
    return np.where(cond != 0, a, b).astype(np.float32)


def spread(tile: np.ndarray, dim: str) -> np.ndarray:
    """A vector's tile over a whole tile: column 0 across every column ("cols"), row 0 down ("rows").
    On the last two axes, so a stack of tiles (the lockstep simulator's) spreads the same way."""
    if dim == "cols":
        return np.repeat(tile[..., :, :1], TILE, axis=-1)
    return np.repeat(tile[..., :1, :], TILE, axis=-2)


def reduce_tile(op: str, dim: str, acc: np.ndarray, src: np.ndarray, scaler: np.ndarray) -> np.ndarray:
    """reduce_tile: acc's column 0 (dim "row": each row of src reduced) or row 0 (dim "col") combined
    with the reduction of src times the scaler's [0, 0]; acc's other elements as they were. A sum
    adds the 32 elements in order, left to right (top to bottom), in float32. On the last two axes,
    so a stack of tiles reduces element for element the same way."""
    out = acc.copy()
    axis, at = (-1, (..., slice(None), 0)) if dim == "row" else (-2, (..., 0, slice(None)))
    if op == "sum":
        r = np.cumsum(src, axis=axis, dtype=np.float32).take(-1, axis)
    else:
        r = REDUCE[op](src, axis=axis)
    out[at] = COMBINE[op](acc[at], r * scaler[..., 0, 0][..., None])
    return out


class InterpL5(InterpL4):
    """L5 runs each TileGroup tile by tile; tile statements work on float32 temporaries."""

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l5.TileGroup(vars, extents, body):
                self.run_group(vars, extents, body, env)
            case l5.GenerateToCb(cb, vars, extents, value):
                block = env.buffers[cb_key(cb)]
                block[...] = self.generate(vars, extents, value, env).astype(block.dtype)
            case _:
                super().exec_stmt(s, env)

    def generate(self, vars: tuple[str, ...], extents: tuple[int, ...], value: Any, env: Env) -> np.ndarray:
        """A generated block: `value` at every element, the vars bound to index arrays, in float32."""
        inner = env.child()
        for axis, (v, n) in enumerate(zip(vars, extents)):
            inner.scalars[v] = np.arange(n).reshape([n if a == axis else 1 for a in range(len(extents))])
        return np.broadcast_to(np.float32(self.eval(value, inner)), extents)

    def run_group(self, vars: tuple[str, ...], extents: tuple[int, ...], body: tuple, env: Env) -> None:
        inner = env.child()
        with np.errstate(invalid="ignore"):      # -inf - -inf where a vector's tiles carry no data
            for tile in itertools.product(*(range(n) for n in extents)):
                inner.scalars.update(zip(vars, tile))
                temps: Temps = {}
                for t in body:
                    self.exec_tile(t, inner, temps)

    def exec_tile(self, t: Any, env: Env, temps: Temps) -> None:
        match t:
            case l5.TAssign(dst, op):
                temps[dst] = self.tile_op(op, env, temps)
            case l5.TStore(dst, src):
                out = self.store_tile(dst, env)
                out[...] = temps[src].astype(out.dtype)
            case l5.TFor(var, extent, body):
                for i in range(extent):
                    env.scalars[var] = i
                    for inner in body:
                        self.exec_tile(inner, env, temps)
            case _:
                raise NoRule(self, t)

    def tile_op(self, op: Any, env: Env, temps: Temps) -> np.ndarray:
        f32 = np.float32
        match op:
            case l5.TileLoad(src):
                return self.tile(src, env).astype(f32)
            case l5.TileFill(value):
                return np.full((TILE, TILE), value, dtype=f32)
            case l5.TileBinary(name, a, b, bcast):
                b32 = self.tile(b, env).astype(f32)
                b32 = b32 if bcast == "none" else spread(b32, bcast)
                return TILE_OPS[name](self.tile(a, env).astype(f32), b32)
            case l5.TileBinaryTemps(name, a, b):
                return TILE_OPS[name](temps[a], temps[b])
            case l5.TileScalar(name, a, scalar):
                return TILE_OPS[name](temps[a], f32(scalar))
            case l5.TileUnary(name, a):
                return TILE_UNARY[name](temps[a])
            case l5.TileCast(a, dtype):
                return cast(temps[a], dtype)
            case l5.TileWhere(c, a, b):
                return where(temps[c], temps[a], temps[b])
            case l5.TileBits(name, a, b):
                return TILE_BITS[name](temps[a], temps[b] if isinstance(b, str) else f32(b))
            case l5.TileMatmul(a, b, acc, transpose_b):
                b32 = self.tile(b, env).astype(f32)
                return temps[acc] + self.tile(a, env).astype(f32) @ (b32.T if transpose_b else b32)
            case l5.TileTranspose(src):
                return self.tile(src, env).astype(f32).T.copy()
            case l5.TileBcast(src, dim, _):
                return spread(self.tile(src, env).astype(f32), dim)
            case l5.TileReduce(name, dim, src, scaler, acc, _):
                return reduce_tile(name, dim, temps[acc], self.tile(src, env).astype(f32),
                                   self.tile(scaler, env).astype(f32))
            case _:
                raise NoRule(self, op)

    def store_tile(self, ref: l5.TileRef, env: Env) -> np.ndarray:
        """The tile a TStore writes; here the same tile a read sees (one block per CB)."""
        return self.tile(ref, env)

    def tile(self, ref: l5.TileRef, env: Env) -> np.ndarray:
        """One 32x32 tile of a CB's block, as a view (so a store writes the CB)."""
        row, col = int(self.eval(ref.row, env)) * TILE, int(self.eval(ref.col, env)) * TILE
        return env.buffers[cb_key(ref.cb)][row:row + TILE, col:col + TILE]


l5.LANG.interpreter = InterpL5


def demo_kernel() -> l5.Kernel:
    """Y = 2 * X + 1, written by hand as C2 lowers L4's demo: one tile group of SFPU steps."""
    from nanott.ir import replace
    from nanott.languages.l4_interp import demo_kernel as l4_demo
    k = l4_demo()
    loop, ij = k.body[0], (l5.Var("ti"), l5.Var("tj"))
    group = l5.TileGroup(("ti", "tj"), (1, 1), (
        l5.TAssign("t0", l5.TileLoad(l5.TileRef(0, *ij))),
        l5.TAssign("t1", l5.TileScalar("mul", "t0", 2.0)),
        l5.TAssign("t2", l5.TileScalar("add", "t1", 1.0)),
        l5.TStore(l5.TileRef(0, *ij), "t2")))
    body = (*loop.body[:4], group, loop.body[5])           # lets, read_to_cb, the group, write_from_cb
    return replace(k, body=(replace(loop, body=body),))


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l5.LANG.check(demo_kernel())
    demo_run(InterpL5(), demo_kernel())

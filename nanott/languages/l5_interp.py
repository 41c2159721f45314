"""InterpL5: runs an L5 kernel, whose block operations are tile programs over 32x32 tiles.

A TileGroup runs its body once per tile of its grid (a Python loop over tiles; the elements of a
tile go through NumPy as one 32x32 array). Temporaries are float32 tiles, local to one tile's
run; a TileRef reads a CB tile as float32; a TStore rounds to the CB's dtype. TileMatmul is
`acc + a @ b` in float32, TileScalar, TileBinary and TileBinaryTemps are float32 elementwise
operations, so L5 rounds as L4 everywhere but in the GEMM's K sum (see C2's Numerics line).
Everything else (read_to_cb, write_from_cb, loops, lets) is L4's.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nanott.languages import l5
from nanott.languages.l0_interp import Env, NoRule
from nanott.languages.l4_interp import InterpL4, cb_key
from nanott.target import TILE

Temps = dict[str, np.ndarray]

TILE_OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply,
            "rsub": lambda a, scalar: np.subtract(scalar, a)}


class InterpL5(InterpL4):
    """L5 runs each TileGroup tile by tile; tile statements work on float32 temporaries."""

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l5.TileGroup(vars, extents, body):
                self.run_group(vars, extents, body, env)
            case _:
                super().exec_stmt(s, env)

    def run_group(self, vars: tuple[str, ...], extents: tuple[int, ...], body: tuple, env: Env) -> None:
        inner = env.child()
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
            case l5.TileBinary(name, a, b):
                return TILE_OPS[name](self.tile(a, env).astype(f32), self.tile(b, env).astype(f32))
            case l5.TileBinaryTemps(name, a, b):
                return TILE_OPS[name](temps[a], temps[b])
            case l5.TileScalar(name, a, scalar):
                return TILE_OPS[name](temps[a], f32(scalar))
            case l5.TileMatmul(a, b, acc):
                return temps[acc] + self.tile(a, env).astype(f32) @ self.tile(b, env).astype(f32)
            case _:
                raise NoRule(self, op)

    def store_tile(self, ref: l5.TileRef, env: Env) -> np.ndarray:
        """The tile a TStore writes; here the same tile a read sees (one block per CB)."""
        return self.tile(ref, env)

    def tile(self, ref: l5.TileRef, env: Env) -> np.ndarray:
        """One 32x32 tile of a CB's block, as a view (so a store writes the CB)."""
        row, col = (int(self.eval(x, env)) * TILE for x in (ref.row, ref.col))
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

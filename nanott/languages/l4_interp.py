"""InterpL4: runs an L4 kernel, whose on-chip buffers are circular buffers found by index.

Each core starts with every CB as one block-shaped array of NaN, kept in `env.buffers` under
"cb.0", "cb.1", ... (names no tensor parameter can have). A CB holds one block: a later write
replaces it.
read_to_cb and write_from_cb move a block of whole tiles (rows*32 x cols*32 elements from tile
(row, col)) and round to the dtype of the side written, as L3's copy did; copy_cb casts. A vector
CB (1-D until C2 lays it in tiles) takes or gives row 0 of its tiles: a 1-D tensor's values; a
slice with a line moves that one row of the tensor's tiles, to or from the vector (its row 0 from
C2 on), and leaves the tiles' other rows as they are; a read slice with a start row takes rows*32
rows from that row on, zeros for those past either end of the matrix (as L3's masked read). Gemm,
fill, store and load are L3's rules on the CB's array, so L4 is bit-identical to L3.

From here on DRAM tensors are whole tiles: each tensor is put as DRAM holds it when the run starts
(the host's tilize: its dims in the layout's stored order, padded with zeros to the padded shape,
viewed as the matrix of rows the tile grid covers; a 1-D tensor is row 0 of a row of tiles) and put
back, cropped, into the caller's array when it ends. A masked read of L0 (zeros
outside the tensor) reads the zero padding here, and a masked store (dropped) writes padding that
is cropped: still bit-identical to L3. A gathered slice reads each block row from the row of the
tensor its RowGather names, or zeros. An Element (a let reading a DRAM element) is the element at
its row and column of the tile it names, as DRAM holds it (L3 read the same element of the tensor).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from nanott.ir import replace
from nanott.languages import l0, l4
from nanott.languages.l0_interp import Env, empty, xy
from nanott.languages.l3_interp import InterpL3
from nanott.target import TILE


def cb_key(index: int) -> str:
    """Where a running kernel keeps CB `index` among its buffers."""
    return f"cb.{index}"


class InterpL4(InterpL3):
    """L4 keeps one block per CB per core and moves whole tiles between DRAM and CBs."""

    def run(self, program: Any, arrays: dict[str, np.ndarray]) -> None:
        """Run on the tensors as DRAM holds them (to_dram); put the results back into `arrays`."""
        dram = {p.name: to_dram(arrays[p.name], p.layout) for p in program.params}
        self.run_cores(program, {**arrays, **dram})
        for p in program.params:
            if dram[p.name] is not arrays[p.name]:
                arrays[p.name][...] = from_dram(dram[p.name], p.layout, p.shape)

    def run_cores(self, program: l4.Kernel, arrays: dict[str, np.ndarray]) -> None:
        for core in program.work.cores:        # as L3, each core with its own, empty, CBs
            env = Env(dict(arrays), {"core.start": core.start, "core.count": core.count},
                      f"{program.name} core {xy(core.core)}")
            env.buffers.update({cb_key(cb.index): empty(cb.shape, cb.dtype) for cb in program.cbs})
            self.exec_block(program.body, env)

    def exec_stmt(self, s: Any, env: Env) -> None:
        match s:
            case l4.ReadToCb(src, cb):
                block = moved(env.buffers[cb_key(cb)], src)
                block[...] = self.tiles(src, env)[(0,) * (block.ndim == 1)].astype(block.dtype)
            case l4.WriteFromCb(cb, dst) if dst.gather is not None:
                self.scattered(env.buffers[cb_key(cb)], dst, env)
            case l4.WriteFromCb(cb, dst):
                block = moved(env.buffers[cb_key(cb)], dst)
                out = self.tiles(dst, env)[(0,) * (block.ndim == 1)]
                out[...] = block.astype(out.dtype)
            case l4.CopyCb(src, dst):
                block = env.buffers[cb_key(dst)]
                block[...] = env.buffers[cb_key(src)].astype(block.dtype)
            case l4.Gemm(a, b, c, transpose_a, transpose_b, clear):
                a, b, c = (env.buffers[cb_key(x)] for x in (a, b, c))
                self.gemm(a, b, c, transpose_a, transpose_b, clear)
            case l4.Reduce(op, src, dst, dim, clear):
                self.reduce(op, env.buffers[cb_key(src)], env.buffers[cb_key(dst)], dim, clear)
            case l4.Fill(cb, value):
                super().exec_stmt(l0.Fill(cb_key(cb), value), env)
            case l4.Store(cb, indices, value):
                super().exec_stmt(l0.Store(cb_key(cb), indices, value), env)
            case l4.PrintCb(text, cb):
                self.say_block(text, env.buffers[cb_key(cb)], env)
            case _:
                super().exec_stmt(s, env)

    def tiles(self, t: l4.TileSlice, env: Env) -> np.ndarray:
        """The DRAM elements of a block of tiles: a view, so writing it writes the tensor."""
        row, col = (int(self.eval(x, env)) * TILE for x in (t.row, t.col))
        if t.gather is not None:
            return self.gathered(t, env)[:, col:col + t.cols * TILE]
        if t.start_row is not None:              # rows from any row; past either end: zeros (a read)
            a, first = env.buffers[t.tensor], int(self.eval(t.start_row, env))
            out = np.zeros((t.rows * TILE, t.cols * TILE), a.dtype)
            low, high = max(first, 0), min(first + t.rows * TILE, a.shape[0])
            out[low - first:max(high - first, 0)] = a[low:max(high, low), col:col + t.cols * TILE]
            return out
        if t.line is not None:                   # one row of the tiles: (1, cols * 32)
            row += int(self.eval(t.line, env))
            return env.buffers[t.tensor][row:row + 1, col:col + t.cols * TILE]
        return env.buffers[t.tensor][row:row + t.rows * TILE, col:col + t.cols * TILE]

    def gathered(self, t: l4.TileSlice, env: Env) -> np.ndarray:
        """The rows a RowGather reads, whole (a copy): block row v is the stored matrix's row
        `row` at v, or zeros where `valid` is false (where `row` may be outside the tensor)."""
        dram = env.buffers[t.tensor]
        rows, valid = self.gather_rows(t, env)
        out = dram[np.clip(rows, 0, len(dram) - 1)]
        out[~valid] = 0
        return out

    def scattered(self, block: np.ndarray, t: l4.TileSlice, env: Env) -> None:
        """A RowGather written: block row v into the stored matrix's row `row` at v, where `valid`
        holds (the other rows of the tensor stay as they are)."""
        rows, valid = self.gather_rows(t, env)
        col = int(self.eval(t.col, env)) * TILE
        env.buffers[t.tensor][rows[valid], col:col + t.cols * TILE] = block[valid].astype(env.buffers[t.tensor].dtype)

    def gather_rows(self, t: l4.TileSlice, env: Env) -> tuple[np.ndarray, np.ndarray]:
        """A RowGather's row of the stored matrix for each block row, and whether it is there."""
        n, g = t.rows * TILE, t.gather
        inner = env.child()
        inner.scalars[g.var] = np.arange(n)
        rows = np.broadcast_to(np.asarray(self.eval(g.row, inner)), (n,))
        valid = np.ones(n, bool) if g.valid is None else np.broadcast_to(np.asarray(self.eval(g.valid, inner)), (n,))
        return rows, valid

    def eval(self, e: Any, env: Env) -> Any:
        match e:
            case l4.Load(cb, indices):
                return super().eval(l0.Load(cb_key(cb), indices), env)
            case l4.Element(_, src, row, col):       # the scratch page holds what DRAM holds
                return self.tiles(src, env)[int(self.eval(row, env)), int(self.eval(col, env))][()]
            case _:
                return super().eval(e, env)


def moved(block: np.ndarray, t: l4.TileSlice) -> np.ndarray:
    """The part of a CB block a transfer moves: all of it, or, for a slice with a line (one row of
    its tiles), the vector's row 0 (a 2-D block from C2 on; a 1-D vector before)."""
    return block[:1] if t.line is not None and block.ndim == 2 else block


def matrix(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A tensor's shape as DRAM tiles it: a 1-D tensor (n,) is the row (1, n)."""
    return (1, *shape) if len(shape) == 1 else tuple(shape)


def to_dram(a: np.ndarray, layout: Any) -> np.ndarray:
    """`a` as DRAM holds it: its dims in the layout's stored order, the last two padded with zeros,
    as the 2-D matrix of rows that the tile grid covers (`a` itself when that changes nothing)."""
    padded = tuple(layout.padded_shape)
    if a.shape == padded and len(padded) == 2 and not layout.order:
        return a
    stored = a.reshape(matrix(a.shape)).transpose(layout.order or range(len(matrix(a.shape))))
    out = np.zeros(padded, a.dtype)
    out[tuple(slice(0, n) for n in stored.shape)] = stored
    return out.reshape(-1, padded[-1])


def from_dram(d: np.ndarray, layout: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of to_dram: the tensor of `shape` out of its DRAM matrix."""
    own = matrix(shape)
    order = layout.order or tuple(range(len(own)))
    stored = d.reshape(layout.padded_shape)[tuple(slice(0, own[k]) for k in order)]
    return stored.transpose(np.argsort(order)).reshape(shape)


l4.LANG.interpreter = InterpL4


def demo_kernel() -> l4.Kernel:
    """Y = 2 * X + 1 again, written by hand as C1 lowers L3's demo: S is cb0, copies move tiles."""
    from nanott.languages.l3_interp import demo_kernel as l3_demo
    k = l3_demo()
    loop, plan = k.body[0], l4.CbPlan("Float32", 4096, 1, 2, "double-buffered")
    ij, at = (l4.Var("i"), l4.Var("j")), (l4.Var("by"), l4.Var("bx"))
    two, one = l4.Const(2.0, "float32"), l4.Const(1.0, "float32")
    twice = l4.BinOp("+", l4.BinOp("*", l4.Load(0, ij), two), one)
    body = (*loop.body[:3],                                      # the lets recovering bx, by
            l4.ReadToCb(l4.TileSlice("X", *at, 1, 1), 0),
            l4.Parallel(("i", "j"), (32, 32), (l4.Store(0, ij, twice),)),
            l4.WriteFromCb(0, l4.TileSlice("Y", *at, 1, 1)))
    cbs = (l4.CircularBuffer(0, "S", (32, 32), "float32", "shared", plan),)
    return l4.Kernel(k.name, k.params, k.work, cbs, (replace(loop, body=body),), k.attrs)


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l4.LANG.check(demo_kernel())
    demo_run(InterpL4(), demo_kernel())

"""A GEMM's K loop run statement-major, all its iterations at once (the mixin KLoop of
languages/l0_compiled.py's Compiled, and what languages/l0_grid.py plans for a whole grid).

A serial loop whose body only copies into on-chip buffers it overwrites whole and accumulates
products of them with T.gemm (`batch_plan` decides from the IR): each copy's source regions for
every iteration are one strided view (of the tensor widened to float32 once per run, when no
statement writes it and the copy does not round; laid out tile by tile when the regions are tiles
of it, so that each region BLAS reads is contiguous); the products are one batched matmul, each
slice the same BLAS product the reference computes, added into the accumulator in iteration order,
so the rounding is the reference's. When a region reaches outside its tensor (a masked copy) or the
starts do not step evenly, `batch` returns False and the loop runs iteration by iteration.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nanott.ir import walk
from nanott.languages import l0
from nanott.languages.l0_interp import Env

F32 = np.float32


class KLoop:
    """The K loop's rules, for Compiled (which provides eval, constant and the per-run caches)."""

    def plan_of(self, s: l0.For) -> tuple | None:
        """batch_plan(s), decided once per loop (kept by id; the loop is kept alive)."""
        entry = self.plans.get(id(s))
        if entry is None or entry[0] is not s:
            entry = self.plans[id(s)] = (s, batch_plan(s))
        return entry[1]

    def widened(self, name: str, buf: np.ndarray) -> np.ndarray:
        """A tensor no statement writes, as float32 (exact: every dtype widens exactly)."""
        if name not in self.as_f32:
            self.as_f32[name] = buf.astype(F32)
        return self.as_f32[name]

    # ----- a GEMM's K loop, statement-major -----
    def batch(self, s: l0.For, plan: tuple, env: Env, n: int) -> bool:
        """Run all n iterations of a loop batch_plan accepted; False (nothing changed) when a
        region reaches outside its tensor, where the loop must run the reference's way."""
        copies, gemms = plan
        each = Env(env.buffers, {**env.scalars, s.var: self.iterations(n)})   # the loop variable: every value
        values, last = {}, {}                          # per iteration, as float32, rounded to the buffer's dtype
        for c in copies:
            src, dst = env.buffers[c.src.buffer], env.buffers[c.dst.buffer]
            exact = src.dtype == dst.dtype and c.src.buffer in self.constant     # widened once per run
            where = steps([self.eval(x, each) for x in c.src.starts], c.src.extents, src.shape, n)
            if where is None or tuple(c.dst.extents) != dst.shape:
                return False
            firsts, by = where
            last[c.dst.buffer] = src[tuple(slice(f + d * (n - 1), f + d * (n - 1) + e)
                                           for f, d, e in zip(firsts, by, c.src.extents))]
            view = self.tiled(c.src.buffer, src, c.src.extents, firsts, by, n) if exact else None
            if view is None:
                view = strided(self.widened(c.src.buffer, src) if exact else src, firsts, by, c.src.extents, n)
            view = view if exact or view.dtype == dst.dtype else view.astype(dst.dtype)
            values[c.dst.buffer] = view.astype(F32, copy=False).reshape(n, *dst.shape)
        for g in gemms:
            a = values[g.a] if g.a in values else env.buffers[g.a].astype(F32)
            b = values[g.b] if g.b in values else env.buffers[g.b].astype(F32)
            self.accumulate(a, b, env.buffers[g.c], g, n)
        for name, region in last.items():              # what the last iteration's copy left there
            buf = env.buffers[name]
            buf[...] = region.reshape(buf.shape) if region.dtype == buf.dtype else region.reshape(buf.shape).astype(buf.dtype)
        env.scalars[s.var] = n - 1
        return True

    def accumulate(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, g: l0.Gemm, n: int) -> None:
        """c += a[i] @ b[i] for i < n, one after another, as the reference's n gemm statements do:
        the n products in one batched call (each slice the reference's 2-D product), then summed
        into c in iteration order."""
        a = np.swapaxes(a, -1, -2) if g.transpose_a else a
        b = np.swapaxes(b, -1, -2) if g.transpose_b else b
        products = np.matmul(a, b, out=self.scratch((n, a.shape[-2], b.shape[-1])))
        if c.dtype == F32 and products[0].size > 1:
            products[0] += c          # then one add after another: NumPy sums pairwise only along
            np.add.reduce(products, axis=0, out=c)     # the fast axis, and axis 0 is not (C order)
            return
        acc = c.astype(F32)
        for i in range(n):
            acc += products[i]
            if c.dtype != F32:
                acc = acc.astype(c.dtype).astype(F32)
        c[...] = acc if c.dtype == F32 else acc.astype(c.dtype)

    def tiled(self, name: str, buf: np.ndarray, extents: tuple[int, ...], firsts: list[int], by: list[int],
              n: int) -> np.ndarray | None:
        """The regions of a tensor no statement writes at firsts + i * by (i < n) as one (n, *extents)
        float32 view, each region contiguous (BLAS reads it faster than a region of the whole
        tensor), when the tensor divides into tiles of `extents` and every region is one of them;
        else None."""
        tiles = self.tiles_of(name, buf, extents, firsts, by)
        if tiles is None:
            return None
        strides = tiles.strides[:len(extents)]
        view = np.ndarray((n, *extents), F32, buffer=tiles,
                          offset=sum(f // e * t for f, e, t in zip(firsts, extents, strides)),
                          strides=(sum(s // e * t for s, e, t in zip(by, extents, strides)), *tiles.strides[len(extents):]))
        view.flags.writeable = False
        return view

    def tiles_of(self, name: str, buf: np.ndarray, extents: tuple[int, ...], firsts: list, by: list) -> np.ndarray | None:
        """The tensor widened to float32 (exact) and laid out tile by tile, tiles[t0, t1, ..] its
        region at (t0 * extents[0], t1 * extents[1], ..), made once per run; None unless the tensor
        divides into such tiles and the starts `firsts` (ints, or one per block) and steps `by`
        fall on tile boundaries."""
        if any(d % e or np.any(np.asarray(f) % e) or np.any(np.asarray(s) % e)
               for d, e, f, s in zip(buf.shape, extents, firsts, by)):
            return None
        tiles = self.as_tiles.get((name, extents))
        if tiles is None:
            grid = [d // e for d, e in zip(buf.shape, extents)]
            tiles = self.as_tiles[(name, extents)] = np.empty((*grid, *extents), F32)
            k = len(grid)
            tiles.transpose([a for i in range(k) for a in (i, k + i)])[...] = \
                buf.reshape([x for g, e in zip(grid, extents) for x in (g, e)])
        return tiles

    def iterations(self, n: int) -> np.ndarray:
        """np.arange(n), made once per run (read only: every iteration's value of a loop variable)."""
        got = self.aranges.get(n)
        if got is None:
            got = self.aranges[n] = np.arange(n)
            got.flags.writeable = False
        return got

    def scratch(self, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 buffer of `shape` for the products of one batch, reused by the next (its
        contents never outlive the batch)."""
        got = self.scratches.get(shape)
        if got is None:
            got = self.scratches[shape] = np.empty(shape, F32)
        return got


def batch_plan(s: l0.For) -> tuple | None:
    """(copies, gemms) when the loop's body is copies that overwrite whole on-chip buffers,
    followed by gemms that accumulate products of those buffers (or of buffers the loop does not
    write) into accumulators nothing else in the body touches; else None. Decided from the IR."""
    copies = [x for x in s.body if type(x) is l0.Copy]
    gemms = [x for x in s.body if type(x) is l0.Gemm]
    written = {c.dst.buffer for c in copies}
    if not gemms or any(not {g.a, g.b} & written for g in gemms) or len(copies) + len(gemms) != len(s.body) or s.body[:len(copies)] != tuple(copies):
        return None
    sources = {c.src.buffer for c in copies}
    accumulators = [g.c for g in gemms]
    for c in copies:
        if not all(isinstance(x, l0.Const) and x.value == 0 for x in c.dst.starts):
            return None
    if len(set(accumulators)) != len(accumulators) or (set(accumulators) & (written | sources)) \
            or (written & sources) or any(g.clear_accum for g in gemms) or len(written) != len(copies) \
            or {x for g in gemms for x in (g.a, g.b)} & set(accumulators):
        return None
    if any(isinstance(x, l0.Load) for c in copies for x in walk(c.src.starts)):
        return None                                  # a start read from a buffer: keep the order
    return copies, gemms


def steps(starts: list[Any], extents: tuple[int, ...], shape: tuple[int, ...], n: int) -> tuple | None:
    """(first start, step) per axis of the regions at starts[d][i] (one per iteration i; a scalar
    start: the same for all) when each region lies inside a buffer of `shape` and the starts step
    evenly; else None."""
    if len(extents) != len(shape):
        return None
    firsts, by = [], []
    for st, e, d in zip(starts, extents, shape):
        if isinstance(st, np.ndarray) and st.ndim:
            if st.shape != (n,):
                return None
            each = st.tolist()
            first, step = int(each[0]), int(each[1] - each[0]) if n > 1 else 0
            if each != ([first] * n if step == 0 else list(range(first, first + step * n, step))):
                return None
        else:
            first, step = int(st), 0
        if min(first, first + step * (n - 1)) < 0 or max(first, first + step * (n - 1)) + e > d:
            return None
        firsts.append(first)
        by.append(step)
    return firsts, by


def strided(buf: np.ndarray, firsts: list[int], by: list[int], extents: tuple[int, ...], n: int) -> np.ndarray:
    """The regions of buf at firsts + i * by (i < n; `steps` checked they lie inside it) as one
    read-only (n, *extents) view."""
    shape = (n, *extents)
    strides = (sum(s * b for s, b in zip(by, buf.strides)), *buf.strides)
    if buf.flags.c_contiguous and strides[0] >= 0:      # a view straight on the buffer's memory
        view = np.ndarray(shape, buf.dtype, buffer=buf, offset=sum(f * b for f, b in zip(firsts, buf.strides)),
                          strides=strides)
        view.flags.writeable = False
        return view
    base = buf[tuple(slice(f, f + e) for f, e in zip(firsts, extents))]
    return as_strided(base, shape, (strides[0], *base.strides), writeable=False)

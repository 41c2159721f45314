"""Checks before work: what P0 verifies on the L0 kernel before any pass or interpreter runs, so
that `explain`, `run`, `compile` and `nanott.run` stop at the same diagnostics, before allocating.

Errors (each a NanottError at the user's line):
  NT116  a tensor dimension that is zero or negative
  NT122  a kernel that writes none of its tensors: nothing to compute or compare
  NT123  an index, copy start or loop bound that is a float value (nanott/float_indices.py)
  NT115  an on-chip buffer read before anything wrote it (a `T.gemm` that accumulates into a
         fragment no `T.clear` started): on the device that reads garbage or deadlocks
  NT205  a run that needs more host memory for its tensors (padded to what the copies reach, as
         A1 pads them) than nanott allows: the bytes, before a single one is allocated
  NT206  a grid of more blocks than nanott simulates
Warnings (NanottWarning, printed by the CLI, the kernel still runs):
  NT117  a copy that lies wholly outside its tensor for some grid block
  NT118  elements of an output tensor that no grid block writes
"""
from __future__ import annotations

import warnings
from math import prod
from typing import Any

import numpy as np

from nanott.diagnostics import NanottError, NanottWarning, kib
from nanott.float_indices import check_float_indices
from nanott.ir import walk
from nanott.languages import l0
from nanott.languages.l0_interp import Env, InterpL0, np_dtype
from nanott.passes._padding import CopyReach, interval, live_grid

MAX_BYTES = 2**31          # host memory for a run's tensors (inputs, outputs, their reference)
MAX_BLOCKS = 4_096        # grid blocks a run may simulate
MAX_STEPS = 20_000          # copies the static coverage walk evaluates before it gives up quietly


def front_checks(k: l0.Kernel) -> None:
    for t in k.params:
        if any(d <= 0 for d in t.shape):
            raise NanottError("NT116", f"tensor {t.name} has shape {list(t.shape)}: every dimension must "
                              "be positive", t.loc, hint="check the sizes (--set values) the shape is made of")
    stored = {x.buffer for x in walk(k.body) if isinstance(x, (l0.Store, l0.AtomicStore))}   # P0b stages them
    written = {t.name for t in k.params} & ({r.buffer for r in dram_writes(k.body)} | stored)
    if not written:
        raise NanottError("NT122", f"kernel {k.name} writes none of its tensors ({', '.join(t.name for t in k.params)})",
                          k.params[0].loc if k.params else None,
                          hint="copy a result into an output tensor: T.copy(C_local, C[by * bm, bx * bn])")
    check_float_indices(k)
    reach = CopyReach(k, {v: (0, n - 1) for v, n in zip(k.block_vars, live_grid(k))})    # as A1 pads
    padded = {t.name: reach.padded(t, tuple(range(len(t.shape)))[-2:]) for t in k.params}
    need = 3 * sum(prod(padded[t.name]) * np_dtype(t.dtype).itemsize for t in k.params)
    if need > MAX_BYTES:
        big = max(k.params, key=lambda t: prod(padded[t.name]))
        raise NanottError("NT205", f"a run needs {need:,} bytes ({kib(need)}) for its tensors, padded to the "
                          f"copies' reach, and their reference; nanott simulates at most {kib(MAX_BYTES)}",
                          big.loc, hint=f"{big.name} alone is {list(padded[big.name])} once padded to what "
                          "the grid's copies reach: choose smaller sizes, or fewer grid blocks")
    if prod(k.grid) > MAX_BLOCKS:
        raise NanottError("NT206", f"the grid {list(k.grid)} has {prod(k.grid):,} blocks; nanott simulates "
                          f"at most {MAX_BLOCKS:,}", k.loc,
                          hint="T.ceildiv(size, block) blocks per dim, or larger blocks")
    Unwritten({t.name for t in k.params}).block(k.body)
    Coverage(k).report()


def dram_writes(stmts: tuple) -> list[l0.Region]:
    return [x.dst for x in walk(stmts) if isinstance(x, (l0.Copy, l0.AtomicAdd))]


class Unwritten:
    """Walks the body in program order (a loop once: its first trip) and finds a read of an on-chip
    buffer that nothing wrote before it."""

    def __init__(self, dram: set[str]):
        self.written = set(dram)

    def block(self, stmts: tuple) -> None:
        for s in stmts:
            self.stmt(s)

    def read(self, name: str, s: Any, what: str) -> None:
        if name not in self.written:
            raise NanottError("NT115", f"{what} reads {name} before anything wrote it", s.loc,
                              hint=f"start it first: T.clear({name}) before the loop, or clear_accum=True "
                                   "on the first T.gemm" if isinstance(s, l0.Gemm) else
                                   f"write {name} (T.copy, T.fill, T.clear) before reading it")

    def stmt(self, s: Any) -> None:
        match s:
            case l0.Copy(src, dst) | l0.AtomicAdd(src, dst):
                self.read(src.buffer, s, "this copy")
                self.written.add(dst.buffer)
            case l0.Gemm(a, b, c, _, _, clear):
                for name in (a, b) if clear else (a, b, c):
                    self.read(name, s, "T.gemm" if name != c else "T.gemm (accumulating, clear_accum=False)")
                self.written.add(c)
            case l0.Fill(buffer, _):
                self.written.add(buffer)
            case l0.Reduce(_, src, dst, _, clear):
                for name in (src,) if clear else (src, dst):
                    self.read(name, s, "this reduction")
                self.written.add(dst)
            case l0.For(_, _, _, _, body) | l0.Parallel(_, _, body):
                self.block(body)
            case l0.Store(buffer, _, value):
                for x in walk(value):
                    if isinstance(x, l0.Load):
                        self.read(x.buffer, s, "this statement")
                self.written.add(buffer)
            case l0.Alloc() | l0.Let():
                pass
            case _:                          # a statement kind this walk does not know: what it
                for x in walk(s):            # writes counts as written, what it reads is not checked
                    if isinstance(x, (l0.Store, l0.Fill)):
                        self.written.add(x.buffer)
                    elif isinstance(x, l0.Region):
                        self.written.add(x.buffer)


class Coverage:
    """Which elements of each output tensor some grid block writes, by running the copies' starts
    over every block and loop trip (when that takes at most MAX_STEPS copies)."""

    def __init__(self, k: l0.Kernel):
        self.k, self.steps, self.interp = k, 0, InterpL0()
        self.shapes = {t.name: t.shape for t in k.params}
        self.masks = {t.name: np.zeros(t.shape, bool) for t in k.params
                      if t.name in {r.buffer for r in dram_writes(k.body)}}
        self.outside: dict[int, tuple[l0.Region, tuple]] = {}

    def report(self) -> None:
        self.warn_outside_copies()
        if prod(self.k.grid) * max(1, len(dram_writes(self.k.body))) > MAX_STEPS:
            return
        try:
            for _, block in self.interp.blocks(self.k):
                self.run(self.k.body, Env({}, dict(zip(self.k.block_vars, block))))
        except _TooMuch:
            return
        for name, mask in self.masks.items():
            if not mask.all():
                t = next(t for t in self.k.params if t.name == name)
                warnings.warn(NanottWarning("NT118", f"{int((~mask).sum()):,} of the {mask.size:,} elements of "
                              f"output {name} are written by no grid block", t.loc,
                              hint="the grid must cover the output: T.ceildiv(size, block) blocks per dim"))

    def warn_outside_copies(self) -> None:
        ranges = {v: (0, n - 1) for v, n in zip(self.k.block_vars, self.k.grid)}
        for x in walk(self.k.body):
            if isinstance(x, (l0.Copy, l0.AtomicAdd)):
                for r in (x.src, x.dst):
                    self.outside_at(x, r, ranges)

    def outside_at(self, x: Any, r: l0.Region, ranges: dict) -> None:
        shape = self.shapes.get(r.buffer)
        for d, start in enumerate(r.starts if shape else ()):
            span = interval(start, ranges)
            if span is not None and (span[1] >= shape[d] or span[0] + r.extents[d] <= 0):
                warnings.warn(NanottWarning("NT117", f"this copy lies wholly outside {r.buffer} for some grid "
                              f"blocks: its start along dim {d} reaches {span[1]}, and {r.buffer} has "
                              f"{shape[d]} there", x.loc, hint="fewer grid blocks along that dim: "
                              "T.ceildiv(size, block)"))
                return

    def run(self, stmts: tuple, env: Env) -> None:
        for s in stmts:
            match s:
                case l0.Let(var, value):
                    if any(isinstance(x, l0.Load) for x in walk(value)):
                        raise _TooMuch          # a value read from a tensor: no coverage to predict
                    env.scalars[var] = self.interp.eval(value, env)
                case l0.For(var, extent, _, _, body):
                    for i in range(int(self.interp.eval(extent, env))):
                        env.scalars[var] = i
                        self.run(body, env)
                case l0.Copy(_, dst) | l0.AtomicAdd(_, dst) if dst.buffer in self.masks:
                    self.steps += 1
                    if self.steps > MAX_STEPS:
                        raise _TooMuch
                    starts = [int(self.interp.eval(e, env)) for e in dst.starts]
                    self.masks[dst.buffer][tuple(slice(max(a, 0), max(a + n, 0))
                                                 for a, n in zip(starts, dst.extents))] = True


class _TooMuch(Exception):
    """The coverage walk would take too long: no warning rather than a slow start."""

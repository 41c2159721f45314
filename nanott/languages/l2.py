"""L2: the grid kernel with its blocks dealt to cores (B1).

  Kernel   ::= Kernel(name, params: Tensor*, grid: int*, block_vars: str*, work: WorkSplit,
                      body: Stmt*, attrs: Attr*)
  WorkSplit ::= WorkSplit(core_grid: int*, blocks: int, cores: CoreWork*)
  CoreWork ::= CoreWork(core: int*, start: int, count: int)
  Stmt     ::= L1's statements but AtomicAdd
  For.kind ::= serial | pipelined | split     split: split-K's slices of one output block
  everything else as in L1.

Delta from L1 (made by B1 partition-work):
  ~ Kernel     gains `work`: which core runs which grid blocks
  + WorkSplit  the core grid, the number of grid blocks, and one entry per core that has work
  + CoreWork   a logical core (x, y) and its contiguous run of linear block ids [start, start+count)
  - AtomicAdd  split-K's grid dim becomes a loop of kind `split` on the output block's core, and the
               atomic add a sum in an L1 block (no core adds into DRAM atomically)

Blocks are numbered row-major over the grid with the first block variable varying fastest:
id = (bz * gy + by) * gx + bx.
"""
from __future__ import annotations

import sys

from nanott.ir import Language, node
from nanott.languages import l1
from nanott.languages.l0 import param_lines
from nanott.languages.l1 import (  # noqa: F401  (productions L2 keeps)
    Print, PrintBuffer, Accessor, Alloc, Attr, BinOp, Cast, CbPlan, Const, Copy, Expr, Fill, For, Gemm, Let, Load,
    Parallel, Reduce, Region, Select, Store, Tensor, TileLayout, UnOp, Var, buffers_defined_before_use)
from nanott.printing import seq, shape, stmt_lines


Stmt = Alloc | Copy | Gemm | Fill | Reduce | For | Parallel | Store | Let | Print | PrintBuffer


@node
class CoreWork:
    core: tuple[int, int]
    start: int
    count: int


@node
class WorkSplit:
    core_grid: tuple[int, int]
    blocks: int
    cores: tuple[CoreWork, ...]
    tile: tuple[int, ...] = ()          # (tw, th, cx): block ids in tiles of tw x th blocks per core, cx tiles a row

    def lines(self) -> list[str]:
        """One line per run of consecutive cores that get the same number of blocks."""
        out = [f"  work: {self.blocks} blocks over {len(self.cores)} of {shape(self.core_grid)} cores"]
        if self.tile:
            tw, th, cx = self.tile
            out.append(f"    in tiles of {tw}x{th} blocks: core (x, y) runs bx in {tw}x..{tw}x+{tw - 1}, "
                       f"by in {th}y..{th}y+{th - 1} ({cx} tiles a row)")
        runs: list[list[CoreWork]] = []
        for c in self.cores:
            if runs and runs[-1][-1].count == c.count:
                runs[-1].append(c)
            else:
                runs.append([c])
        for run in runs:
            first, last = run[0], run[-1]
            who = (f"core ({seq(first.core)})" if len(run) == 1 else
                   f"cores ({seq(first.core)})..({seq(last.core)})")
            each = " each" if len(run) > 1 else ""
            out.append(f"    {who}: {first.count} block{'s' if first.count != 1 else ''}{each}, "
                       f"blocks {first.start}..{last.start + last.count - 1}")
        return out


@node
class Kernel:
    name: str
    params: tuple[Tensor, ...]
    grid: tuple[int, ...]
    block_vars: tuple[str, ...]
    work: WorkSplit
    body: tuple[Stmt, ...]
    attrs: tuple[Attr, ...]

    def lines(self):
        attrs = "".join(f", {a.key}={a.value}" for a in self.attrs)
        return (param_lines(self) + [f"  grid ({seq(self.block_vars)}) in {shape(self.grid)}{attrs}"]
                + self.work.lines() + stmt_lines(self.body))


def every_block_once(k: Kernel) -> str | None:
    """L2's invariant: the cores' runs cover the linear block ids exactly once, in order."""
    total = 1
    for n in k.grid:
        total *= n
    if k.work.blocks != total:
        return f"work.blocks is {k.work.blocks}, the grid has {total}"
    nxt = 0
    for c in k.work.cores:
        if c.start != nxt or c.count < 1:
            return f"core {c.core} starts at block {c.start}, expected {nxt} with count >= 1"
        nxt += c.count
    if nxt != total:
        return f"the cores run {nxt} blocks, the grid has {total}"
    return buffers_defined_before_use(k)


LANG = Language("L2", sys.modules[__name__], Kernel, l1.LANG, {"Stmt": Stmt, "Expr": Expr},
                invariants=every_block_once)

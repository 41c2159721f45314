"""B1 partition-work: L1 -> L2

Changes:   grid blocks are dealt to cores. Blocks are numbered with the first block variable
           fastest (id = (bz * gy + by) * gx + bx); min(blocks, cores) cores get work, each
           blocks // cores of them and the first blocks % cores one more, as contiguous runs of
           ids in core order; core c is the logical core (c % grid_x, c // grid_x), but for a 2-D
           grid of one block per core that fits the core grid: block (bx, by) goes to core
           (bx, by), so the blocks of a grid row sit on a row of cores and those of a grid column
           on a column (what D3b's multicast needs when they read the same data).
           Split-K, the sub-step fold_split_k (_b1_split_k.py), runs first: a grid dim no
           T.atomic_add destination depends on is not dealt out; its slices of an output block
           run on that block's core, as a loop of kind `split` around the body, and each atomic
           add becomes a sum in an L1 block, read from the output first and written once after
           the last slice.
Preserves: every block runs exactly once, on exactly one core; the body is untouched but for the
           split-K fold, which adds in L0's order with L0's roundings.
Why:       Tensix cores have no hardware block scheduler: the host decides which core runs which
           blocks (as split_work_to_cores does), and every core that has work gets its (start, count).
           Nor can they add into DRAM atomically: without a barrier or semaphores between cores
           (not modelled yet), split-K's partial sums meet on one core.
"""
from __future__ import annotations

from math import prod

from nanott.ir import replace
from nanott.languages import l1, l2
from nanott.passes._b1_split_k import fold_split_k
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def partition_work(program: l1.Kernel, target: Target) -> l2.Kernel:
    grid, block_vars, body = fold_split_k(program)
    return PartitionWork(split_work(prod(grid), target, grid)).visit(
        replace(program, grid=grid, block_vars=block_vars, body=body))


def split_work(blocks: int, target: Target, grid: tuple[int, ...] = ()) -> l2.WorkSplit:
    """Contiguous runs of block ids, balanced within one block, the remainder to the first cores."""
    used = min(blocks, target.num_cores)
    grid_x = target.grid[0]
    if len(grid) == 2 and blocks == used and grid[0] <= target.grid[0] and grid[1] <= target.grid[1]:
        grid_x = grid[0]                                  # one block per core, the grid's own shape
    cores, start = [], 0
    for c in range(used):
        count = blocks // used + (1 if c < blocks % used else 0)
        cores.append(l2.CoreWork((c % grid_x, c // grid_x), start, count))
        start += count
    return l2.WorkSplit(target.grid, blocks, tuple(cores))


class PartitionWork(Rewriter, src=l1.LANG, dst=l2.LANG):
    def __init__(self, work: l2.WorkSplit):
        self.work = work

    def visit_AtomicAdd(self, a: l1.AtomicAdd):
        raise AssertionError(f"{a.head()} is folded before the rewrite (_b1_split_k.py)")

    def visit_Kernel(self, k: l1.Kernel) -> l2.Kernel:
        return self.rebuild(k, work=self.work)

"""B1 partition-work: L1 -> L2

Changes:   grid blocks are dealt to cores. Blocks are numbered with the first block variable
           fastest (id = (bz * gy + by) * gx + bx); min(blocks, cores) cores get work, each
           blocks // cores of them and the first blocks % cores one more, as contiguous runs of
           ids in core order; core c is the logical core (c % grid_x, c // grid_x). But when the
           grid is 2-D and some DRAM read's start depends on one block index and not the other
           (a GEMM's A block on by, its B block on bx), the grid is cut into cx x cy tiles of
           tw x th blocks, one tile per core, core (x, y) running bx in x*tw.. and by in y*th..
           in the same order as every other core: the cores of a row of the core grid then read
           the same A blocks at the same steps, those of a column the same B blocks (which D3b
           finds and multicasts). Only where the tiles use as many cores as the runs would.
           Split-K, the sub-step fold_split_k (_b1_split_k.py), runs first: a grid dim no
           T.atomic_add destination depends on is not dealt out; its slices of an output block
           run on that block's core, as a loop of kind `split` around the body, and each atomic
           add becomes a sum in an L1 block, read from the output first and written once after
           the last slice. Before it, the sub-step lower_adds_in_loops (_b1_adds_in_loops.py): an
           atomic add inside a loop whose adds analysis shows never meet (linear attention's output
           chunks) becomes a read, a sum and a write of its region, where it is.
Preserves: every block runs exactly once, on exactly one core; the body is untouched but for the
           split-K fold, which adds in L0's order with L0's roundings.
Why:       Tensix cores have no hardware block scheduler: the host decides which core runs which
           blocks (as split_work_to_cores does), and every core that has work gets its (start, count).
           Nor can they add into DRAM atomically: without a barrier or semaphores between cores
           (not modelled yet), split-K's partial sums meet on one core.
"""
from __future__ import annotations

from math import prod

from nanott.ir import replace, walk
from nanott.languages import l1, l2
from nanott.passes._b1_adds_in_loops import lower_adds_in_loops
from nanott.passes._b1_split_k import fold_split_k
from nanott.passes._rewriter import Rewriter
from nanott.target import Target


def partition_work(program: l1.Kernel, target: Target) -> l2.Kernel:
    program = lower_adds_in_loops(program)
    grid, block_vars, body = fold_split_k(program)
    k = replace(program, grid=grid, block_vars=block_vars, body=body)
    work = (tiled(grid, target) if shares_along_one_index(k) else None) or split_work(prod(grid), target)
    return PartitionWork(work).visit(k)


def shares_along_one_index(k: l1.Kernel) -> bool:
    """A 2-D grid with a DRAM read whose start reads one block index but not the other."""
    dram = {p.name for p in k.params}
    if len(k.block_vars) != 2:
        return False
    for c in walk(k.body):
        if isinstance(c, l1.Copy) and c.src.buffer in dram:
            used = {x.name for x in walk(c.src.starts) if isinstance(x, l1.Var)} & set(k.block_vars)
            if len(used) == 1:
                return True
    return False


def tiled(grid: tuple[int, ...], target: Target) -> l2.WorkSplit | None:
    """cx x cy tiles of whole blocks on a cx x cy rectangle of cores, the most cores (then the
    squarest tiles), if that is as many cores as contiguous runs would use."""
    gx, gy = grid
    best = max(((cx * cy, -abs(gx // cx - gy // cy), cx, cy) for cx in range(1, target.grid[0] + 1)
                for cy in range(1, target.grid[1] + 1) if gx % cx == 0 and gy % cy == 0), default=None)
    if best is None or best[0] != min(gx * gy, target.num_cores):
        return None
    _, _, cx, cy = best
    tw, th = gx // cx, gy // cy
    cores = tuple(l2.CoreWork((c % cx, c // cx), c * tw * th, tw * th) for c in range(cx * cy))
    return l2.WorkSplit(target.grid, gx * gy, cores, (tw, th, cx) if tw * th > 1 else ())


def split_work(blocks: int, target: Target) -> l2.WorkSplit:
    """Contiguous runs of block ids, balanced within one block, the remainder to the first cores."""
    used = min(blocks, target.num_cores)
    grid_x = target.grid[0]
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

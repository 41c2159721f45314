"""B1' partition-work-one-core: L1 -> L2, the solution of exercise 3.3 (docs/03_B_work_on_cores.md).

Changes:   every grid block goes to core (0, 0), as one run of ids 0..blocks-1.
Preserves: every block runs exactly once, on exactly one core; the body is untouched.
Why:       to see that B1's split is a choice, not a requirement: any split that runs every block
           once computes the same numbers; only the time (and the argument table) changes.

    python docs/solutions/one_core.py    prints the work split, then runs L2 and L9 against NumPy
"""
from __future__ import annotations

from math import prod

import lowering
from nanott.languages import l1, l2
from nanott.passes.b1_partition_work import PartitionWork
from nanott.printing import render
from nanott.target import Target


def partition_work_one_core(program: l1.Kernel, target: Target) -> l2.Kernel:
    blocks = prod(program.grid)
    work = l2.WorkSplit(target.grid, blocks, (l2.CoreWork((0, 0), 0, blocks),))
    return PartitionWork(work).visit(program)


if __name__ == "__main__":
    one_core = {"B1": partition_work_one_core}
    l2_program = lowering.lower_with("gemm", "B1", replace=one_core)
    lines = render(l2_program).splitlines()
    work = next(i for i, line in enumerate(lines) if "work:" in line)
    print("\n".join(lines[work:work + 2]))                    # the split and its one range of cores
    print("L2:", lowering.simulate("gemm", l2_program, "L2"))
    l9_program = lowering.lower_with("gemm", "F1", replace=one_core)
    print("\n".join(line for line in render(l9_program).splitlines() if "core (0, 0) " in line))
    print("L9:", lowering.simulate("gemm", l9_program, "L9"))

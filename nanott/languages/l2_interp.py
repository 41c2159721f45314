"""InterpL2: runs an L2 kernel core by core, as the work split deals the blocks.

Each core of `work.cores`, in order, runs its contiguous run of linear block ids; block id i is
the grid block InterpL0 numbers i (bx fastest). Blocks are independent, so the results are
bit-identical to InterpL0's whatever the order; the interpreter still checks that no block runs
twice and none is left out.
"""
from __future__ import annotations

import numpy as np

from nanott.languages import l2
from nanott.languages.l0_interp import Env, xy
from nanott.languages.l1_interp import InterpL1


class InterpL2(InterpL1):
    """L2 runs each core's blocks in turn; statements run as in L1."""

    def run(self, program: l2.Kernel, arrays: dict[str, np.ndarray]) -> None:
        blocks = dict(self.blocks(program))
        done: set[int] = set()
        for core in program.work.cores:
            for i in range(core.start, core.start + core.count):
                assert i not in done, f"block {i} runs twice (again on core {core.core})"
                done.add(i)
                env = Env(dict(arrays), dict(zip(program.block_vars, blocks[i])),
                          f"{program.name} core {xy(core.core)}")
                self.exec_block(program.body, env)
        assert done == set(blocks), f"blocks {sorted(set(blocks) - done)[:8]} run on no core"


l2.LANG.interpreter = InterpL2


def demo_kernel() -> l2.Kernel:
    """L1's five-line demo with its four blocks dealt to three cores: 2, 1 and 1 blocks."""
    from nanott.languages.l1_interp import demo_kernel as l1_demo
    k = l1_demo()
    work = l2.WorkSplit((8, 8), 4, (l2.CoreWork((0, 0), 0, 2), l2.CoreWork((1, 0), 2, 1),
                                    l2.CoreWork((2, 0), 3, 1)))
    return l2.Kernel(k.name, k.params, k.grid, k.block_vars, work, k.body, k.attrs)


if __name__ == "__main__":
    from nanott.languages.l1_interp import demo_run
    l2.LANG.check(demo_kernel())
    demo_run(InterpL2(), demo_kernel())

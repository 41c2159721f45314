"""A2' single-buffer: L1 -> L1, the solution of exercise 5.2 (docs/05_D_kernels_and_protocol.md).

Changes:   every CB plan A2 made gets a depth of one block.
Preserves: every value computed (L1's interpreter does not look at depths), page sizes, formats.
Why:       to see what A2's depths are for: run the kernels with one block per CB and watch the L8
           simulator explain which CB needed two.

    python docs/solutions/single_buffer.py    runs L1 against NumPy, then the L8 simulator
"""
from __future__ import annotations

import lowering
from nanott.ir import replace
from nanott.languages import l1
from nanott.passes._rewriter import Rewriter
from nanott.sim.errors import SimulationError
from nanott.target import Target


class SingleBuffer(Rewriter, src=l1.LANG, dst=l1.LANG):
    def visit_Alloc(self, a: l1.Alloc) -> l1.Alloc:
        return replace(a, cb=replace(a.cb, depth=1, why="single-buffered"))


def single_buffer(program: l1.Kernel, target: Target) -> l1.Kernel:
    return SingleBuffer().visit(program)


if __name__ == "__main__":
    print("L1:", lowering.simulate("gemm", lowering.lower_with("gemm", "A2", after={"A2": single_buffer}), "L1"))
    program = lowering.lower_with("gemm", "D3", after={"A2": single_buffer})
    try:
        print("L8:", lowering.simulate("gemm", program, "L8"))
    except SimulationError as e:
        print(f"L8: {type(e).__name__}: {e}")

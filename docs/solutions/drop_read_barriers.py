"""D3' drop-read-barriers: L8 -> L8, the solution of exercise 5.1 (docs/05_D_kernels_and_protocol.md).

Changes:   every noc_async_read_barrier is deleted.
Preserves: everything else; the program is still in L8 (its checker accepts it).
Why:       a grammar cannot see that a push must follow a barrier: the L8 simulator can, because
           its NoC lands a read in L1 only at the reader's barrier.

    python docs/solutions/drop_read_barriers.py    runs the L8 simulator on GEMM without barriers
"""
from __future__ import annotations

import lowering
from nanott.languages import l8
from nanott.passes._rewriter import Rewriter
from nanott.sim.errors import SimulationError
from nanott.target import Target


class DropReadBarriers(Rewriter, src=l8.LANG, dst=l8.LANG):
    def visit_NocReadBarrier(self, b: l8.NocReadBarrier) -> list:
        return []                           # a visit may return a list: here, no statement at all


def drop_read_barriers(program: l8.Program, target: Target) -> l8.Program:
    return DropReadBarriers().visit(program)


if __name__ == "__main__":
    program = lowering.lower_with("gemm", "D3", after={"D3": drop_read_barriers})
    try:
        print("L8:", lowering.simulate("gemm", program, "L8"))
    except SimulationError as e:
        print(f"L8: {type(e).__name__}: {e}")

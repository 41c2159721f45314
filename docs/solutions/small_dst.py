"""A machine with a smaller DST, the solution of exercise 5.3 (docs/05_D_kernels_and_protocol.md).

A target is data (nanott/target.py): this one is a Wormhole n150 whose DST holds 2 tiles with fp32
accumulation instead of 4. D5 reads the capacity from the target and batches each tile group into
as many DST sections as it needs; the numbers do not change.

    python docs/solutions/small_dst.py    prints the K loop of the compute kernel at L9
"""
from __future__ import annotations

from dataclasses import replace

import lowering
from nanott.printing import render
from nanott.target import WORMHOLE_N150

SMALL_DST = replace(WORMHOLE_N150, name="wormhole_n150_small_dst", dst_tiles_32bit=2)


if __name__ == "__main__":
    program = lowering.lower_with("gemm", "D5", target=SMALL_DST)
    lines = render(program).splitlines()
    compute = lines.index("  compute:")
    start = next(i for i in range(compute, len(lines)) if lines[i].strip().startswith("for k in"))
    end = next(i for i in range(start, len(lines)) if "cb_push_back cb2, 4" in lines[i])
    print("\n".join(lines[start:end + 1]))                  # the compute kernel's K loop
    print("L9:", lowering.simulate("gemm", program, "L9"))

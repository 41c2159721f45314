"""The order in which a tile product sums, pinned before NumPy loads.

Every interpreter multiplies tiles with NumPy's `@`, which calls OpenBLAS. nanott's semantics for a
32x32x32 tile product is float32 products summed in k order, the order of the CPU runtime's C++
(`matmul_into` in backends/metalium/runtime/src/tile_math.cpp). OpenBLAS picks its kernel by CPU at
load time: its FMA kernels (Haswell, used on AVX2 machines such as AMD EPYC) sum in an order that
depends on the call's shape, so a tile multiplied alone and the same tile multiplied inside a
128x32 block differ in the last bit, and two levels that batch the same products differently stop
being bit-identical. Its AVX kernel without FMA (Sandybridge) sums every dot product in k order
whatever the shape; measured on a 2-core AMD EPYC, it is also about 3x faster on stacks of 32x32
tiles (16 ms against 46 ms for 4096 tiles) and 1.5x slower on one 1024^3 product.

So importing nanott asks OpenBLAS for that kernel, on x86 only, unless the user chose a kernel
(OPENBLAS_CORETYPE set) or NumPy is already loaded (then OpenBLAS has chosen; nanott still runs,
and only its "bit-identical" claims between levels may turn into last-ulp differences).
"""
from __future__ import annotations

import os
import platform
import sys

KERNEL = "Sandybridge"


def pin() -> bool:
    """Ask OpenBLAS for the k-order kernel; whether the request can still take effect."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    if "numpy" in sys.modules:
        return os.environ.get("OPENBLAS_CORETYPE") == KERNEL
    os.environ.setdefault("OPENBLAS_CORETYPE", KERNEL)
    return True

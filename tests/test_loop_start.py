"""Loops that start past 0, as TileLang's linear-attention backward writes them:
`for i in T.Pipelined(1, NT + 1)`, `range(2, n)`. L0's loops run from 0, so P0 gives such a loop
n - s trips and makes its variable s + the L0 loop's (builder.loop_range). Numerics against NumPy at
every level: the kernel copies and scales blocks, so every level is exact (float32 tolerance, relative
to each element and to the output's own scale). A step other than 1 stays NT304 (test_frontend_diagnostics).
"""
from __future__ import annotations

import numpy as np
from test_generality import check_levels

from nanott.languages import l0
from nanott.loader import load_kernel

SOURCE = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def shifted_sum(A, bm=32):
    M, N = T.const("M, N")
    A: T.Tensor((M, N), T.float32)
    B = T.empty((bm, N), T.float32)
    with T.Kernel(1, threads=128) as bx:
        a = T.alloc_shared((bm, N), T.float32)
        acc = T.alloc_fragment((bm, N), T.float32)
        T.clear(acc)
        for k in T.Pipelined(1, M // bm, num_stages=2):
            T.copy(A[k * bm, 0], a)
            for i, j in T.Parallel(bm, N):
                acc[i, j] += a[i, j] * 2.0
        for k in range(2, 3):
            T.copy(A[k * bm, 0], a)
            for i, j in T.Parallel(bm, N):
                acc[i, j] += a[i, j]
        T.copy(acc, B[0, 0])
    return B
'''


def test_loops_from_one_and_two_match_numpy_at_every_level(tmp_path):
    path = tmp_path / "shifted.py"
    path.write_text(SOURCE)
    loaded = load_kernel(path, None, {"M": "128", "N": "64"})
    loops = [x for x in l0.walk(loaded.prim_func.parse().body) if isinstance(x, l0.For)]
    assert [x.extent.value for x in loops] == [3, 1]

    def reference(ins):
        a = ins["A"].astype(np.float64).reshape(4, 32, 64)
        return {"B": (a[1] + a[2] + a[3]) * 2.0 + a[2]}
    check_levels(loaded, reference)

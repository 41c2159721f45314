"""Loops that start past 0, as TileLang's linear-attention backward writes them:
`for i in T.Pipelined(1, NT + 1)`, `range(2, n)`, and as its causal attention backward does, from
the diagonal block (`T.Pipelined(T.floordiv(by * block_M, block_N), n)`, a start known only when the
kernel runs). L0's loops run from 0, so P0 gives such a loop n - s trips and makes its variable
s + the L0 loop's (builder.loop_range). Numerics against NumPy at
every level: the kernel copies and scales blocks, so every level is exact (float32 tolerance, relative
to each element and to the output's own scale). A step other than 1 stays NT304 (test_frontend_diagnostics).
"""
from __future__ import annotations

import numpy as np
import pytest
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


DIAGONAL = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def from_the_diagonal(M, N, block_M, block_N, window=None):
    @T.prim_func
    def main(A: T.Tensor((M, N), T.float32), B: T.Tensor((M // block_M * block_N, N), T.float32)):
        with T.Kernel(M // block_M, threads=128) as by:
            a = T.alloc_shared((block_N, N), T.float32)
            acc = T.alloc_fragment((block_N, N), T.float32)
            T.clear(acc)
            loop_st = T.floordiv(by * block_M, block_N)
            loop_ed = (T.min(T.ceildiv((by + 1) * block_M + window, block_N), T.ceildiv(M, block_N))
                       if window is not None else T.ceildiv(M, block_N))
            for k in T.Pipelined(loop_st, loop_ed, num_stages=2):
                T.copy(A[k * block_N, 0], a)
                for i, j in T.Parallel(block_N, N):
                    acc[i, j] += a[i, j] * (k + 1)
            T.copy(acc, B[by * block_N, 0])
    return main
'''


@pytest.mark.parametrize("window", [None, 32])
def test_a_loop_from_a_block_dependent_start_matches_numpy_at_every_level(tmp_path, window):
    """Block by sums (k + 1) * A's 32-row blocks k from 2 * by (its diagonal: block_M = 64 rows are
    two 32-row blocks) to the end, or, with a window, to min(2 * by + 3, 8): the start and the end
    are values of by, the extent their difference (a start of 0 or a constant start would give
    other sums: every block but the last starts at a different k)."""
    path = tmp_path / "diagonal.py"
    path.write_text(DIAGONAL)
    sets = {"M": "256", "N": "64", "block_M": "64", "block_N": "32"} | ({"window": str(window)} if window else {})
    loaded = load_kernel(path, "from_the_diagonal", sets)
    loop = next(x for x in l0.walk(loaded.prim_func.parse().body) if isinstance(x, l0.For))
    assert "loop_st" in str(loop.extent)

    def reference(ins):
        a = ins["A"].astype(np.float64).reshape(8, 32, 64)
        ends = [min(2 * by + 3, 8) if window else 8 for by in range(4)]
        return {"B": np.concatenate([sum(a[k] * (k + 1) for k in range(2 * by, ends[by])) for by in range(4)])}
    check_levels(loaded, reference)

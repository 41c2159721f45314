"""An `if` on a run-time value (a loop variable, a block index, a T.Parallel index), as TileLang's
FP8 GEMM with two accumulators and masked kernels write it: P0 runs both branches and makes their
stores into on-chip buffers conditional (nanott/language/predicate.py). Numerics against NumPy at
every level; tolerances the output dtype's (api.within: relative to each element and to the
output's own scale): the GEMM's products and sums are float32 as NumPy's float64 is to within its
K-sum rounding; the masked maximum is exact. What stays refused is NT302 at the line, naming it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from conftest import load_text
from nanott import api
from nanott.diagnostics import NanottError

FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def two_acc(M, N, K, bm=32, bn=32, bk=32, every=2):
    @T.prim_func
    def main(A: T.Tensor((M, K), T.bfloat16), B: T.Tensor((K, N), T.bfloat16), C: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            a = T.alloc_shared((bm, bk), T.bfloat16)
            b = T.alloc_shared((bk, bn), T.bfloat16)
            part = T.alloc_fragment((bm, bn), T.float32)
            total = T.alloc_fragment((bm, bn), T.float32)
            T.clear(part)
            T.clear(total)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                T.copy(A[by * bm, k * bk], a)
                T.copy(B[k * bk, bx * bn], b)
                T.gemm(a, b, part)
                if (k + 1) % every == 0:
                    for i, j in T.Parallel(bm, bn):
                        total[i, j] += part[i, j]
                    T.clear(part)
            if T.ceildiv(K, bk) % every != 0:
                for i, j in T.Parallel(bm, bn):
                    total[i, j] += part[i, j]
            T.copy(total, C[by * bm, bx * bn])
    return main
'''
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def masked_max(A, bm=32, bn=32):
    M, N = T.const("M, N")
    A: T.Tensor((M, 2 * N), T.float32)
    B = T.empty((M, N), T.float32)
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        a = T.alloc_fragment((bm, bn), T.float32)
        top = T.alloc_fragment((bm, bn), T.float32)
        T.fill(top, -T.infinity(T.float32))
        for k in T.serial(2):
            T.copy(A[bx * bm, k * bn], a)
            for i, j in T.Parallel(bm, bn):
                if bx * bm + i >= k * bn + j:
                    top[i, j] = T.max(top[i, j], a[i, j])
                else:
                    top[i, j] = top[i, j] - 1.0
        for i, j in T.Parallel(bm, bn):
            top[i, j] = T.max(top[i, j], -100.0)
        T.copy(top, B[bx * bm, 0])
    return B
'''


def load(tmp_path: Path, text: str, sets: dict):
    return load_text(tmp_path, text, sets, name="branch.py")


@pytest.mark.parametrize("K, every", [(128, 2), (96, 2), (128, 3)])
def test_a_folded_accumulator_under_an_if_on_the_loop_variable_matches_numpy_at_every_level(tmp_path, K, every):
    loaded = load(tmp_path, FACTORY, {"M": 64, "N": 64, "K": K, "every": every})
    check_levels(loaded, lambda ins: {"C": ins["A"].astype(np.float64) @ ins["B"].astype(np.float64)})


def test_an_if_else_on_parallel_and_block_indices_matches_numpy_at_every_level(tmp_path):
    def reference(ins):
        a = ins["A"].astype(np.float64)
        m, n = a.shape[0], a.shape[1] // 2
        top = np.full((m, n), -np.inf)
        rows, cols = np.arange(m)[:, None], np.arange(n)[None, :]
        for k in range(2):
            top = np.where(rows >= k * n + cols, np.maximum(top, a[:, k * n:(k + 1) * n]), top - 1.0)
        return {"B": np.maximum(top, -100.0)}
    check_levels(load(tmp_path, EAGER, {"M": 64, "N": 32}), reference)


@pytest.mark.parametrize("old, new, words", [
    ("                    T.clear(part)\n", "                    for i, j in T.Parallel(bm, bn):\n                        if part[i, j] > 0:\n"
     "                            C[by * bm + i, bx * bn + j] = part[i, j]\n", "a store into the DRAM tensor C under an `if`"),
    ("                if (k + 1) % every == 0:\n", "                if part[0, 0] > 0:\n                    T.copy(a, b)\n",
     "T.copy under an `if` on a value known only at run time ((part[0, 0] > 0))"),
])
def test_what_an_if_on_a_run_time_value_cannot_make_conditional_is_nt302_at_its_line(tmp_path, old, new, words):
    """What stays refused: a DRAM element stored under an `if` on L1 data in a T.Parallel (on indices,
    whole rows of a block are a row scatter: tests/test_row_scatter.py), tile ops under an `if` on
    an on-chip buffer's element (tile ops under an `if` on indices or on values read from DRAM:
    tests/test_if_around_tile_ops.py; a name assigned in a branch: tests/test_branch_scalars.py)."""
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, FACTORY.replace(old, new), {"M": 64, "N": 64, "K": 128}).prim_func, stop_after="P0")
    assert e.value.code == "NT302" and words in e.value.message
    assert e.value.loc.line == FACTORY.splitlines().index(old.rstrip("\n")) + 1 + new.count("\n") - 1

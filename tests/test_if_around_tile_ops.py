"""An `if` on a run-time value around tile operations (T.copy, T.gemm): P0 makes the branch a serial
loop that runs once where the condition holds and never elsewhere (predicate.once_if), so every
role that has a part in the branch evaluates the condition from its own indices and runs or skips
its part: reader, compute and writer skip together and the CB protocol stays balanced. Numerics
against NumPy at every level, in the factory and the eager style; tolerances the output dtype's
(api.within: relative to each element and to the output's own scale), because the GEMMs sum
bfloat16 products in float32 as NumPy's float64 does to within float32's rounding of the K sum.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from test_generality import check_levels

from conftest import load_text
from nanott import api
from nanott.ir import walk
from nanott.languages import l0

# Factory style: block row `by` of C sums the products of the K blocks up to `by` only (a block
# lower-triangular product): the copies and the GEMM of the other steps are skipped.
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def lower_blocks(M, N, K, bm=32, bn=32, bk=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), T.bfloat16), B: T.Tensor((K, N), T.bfloat16), C: T.Tensor((M, N), T.float32)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            a = T.alloc_shared((bm, bk), T.bfloat16)
            b = T.alloc_shared((bk, bn), T.bfloat16)
            acc = T.alloc_fragment((bm, bn), T.float32)
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                if k <= by:
                    T.copy(A[by * bm, k * bk], a)
                    T.copy(B[k * bk, bx * bn], b)
                    T.gemm(a, b, acc)
            T.copy(acc, C[by * bm, bx * bn])
    return main
'''

# Eager style: an if/else on the block index, each branch copying its own operand and multiplying
# by it: even blocks of rows use B, odd ones D.
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def two_ways(A, B, D, bm=32, bn=32):
    M, K = T.const("M, K")
    A: T.Tensor((M, K), T.bfloat16)
    B: T.Tensor((K, bn), T.bfloat16)
    D: T.Tensor((K, bn), T.bfloat16)
    C = T.empty((M, bn), T.float32)
    with T.Kernel(T.ceildiv(M, bm), threads=128) as bx:
        a = T.alloc_shared((bm, K), T.bfloat16)
        w = T.alloc_shared((K, bn), T.bfloat16)
        acc = T.alloc_fragment((bm, bn), T.float32)
        T.copy(A[bx * bm, 0], a)
        if bx % 2 == 0:
            T.copy(B[0, 0], w)
            T.gemm(a, w, acc, clear_accum=True)
        else:
            T.copy(D[0, 0], w)
            T.gemm(a, w, acc, clear_accum=True)
        T.copy(acc, C[bx * bm, 0])
    return C
'''


def load(tmp_path: Path, text: str, sets: dict):
    return load_text(tmp_path, text, sets)


def lower_blocks_reference(ins):
    a, b = ins["A"].astype(np.float64), ins["B"].astype(np.float64)
    c = np.zeros((a.shape[0], b.shape[1]))
    for r in range(a.shape[0] // 32):
        rows, ks = slice(r * 32, (r + 1) * 32), slice(0, min(r + 1, a.shape[1] // 32) * 32)
        c[rows] = a[rows, ks] @ b[ks]
    return {"C": c}


def test_an_if_on_indices_around_copies_and_a_gemm_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, FACTORY, {"M": 96, "N": 64, "K": 96})
    kernel = api.lower(loaded.prim_func, stop_after="P0")
    once = [s for s in walk(kernel.body) if isinstance(s, l0.For) and isinstance(s.extent, l0.Select)]
    assert len(once) == 1 and str(once[0].extent) == "if_then_else((k <= by), 1, 0)"
    check_levels(loaded, lower_blocks_reference)


def test_an_if_else_on_the_block_index_around_tile_ops_matches_numpy_at_every_level(tmp_path):
    def reference(ins):
        a = ins["A"].astype(np.float64)
        w = [ins["B"].astype(np.float64), ins["D"].astype(np.float64)]
        return {"C": np.concatenate([a[r * 32:(r + 1) * 32] @ w[r % 2] for r in range(a.shape[0] // 32)])}
    check_levels(load(tmp_path, EAGER, {"M": 128, "K": 64}), reference)


def test_every_role_skips_its_part_of_the_branch_in_the_same_steps(tmp_path):
    program = api.lower(load(tmp_path, FACTORY, {"M": 96, "N": 64, "K": 96}).prim_func, stop_after="D3")
    for role in ("reader", "compute"):
        text = str(program.kernel(role))
        assert "for once in 0..if_then_else((k <= by), 1, 0)" in text, role

"""Random inputs for integer tensors chosen by how the kernel uses them (nanott/index_roles.py).

TileLang's varlen and paged attention read offsets (`cu_seqlens[b]`, `cu_seqlens[b + 1]`), lengths
(`T.ceildiv(cache_seqlens[b], block_N)` as a loop bound) and page tables (`block_table[b, k] *
page`) from DRAM. Random integers there left sequences with no key, so the kernel itself computed
0/0 and its reference held NaN. The kernels below are ours, written as those files write them, and
end with the same division by a count that is 0 when a sequence has no key: with nanott's own
random inputs (not made by the test) they match NumPy at every level. A reference that holds NaN
is said so, with where, instead of "differs by inf".
"""
from __future__ import annotations

import numpy as np
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api

# eager style, as the varlen attention files: each query row of a sequence, plus the mean of its
# sequence's key rows (masked key blocks summed by a gemm, divided by the count of keys: 0/0 when none)
VARLEN = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def varlen_mean(Q, Kv, cu_q, cu_k, block_M=32, block_N=32):
    UQ, UK, D, B, max_q = T.const("UQ, UK, D, B, max_q")
    Q: T.Tensor((UQ, D), "float32")
    Kv: T.Tensor((UK, D), "float32")
    cu_q: T.Tensor((B + 1,), T.int32)
    cu_k: T.Tensor((B + 1,), T.int32)
    O = T.empty((UQ, D), "float32")
    with T.Kernel(T.ceildiv(max_q, block_M), B, threads=128) as (bx, bz):
        q_s = T.alloc_shared((block_M, D), "float32")
        k_s = T.alloc_shared((block_N, D), "float32")
        w = T.alloc_fragment((block_M, block_N), "float32")
        acc = T.alloc_fragment((block_M, D), "float32")
        part = T.alloc_fragment((block_M,), "float32")
        count = T.alloc_fragment((block_M,), "float32")
        q_start = cu_q[bz]
        q_len = cu_q[bz + 1] - q_start
        k_start = cu_k[bz]
        k_len = cu_k[bz + 1] - k_start
        T.copy(Q[q_start + bx * block_M:q_start + (bx + 1) * block_M, :], q_s)
        T.fill(acc, 0)
        T.fill(count, 0)
        for k in T.Pipelined(T.ceildiv(k_len, block_N), num_stages=1):
            T.copy(Kv[k_start + k * block_N:k_start + (k + 1) * block_N, :], k_s)
            for i, j in T.Parallel(block_M, block_N):
                w[i, j] = T.if_then_else(k * block_N + j < k_len, 1, 0)
            T.gemm(w, k_s, acc)
            T.reduce_sum(w, part, dim=1)
            for i in T.Parallel(block_M):
                count[i] = count[i] + part[i]
        for i, d in T.Parallel(block_M, D):
            acc[i, d] = q_s[i, d] + acc[i, d] / count[i]
        for i, d in T.Parallel(block_M, D):
            if bx * block_M + i < q_len:
                O[q_start + bx * block_M + i, d] = acc[i, d]
    return O
'''
VARLEN_SETS = {"UQ": 128, "UK": 128, "D": 32, "B": 3, "max_q": 64}

# factory style, as the paged decode files: each batch's first lens[b] cached rows, found page by
# page through a table and visited from the last block, averaged into its 32 output rows
PAGED = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def paged_mean(batch, max_len, page, D=32, block_N=32):
    @T.prim_func
    def main(Cache: T.Tensor((batch * max_len, D), "float32"),
             table: T.Tensor((batch, max_len // page), T.int32),
             lens: T.Tensor((batch,), T.int32),
             Out: T.Tensor((batch * 32, D), "float32")):
        with T.Kernel(batch, threads=128) as bx:
            c_s = T.alloc_shared((block_N, D), "float32")
            s = T.alloc_fragment((32, block_N), "float32")
            w = T.alloc_fragment((32, block_N), "float32")
            acc = T.alloc_fragment((32, D), "float32")
            part = T.alloc_fragment((32,), "float32")
            count = T.alloc_fragment((32,), "float32")
            T.fill(acc, 0)
            T.fill(count, 0)
            n = T.ceildiv(lens[bx], block_N)
            for kr in T.Pipelined(n, num_stages=2):
                k = n - 1 - kr
                row = table[bx, (k * block_N) // page] * page + (k * block_N) % page
                T.copy(Cache[row:row + block_N, :], c_s)
                T.fill(s, 0)
                if kr == 0:                      # only the last block has rows past the length
                    for i, j in T.Parallel(32, block_N):
                        s[i, j] = T.if_then_else(k * block_N + j >= lens[bx], -T.infinity("float32"), s[i, j])
                for i, j in T.Parallel(32, block_N):
                    w[i, j] = T.exp(s[i, j])
                T.gemm(w, c_s, acc)
                T.reduce_sum(w, part, dim=1)
                for i in T.Parallel(32):
                    count[i] = count[i] + part[i]
            for i, d in T.Parallel(32, D):
                acc[i, d] = acc[i, d] / count[i]
            T.copy(acc, Out[bx * 32:(bx + 1) * 32, :])

    return main
'''
PAGED_SETS = {"batch": 2, "max_len": 128, "page": 64}


def varlen_reference(inputs):
    """Each sequence's query rows plus the mean of its key rows; rows past the last sequence keep O's."""
    q, kv, cq, ck = (inputs[n] for n in ("Q", "Kv", "cu_q", "cu_k"))
    out = inputs["O"].astype(np.float64).copy()
    for b in range(len(cq) - 1):
        out[cq[b]:cq[b + 1]] = q[cq[b]:cq[b + 1]] + kv[ck[b]:ck[b + 1]].astype(np.float64).mean(axis=0)
    return {"O": out.astype(np.float32)}


def paged_reference(inputs):
    """Row r of batch b's sequence is row table[b, r // page] * page + r % page of the cache."""
    cache, table, lens = inputs["Cache"].astype(np.float64), inputs["table"], inputs["lens"]
    page = PAGED_SETS["page"]
    rows = [[table[b, r // page] * page + r % page for r in range(lens[b])] for b in range(len(lens))]
    return {"Out": np.concatenate([np.tile(cache[r].mean(axis=0), (32, 1)) for r in rows]).astype(np.float32)}


def test_varlen_offsets_match_numpy_at_every_level_on_nanotts_own_inputs(tmp_path):
    check_levels(load_text(tmp_path, VARLEN, VARLEN_SETS), varlen_reference)


def test_paged_lengths_and_tables_match_numpy_at_every_level_on_nanotts_own_inputs(tmp_path):
    check_levels(load_text(tmp_path, PAGED, PAGED_SETS), paged_reference)


def test_offsets_are_sorted_from_zero_with_no_empty_range_and_end_inside(tmp_path):
    """cu_q starts Q's copies of 64 rows in 2 blocks: at most UQ - 64; cu_k within Kv's 128 rows."""
    kernel = api.lower(load_text(tmp_path, VARLEN, VARLEN_SETS).prim_func, stop_after="P0")
    for seed in range(20):
        inputs = api.random_inputs(kernel, seed)
        for name, end in (("cu_q", 128 - 64), ("cu_k", 128)):
            cu = inputs[name]
            assert cu[0] == 0 and np.all(np.diff(cu) > 0) and cu[-1] <= end, (name, cu)


def test_lengths_fit_the_table_and_pages_their_tensor(tmp_path):
    """lens bounds the loop over blocks: at most 4 blocks of 32 (the table's 2 pages of 64), at
    least one; table's pages start copies inside the cache's 256 rows (the loop runs backwards:
    k = n - 1 - kr is 0..n-1, not -(n-1)..n-1)."""
    kernel = api.lower(load_text(tmp_path, PAGED, PAGED_SETS).prim_func, stop_after="P0")
    seen = set()
    for seed in range(20):
        inputs = api.random_inputs(kernel, seed)
        assert np.all((inputs["lens"] >= 1) & (inputs["lens"] <= 128)), inputs["lens"]
        assert np.all((inputs["table"] >= 0) & (inputs["table"] * 64 + 63 < 256)), inputs["table"]
        seen |= set(inputs["lens"].tolist())
    assert max(seen) > 64                    # several blocks are visited, not only the first


NAN = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def zero_over_zero(X, block_M=32):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), "float32")
    Y = T.empty((M, N), "float32")
    with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
        x = T.alloc_fragment((block_M, N), "float32")
        T.copy(X[bx * block_M, 0], x)
        for i, j in T.Parallel(block_M, N):
            x[i, j] = (x[i, j] - x[i, j]) / (x[i, j] - x[i, j])
        T.copy(x, Y[bx * block_M, 0])
    return Y
'''


def test_a_reference_that_holds_nan_is_named_with_where(tmp_path):
    path = tmp_path / "nan.py"
    path.write_text(NAN)
    out = nanott_cli("explain", str(path), "--set", "M=64", "--set", "N=32", "--stop-after", "P0", code=1).output
    assert "the reference itself holds NaN at Y[0, 0] (2048 of 2048 elements" in out
    assert "differs from the reference by inf" not in out

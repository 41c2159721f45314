"""Issue 9, item 6: elements of DRAM tensors read and written inside T.Parallel, as TileLang's files
write them (attention sink's `sinks[i] = Sinks[by]`, layer norm's `Mean[bx * blk_m + i] = m[i]`,
a weight read at `W[j]`, an output written at `Y[by, bx * bm + i, j]`).

P0b stages them: a region read becomes a T.copy into a shared buffer before the loop, a region
written a fragment copied out after it, and one element (here of a 1-D tensor; of a 4-D one in
test_scalar_cells) the copy of its tile row and
a pick (mask, multiply, row sum) in compute. Numbers at L0, L5 and L9 against NumPy, in the factory
and the eager style; the IR after P0b; the forms still missing refused with NT315 and their line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from conftest import load_text
from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l0

# Factory style: a per-head bias read one element at a time, a weight row read at W[j], the output
# written element by element into a 3-D tensor.
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def biased(heads, M, N, bm=32, dtype="bfloat16"):
    @T.prim_func
    def main(X: T.Tensor((heads, M, N), dtype), W: T.Tensor((N,), dtype), Bias: T.Tensor((heads,), "float32"),
             Y: T.Tensor((heads, M, N), dtype)):
        with T.Kernel(T.ceildiv(M, bm), heads, threads=128) as (bx, by):
            X_s = T.alloc_shared((bm, N), dtype)
            b = T.alloc_fragment((bm,), "float32")
            T.copy(X[by, bx * bm, 0], X_s)
            for i in T.Parallel(bm):
                b[i] = Bias[by]
            for i, j in T.Parallel(bm, N):
                {body}
    return main
'''
BODY = "Y[by, bx * bm + i, j] = X_s[i, j] * W[j] + b[i]"

# Eager style, one row per block: the row statistics written straight to DRAM.
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1, -2])
def row_stats(X, blk_m=1, dtype=T.bfloat16):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), dtype)
    Mean = T.empty((M,), T.float32)
    Peak = T.empty((M,), T.float32)
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        X_s = T.alloc_shared((blk_m, N), dtype)
        x = T.alloc_fragment((blk_m, N), T.float32)
        s = T.alloc_fragment((blk_m,), T.float32)
        p = T.alloc_fragment((blk_m,), T.float32)
        T.copy(X[bx * blk_m, 0], X_s)
        T.copy(X_s, x)
        T.reduce_sum(x, s, dim=1)
        T.reduce_max(x, p, dim=1)
        for i in T.Parallel(blk_m):
            Mean[bx * blk_m + i] = s[i] / N
            Peak[bx * blk_m + i] = p[i]
    return Mean, Peak
'''

# Eager style split-K as TileLang's plain split-K file writes it: each slice's partial block added
# into C element by element (T.atomic_add in a T.Parallel).
SPLIT_K = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def matmul(A, B, C, block_M, block_N, block_K, split_k, dtype=T.bfloat16, accum_dtype=T.float32):
    M, N, K = T.const("M, N, K")
    A: T.Tensor((M, K), dtype)
    B: T.Tensor((K, N), dtype)
    C: T.Tensor((M, N), T.float32)
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), split_k, threads=128) as (bx, by, bz):
        A_s = T.alloc_shared((block_M, block_K), dtype)
        B_s = T.alloc_shared((block_K, block_N), dtype)
        C_l = T.alloc_fragment((block_M, block_N), accum_dtype)
        T.clear(C_l)
        for ko in T.Pipelined(T.ceildiv(K // split_k, block_K), num_stages=2):
            T.copy(A[by * block_M, bz * (K // split_k) + ko * block_K], A_s)
            T.copy(B[bz * (K // split_k) + ko * block_K, bx * block_N], B_s)
            T.gemm(A_s, B_s, C_l)
        for i, j in T.Parallel(block_M, block_N):
            T.atomic_add(C[by * block_M + i, bx * block_N + j], {value})
'''
SPLIT_K_SETS = {"M": "64", "N": "64", "K": "256", "block_M": "32", "block_N": "64", "block_K": "32", "split_k": "2"}


def load(tmp_path: Path, text: str, sets: dict):
    return load_text(tmp_path, text, sets)


def biased_reference(inputs):
    x, w, bias = (inputs[n].astype(np.float64) for n in ("X", "W", "Bias"))
    return {"Y": (x * w + bias[:, None, None]).astype(inputs["X"].dtype)}


def stats_reference(inputs):
    x = inputs["X"].astype(np.float64)
    return {"Mean": x.mean(axis=1).astype(np.float32), "Peak": x.max(axis=1).astype(np.float32)}


@pytest.mark.parametrize("heads", [2, 3])
def test_factory_reads_an_element_a_row_and_writes_elements_matching_numpy_at_every_level(tmp_path, heads):
    check_levels(load(tmp_path, FACTORY.format(body=BODY), {"heads": str(heads), "M": "64", "N": "64"}),
                 biased_reference)


@pytest.mark.parametrize("M", [64, 40])
def test_eager_row_statistics_written_by_element_match_numpy_at_every_level(tmp_path, M):
    check_levels(load(tmp_path, EAGER, {"M": str(M), "N": "128"}), stats_reference)


def test_the_ir_after_p0b_shows_the_copies_and_the_pick(tmp_path):
    loaded = load(tmp_path, FACTORY.format(body=BODY), {"heads": "2", "M": "64", "N": "64"})
    program = api.lower(loaded.prim_func, stop_after="P0b")
    text = str(program)
    assert "copy Bias[((by // 32) * 32) +32] -> Bias_row[32]" in text
    assert "Bias_mask[r, c] = if_then_else((c == (by % 32)), 1, 0)" in text
    assert "reduce_sum Bias_picked -> Bias_elem, dim 1" in text
    assert "copy W[64] -> W_shared[64]" in text
    assert "copy Y_frag[32x64] -> Y[by, (bx * 32), 0 +1x32x64]" in text
    dram = {p.name for p in program.params}
    parallel_loads = [x for p in walk(program.body) if isinstance(p, l0.Parallel)
                      for x in walk(p.body) if isinstance(x, (l0.Load, l0.Store))]
    assert not {x.buffer for x in parallel_loads} & dram, "a T.Parallel still names a DRAM tensor"


def test_row_blocks_merge_after_staging(tmp_path):
    program = api.lower(load(tmp_path, EAGER, {"M": "64", "N": "128"}).prim_func, stop_after="P0a")
    text = str(program)
    assert "merged_rows=bx: 32 blocks of 1 row" in text
    assert "copy Mean_frag[32] -> Mean[(bx * 32) +32]" in text


@pytest.mark.parametrize("body, words", [
    ("Y[by, bx * bm + i, j * 2] = X_s[i, j]", "is not `start + v` along each dim"),
    ("Y[by, bx * bm + i, i + j] = X_s[i, j]", "is not `start + v` along each dim"),
    ("Y[by, 0, bx * bm + i] = X_s[i, j]", "leaves out some of i, j"),
    ("Y[by, bx * bm + i, j] = Y[by, bx * bm + i, j] + X_s[i, j]", "reads and writes elements of the DRAM tensor Y"),
])
def test_element_accesses_still_missing_are_nt315_with_the_line(tmp_path, body, words):
    loaded = load(tmp_path, FACTORY.format(body=body), {"heads": "2", "M": "64", "N": "64"})
    with pytest.raises(NanottError) as err:
        api.lower(loaded.prim_func, stop_after="P0b")
    assert err.value.code == "NT315" and words in err.value.message, err.value.message
    assert err.value.loc.line in (17, 18), err.value.loc


def split_k_reference(inputs):
    return {"C": (inputs["A"].astype(np.float64) @ inputs["B"].astype(np.float64)).astype(np.float32)}


def test_split_k_adding_elements_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, SPLIT_K.format(value="C_l[i, j]"), SPLIT_K_SETS)
    text = str(api.lower(loaded.prim_func, stop_after="P0b"))
    assert "atomic_add C[(by * 32), (bx * 64) +32x64] += C_add[32x64]" in text
    check_levels(loaded, split_k_reference)


def test_adding_one_element_outside_a_parallel_is_nt304(tmp_path):
    text = SPLIT_K.format(value="C_l[i, j]").replace(
        "        for i, j in T.Parallel(block_M, block_N):\n            T.atomic_add(C[by * block_M + i, bx * block_N + j]",
        "        if True:\n            T.atomic_add(C[by * block_M, bx * block_N]").replace("C_l[i, j])", "1.0)")
    with pytest.raises(NanottError) as err:
        api.lower(load(tmp_path, text, SPLIT_K_SETS).prim_func, stop_after="P0b")
    assert err.value.code == "NT304" and "outside a T.Parallel" in err.value.message, err.value.message


def test_a_start_read_from_an_index_tensor_is_a_gather_of_rows(tmp_path):
    """`q_start = cu_seqlens[bz]` (varlen attention): P0's coverage check cannot predict it and
    stays silent; C1 reads the block's rows one by one from that row (a RowGather, zeros outside
    the tensor: tests/test_row_scatter.py has the numbers). Bias is a float tensor here: the cast to
    int32 says the truncation is meant (a float start alone is NT123, tests/test_float_indices.py)."""
    text = FACTORY.format(body=BODY).replace("T.copy(X[by, bx * bm, 0], X_s)",
                                             'start = T.cast(Bias[by], "int32")\n            T.copy(X[by, start, 0], X_s)')
    loaded = load(tmp_path, text, {"heads": "2", "M": "64", "N": "64"})
    api.lower(loaded.prim_func, stop_after="P0")
    assert "read_to_cb X.tiles[gathered" in str(api.lower(loaded.prim_func, stop_after="C1"))

"""Blocks of fewer than 32 rows that no grid index starts (P0a, nanott/passes/_p0a_row_vectors.py):
split-KV decoding's combine keeps the log-sum-exp of its `num_split` splits in a block of
`num_split` rows, reduces it along the rows and reads its row k in a loop over the splits. P0a holds
each row as a vector (`row_vectors` in the IR), reductions along the rows become elementwise
max / sum of the vectors, and the loop over the rows is unrolled so that each copy reads its own
vector. A block of few rows used otherwise keeps its shape and A1 refuses it (NT111).

Numerics against NumPy on random inputs at L0, L5 and L9 (float32: api.within's tolerance, relative
to each element and to the output's scale; the exp of the SFPU is within it)."""
from __future__ import annotations

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.languages import l0
from nanott.loader import load_kernel

COMBINE = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def combine(batch, heads, num_split, seqlen, dim, block_M=32):
    @T.prim_func
    def main(lse: T.Tensor([batch, heads, num_split, seqlen], T.float32),
             part: T.Tensor([batch, seqlen, heads, num_split, dim], T.float32),
             Out: T.Tensor([batch, seqlen, heads, dim], T.float32),
             Tot: T.Tensor([batch, heads, seqlen], T.float32)):
        with T.Kernel(T.ceildiv(seqlen, block_M), heads, batch, threads=128) as (bx, by, bz):
            lse_local = T.alloc_fragment([num_split, block_M], T.float32)
            m = T.alloc_fragment([block_M], T.float32)
            s = T.alloc_fragment([block_M], T.float32)
            tot = T.alloc_fragment([block_M], T.float32)
            w = T.alloc_fragment([block_M], T.float32)
            p = T.alloc_fragment([block_M, dim], T.float32)
            acc = T.alloc_fragment([block_M, dim], T.float32)
            T.copy(lse[bz, by, :, bx * block_M:(bx + 1) * block_M], lse_local)
            T.reduce_max(lse_local, m, dim=0, clear=True)
            T.reduce_sum(lse_local, tot, dim=0)
            T.clear(s)
            for k in T.serial(num_split):
                for i in T.Parallel(block_M):
                    s[i] += T.exp(lse_local[k, i] - m[i])
            T.clear(acc)
            for k in T.Pipelined(num_split, num_stages=2):
                T.copy(part[bz, bx * block_M:(bx + 1) * block_M, by, k, :], p)
                for i in T.Parallel(block_M):
                    w[i] = T.exp(lse_local[k, i] - m[i]) / s[i]
                for i, j in T.Parallel(block_M, dim):
                    acc[i, j] += p[i, j] * w[i]
            T.copy(acc, Out[bz, bx * block_M:(bx + 1) * block_M, by, :])
            T.copy(tot, Tot[bz, by, bx * block_M:(bx + 1) * block_M])
    return main
'''

WRITTEN = '''
import tilelang
import tilelang.language as T


@T.prim_func
def written(A: T.Tensor((4, 64), T.float32), B: T.Tensor((64,), T.float32)):
    with T.Kernel(1, threads=128) as bx:
        a = T.alloc_fragment((4, 64), T.float32)
        b = T.alloc_fragment((64,), T.float32)
        T.copy(A[0, 0], a)
        for i, j in T.Parallel(4, 64):
            a[i, j] = a[i, j] * 2.0
        T.reduce_sum(a, b, dim=0)
        T.copy(b, B[0])
'''

SETS = {"batch": "1", "heads": "2", "num_split": "4", "seqlen": "64", "dim": "32"}


def kernel_file(tmp_path, text: str):
    path = tmp_path / "rows.py"
    path.write_text(text)
    return path


def reference(ins):
    lse = ins["lse"].astype(np.float64)                       # (b, h, split, seq)
    part = ins["part"].astype(np.float64)                     # (b, seq, h, split, dim)
    w = np.exp(lse - lse.max(axis=2, keepdims=True))
    w /= w.sum(axis=2, keepdims=True)
    out = np.einsum("bhks,bshkd->bshd", w, part)
    return {"Out": out, "Tot": lse.sum(axis=2)}


def test_a_block_of_split_rows_is_held_as_vectors_and_matches_numpy_at_every_level(tmp_path):
    loaded = load_kernel(kernel_file(tmp_path, COMBINE), "combine", SETS)
    p0a = api.lower(loaded.prim_func, stop_after="P0a")
    assert ("row_vectors", "lse_local: 4 rows of 32") in [(a.key, a.value) for a in p0a.attrs]
    shapes = {x.name: x.shape for x in l0.walk(p0a.body) if isinstance(x, l0.Alloc)}
    assert "lse_local" not in shapes and [shapes[f"lse_local_{r}"] for r in range(4)] == [(32,)] * 4
    assert not [x for x in l0.walk(p0a.body) if isinstance(x, l0.For)], "the loops over the rows are unrolled"
    check_levels(loaded, reference)


def test_a_block_of_few_rows_written_elementwise_stays_a_block_and_is_refused(tmp_path):
    loaded = load_kernel(kernel_file(tmp_path, WRITTEN))
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func, stop_after="A1")
    assert e.value.code == "NT111" and "block 4x64 of a" in e.value.message

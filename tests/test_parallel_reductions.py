"""A T.Parallel that accumulates into a vector, as TileLang's tile GEMV writes it: `o[i] += a[i, j]
* x[j]` into a `T.alloc_reducer` (eager style) or a fragment (factory style), and `T.max` into a
running maximum. P0 makes it a map into a float32 temporary and a T.reduce (nanott/language/
reductions.py). Numerics against NumPy at every level (float64 on the inputs as DRAM holds them);
tolerance the output dtype's (api.within: relative to each element and to the output's own scale):
products are exact in float32, the row sums are float32 sums of 256 terms, rounded once to bf16.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.languages import l0
from nanott.loader import load_kernel

EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def gemv(a, x, block_M=64, block_N=64, dtype=T.bfloat16, accum_dtype=T.float32):
    M, N = T.const("M, N")
    a: T.Tensor((M, N), dtype)
    x: T.Tensor((N,), dtype)
    o = T.empty((M,), dtype)
    with T.Kernel(T.ceildiv(M, block_M), threads=128) as bm:
        acc = T.alloc_reducer(block_M, accum_dtype, replication="all")
        T.clear(acc)
        for kn in T.Pipelined(T.ceildiv(N, block_N), num_stages=2):
            a_frag = T.alloc_fragment((block_M, block_N), dtype)
            T.copy(a[bm * block_M, kn * block_N], a_frag)
            x_frag = T.alloc_fragment(block_N, dtype)
            T.copy(x[kn * block_N], x_frag)
            for i, j in T.Parallel(block_M, block_N):
                acc[i] += a_frag[i, j] * x_frag[j]
        T.finalize_reducer(acc)
        T.copy(acc, o[bm * block_M])
    return o
'''
FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def col_max(M, N, bm=32):
    @T.prim_func
    def main(A: T.Tensor((M, N), T.float32), B: T.Tensor((N,), T.float32)):
        with T.Kernel(1, threads=128) as bx:
            top = T.alloc_fragment((N,), T.float32)
            a = T.alloc_fragment((bm, N), T.float32)
            T.fill(top, -T.infinity(T.float32))
            for k in T.serial(T.ceildiv(M, bm)):
                T.copy(A[k * bm, 0], a)
                for i, j in T.Parallel(bm, N):
                    top[j] = T.max(top[j], a[i, j] * 2.0)
            T.copy(top, B[0])
    return main
'''


def load(tmp_path: Path, text: str, sets: dict):
    path = tmp_path / "reduce.py"
    path.write_text(text)
    return load_kernel(path, None, {k: str(v) for k, v in sets.items()})


def test_an_eager_gemv_into_a_reducer_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, EAGER, {"M": 128, "N": 256})
    reduces = [x for x in l0.walk(loaded.prim_func.parse().body) if isinstance(x, l0.Reduce)]
    assert [(r.op, r.dim, r.clear) for r in reduces] == [("sum", 1, False)]
    check_levels(loaded, lambda ins: {"o": ins["a"].astype(np.float64) @ ins["x"].astype(np.float64)})


def test_a_running_max_over_rows_in_the_factory_style_matches_numpy_at_every_level(tmp_path):
    loaded = load(tmp_path, FACTORY, {"M": 64, "N": 64})
    check_levels(loaded, lambda ins: {"B": 2.0 * ins["A"].astype(np.float64).max(axis=0)})


def test_a_reduced_vector_read_in_the_same_loop_is_nt317_at_that_read(tmp_path):
    text = FACTORY.replace("top[j] = T.max(top[j], a[i, j] * 2.0)",
                           "top[j] = T.max(top[j], a[i, j] * 2.0)\n                    a[i, j] = top[j]")
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text, {"M": 64, "N": 64}).prim_func, stop_after="P0")
    assert e.value.code == "NT317" and "top accumulates a reduction over i" in e.value.message
    assert e.value.loc.line == 18


@pytest.mark.parametrize("old, new, words", [
    ('replication="all"', 'op="prod"', "op='prod'"),
    ("T.finalize_reducer(acc)", "T.finalize_reducer(acc, dst=acc)", "dst="),
])
def test_reducer_forms_nanott_lacks_are_nt301(tmp_path, old, new, words):
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, EAGER.replace(old, new), {"M": 128, "N": 256}).prim_func, stop_after="P0")
    assert e.value.code == "NT301" and words in e.value.message

"""Issue 9, item 1: sizes TileLang leaves to run time, fixed by nanott when it compiles.

TileLang's variable-length attention takes `max_seqlen_q: T.int32` and sizes its grid with it
(`T.Kernel(T.ceildiv(max_seqlen_q, block_M), ...)`); its sparse decoding kernels name sizes with
`T.dynamic("num_split")` and split blocks with T.floordiv / T.floormod. nanott compiles for one
value of each, given with --set (nanott/language/sizes.py). Numbers at every level against NumPy,
the L0 the values fold into, and the diagnostics for a size without a value or an unknown --set.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import load_text
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError

# factory style, as the varlen files: a T.dynamic row count in the shapes, a scalar parameter that
# sizes the grid, blocks split into halves with T.floordiv / T.floormod
KERNEL = '''
import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[2])
def scaled_rows(N, block_M=32):
    M = T.dynamic("M")

    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), rows: T.int32, Y: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(rows, block_M), 2, threads=128) as (bx, by):
            x = T.alloc_fragment((block_M, T.floordiv(N, 2)), "float32")
            T.copy(X[bx * block_M, by * T.floordiv(N, 2)], x)
            for i, j in T.Parallel(block_M, T.floordiv(N, 2)):
                x[i, j] = x[i, j] * (T.floormod(N, 3) + 1)
            T.copy(x, Y[bx * block_M, by * T.floordiv(N, 2)])

    return main
'''

SETS = {"N": 128, "M": 96, "rows": 96}


def reference(inputs):
    return {"Y": (inputs["X"].astype(np.float64) * (128 % 3 + 1)).astype(np.float32)}


def test_sizes_given_with_set_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, KERNEL, SETS), reference)


def test_the_sizes_fold_into_the_kernel(tmp_path):
    kernel = api.lower(load_text(tmp_path, KERNEL, SETS).prim_func, stop_after="P0")
    assert kernel.grid == (3, 2)                               # ceildiv(rows, 32) x 2
    assert [(p.name, p.shape) for p in kernel.params] == [("X", (96, 128)), ("Y", (96, 128))]
    assert "* 3)" in str(kernel)                               # floormod(128, 3) + 1


@pytest.mark.parametrize("sets, message, hint", [
    ({"N": 128, "rows": 96}, "the size M (T.dynamic) has no value", "--set M=..."),
    ({"N": 128, "M": 96}, "the size rows (the scalar parameter rows: int32) has no value", "--set rows=..."),
    ({"N": 128, "M": 96, "rows": 96, "cols": 4}, "scaled_rows has no parameter cols", "parameters: scaled_rows"),
])
def test_a_size_without_a_value_or_an_unknown_one_is_named(tmp_path, sets, message, hint):
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, KERNEL, sets).prim_func, stop_after="P0")
    assert e.value.code == "NT903" and message in e.value.message and hint in e.value.hint

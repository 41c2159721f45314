"""Issue 9, item 5: blocks of fewer than 32 rows that number their rows in the tensor.

TileLang's grouped cast gives each block 8 rows and masks the rows past a group's size
(`T.if_then_else(row * blk_m + i < batch_sizes[bg], ...)`), and starts its copy at an offset the
same for every block (`X[row_offset + row * blk_m, ...]`). P0a merges 32 / m such blocks: the
tensor row `b * m + i + c` becomes `b * 32 + i + c`, the start `b * m + c` becomes `b * 32 + c`.

Numbers at every level against NumPy (factory and eager style), the IR after P0a, and the row
uses that stay refused (NT111, naming the rule).
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import load_text
from test_generality import check_levels
from test_row_blocks import refused_with

from nanott import api

# factory style: rows 32.. of A, each row minus its maximum, rows past `valid` zeroed
FACTORY = '''
import nanott.language as T

M, N, blk_m, valid = 96, 128, {blk_m}, 70


@T.prim_func
def masked_rows(A: T.Tensor((M + 32, N), "float32"), B: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        a = T.alloc_fragment((blk_m, N), "float32")
        s = T.alloc_fragment((blk_m,), "float32")
        T.copy(A[32 + bx * blk_m, 0], a)
        T.reduce_max(a, s, dim=1)
        for i, j in T.Parallel(blk_m, N):
            a[i, j] = T.if_then_else(bx * blk_m + i < valid, a[i, j] - s[i], 0)
        T.copy(a, B[bx * blk_m, 0])
'''

# eager style, as the cast examples write it: a let naming the block, a row mask on it
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def masked_scale(X, blk_m):
    M, N = T.const("M, N")
    X: T.Tensor((M, N), "float32")
    Y = T.empty((M, N), "float32")
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        row = bx
        x = T.alloc_fragment((blk_m, N), "float32")
        m = T.alloc_fragment((blk_m,), "float32")
        T.copy(X[row * blk_m:(row + 1) * blk_m, :], x)
        T.reduce_absmax(x, m, dim=1)
        for i, j in T.Parallel(blk_m, N):
            x[i, j] = T.if_then_else(row * blk_m + i < M - 5, x[i, j] / T.max(m[i], 1e-4), -1.0)
        T.copy(x, Y[row * blk_m:(row + 1) * blk_m, :])
    return Y
'''


def masked_rows_reference(inputs):
    a = inputs["A"][32:].astype(np.float64)
    out = a - a.max(axis=1, keepdims=True)
    out[70:] = 0
    return {"B": out.astype(np.float32)}


def masked_scale_reference(inputs):
    x = inputs["X"].astype(np.float64)
    out = x / np.maximum(np.abs(x).max(axis=1, keepdims=True), 1e-4)
    out[len(x) - 5:] = -1.0
    return {"Y": out.astype(np.float32)}


@pytest.mark.parametrize("blk_m", [1, 8])
def test_row_mask_and_offset_start_match_numpy_at_every_level(tmp_path, blk_m):
    check_levels(load_text(tmp_path, FACTORY.format(blk_m=blk_m)), masked_rows_reference)


def test_eager_row_mask_matches_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, EAGER, {"M": 72, "N": 64, "blk_m": 8}), masked_scale_reference)


def test_the_tensor_rows_are_renumbered_in_the_ir(tmp_path):
    kernel = api.lower(load_text(tmp_path, FACTORY.format(blk_m=8)).prim_func, stop_after="P0a")
    text = str(kernel)
    assert kernel.grid == (3,) and "merged_rows=bx: 4 blocks of 8 rows" in text
    assert "copy A[((bx * 32) + 32), 0 +32x128]" in text
    assert "(((bx * 32) + i) < 70)" in text


@pytest.mark.parametrize("edit, rule", [
    # the row index added twice: not the tensor row of the row i
    (lambda s: s.replace("bx * blk_m + i < valid", "bx * blk_m + 2 * i < valid"),
     "bx is used in"),
    # an offset that depends on the block: merged blocks would not read consecutive rows
    (lambda s: s.replace("A[32 + bx * blk_m, 0]", "A[bx + bx * blk_m, 0]"),
     "bx is used other than as the start"),
])
def test_rows_numbered_otherwise_are_refused(tmp_path, edit, rule):
    refused_with(load_text(tmp_path, edit(FACTORY.format(blk_m=8))), rule)

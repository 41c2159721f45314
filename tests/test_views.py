"""Tensor views (`T.Tensor(shape, dtype, base.data)` inside a kernel): another shape over a DRAM
tensor's storage, as TileLang's convolution views its (KH, KW, C, F) weights as a (KH * KW * C, F)
matrix and writes its (N, OH, OW, F) output through a (N * OH * OW, F) one. Every access through a
view is an access of its base, by index arithmetic (nanott/language/views.py): the kernel below
is a GEMM of A by the flattened weights, written through a flattened output, checked at every level
against NumPy on random inputs; and the views that are no box of their base are NT331 at the line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import load_text
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.language.views import box_extents, pair_dims

VIEWED_GEMM = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def viewed_gemm(A, Wt, block_M, block_N, block_K):
    M, KH, KW, C, F, OH, OW = T.const("M, KH, KW, C, F, OH, OW")
    A: T.Tensor((M, KH * KW * C), "bfloat16")
    Wt: T.Tensor((KH, KW, C, F), "bfloat16")
    Out = T.empty((M // (OH * OW), OH, OW, F), "float32")
    with T.Kernel(T.ceildiv(F, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        a = T.alloc_shared((block_M, block_K), "bfloat16")
        w = T.alloc_shared((block_K, block_N), "bfloat16")
        acc = T.alloc_fragment((block_M, block_N), "float32")
        w_flat = T.Tensor((KH * KW * C, F), "bfloat16", Wt.data)
        out_flat = T.Tensor((M, F), "float32", Out.data)
        T.clear(acc)
        for k in T.Pipelined(KH * KW * C // block_K, num_stages=2):
            T.copy(A[by * block_M, k * block_K], a)
            T.copy(w_flat[k * block_K:(k + 1) * block_K, bx * block_N:(bx + 1) * block_N], w)
            T.gemm(a, w, acc)
        T.copy(acc, out_flat[by * block_M, bx * block_N])
    return Out
'''

SIZES = {"M": 128, "KH": 3, "KW": 2, "C": 64, "F": 64, "OH": 2, "OW": 32,
         "block_M": 32, "block_N": 64, "block_K": 32}


def reference(inputs):
    """Out (N, OH, OW, F) = A @ Wt reshaped, in float32 from the bfloat16 inputs."""
    a = inputs["A"].astype(np.float32)
    w = inputs["Wt"].astype(np.float32).reshape(-1, SIZES["F"])
    return {"Out": (a @ w).reshape(-1, SIZES["OH"], SIZES["OW"], SIZES["F"])}


def test_groups_pair_dims_of_equal_products():
    assert pair_dims((18, 64), (3, 6, 1, 64)) == (((0,), (0, 1)), ((1,), (2, 3)))
    assert pair_dims((2, 3, 4), (6, 4)) == (((0, 1), (0,)), ((2,), (1,)))
    assert pair_dims((4, 6), (6, 4)) == (((0, 1), (0, 1)),)


def test_a_run_is_a_box_when_it_covers_whole_inner_dims_and_divides_the_next():
    assert box_extents(64, [3, 4, 64]) == [1, 1, 64]
    assert box_extents(128, [3, 4, 64]) == [1, 2, 64]
    assert box_extents(32, [3, 4, 64]) == [1, 1, 32]
    assert box_extents(96, [3, 4, 64]) is None


@pytest.mark.slow
def test_a_gemm_through_views_matches_numpy_at_every_level(tmp_path: Path):
    check_levels(load_text(tmp_path, VIEWED_GEMM, SIZES), reference)


def test_the_view_is_gone_after_p0(tmp_path: Path):
    """No later stage sees a view: its copies are copies of the base, a box of it."""
    text = str(api.lower(load_text(tmp_path, VIEWED_GEMM, SIZES).prim_func, stop_after="P0"))
    assert "w_flat" not in text and "out_flat" not in text
    assert "Wt[" in text and "Out[" in text


@pytest.mark.parametrize("sets, message", [
    ({"OW": 16}, "the block (32,) of the view's dims (128,), which are Out's (4, 2, 16), is not a box "
                 "of Out: it spans (1, 2, 16)"),
    ({"block_K": 96, "KW": 3}, "its 96 elements are no whole number of the base's inner dims"),
])
def test_a_block_that_is_no_box_of_the_base_is_nt331(tmp_path: Path, sets, message):
    sizes = SIZES | sets
    with pytest.raises(NanottError) as err:
        load_text(tmp_path, VIEWED_GEMM, sizes).prim_func.parse()
    assert err.value.code == "NT331" and message in err.value.message, err.value.message
    assert err.value.loc.line > 0 and err.value.hint


def test_a_view_of_other_dtype_or_size_is_nt331(tmp_path: Path):
    with pytest.raises(NanottError) as err:
        load_text(tmp_path, VIEWED_GEMM.replace('(KH * KW * C, F), "bfloat16"', '(KH * KW * C, F), "float32"'),
                  SIZES).prim_func.parse()
    assert err.value.code == "NT331" and "same elements" in err.value.message

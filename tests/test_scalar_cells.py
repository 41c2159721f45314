"""Scalar cells (nanott/language/cells.py): a one-element fragment that only names one value
(`D_local[0] = D[bz]`, then `D_local[0]` read in a T.Parallel, as TileLang's Mamba kernels keep a
per-head scalar) becomes that value in P0, recorded as `scalar_cells`; the DRAM element it reads is
then staged by P0b, also from a tensor of more than one dim (the tile row that holds it, picked out
as a column vector, or as a row where the vectors it is computed with lie along rows).
A one-element buffer that is more than a name (written in a loop) stays a block and A1 refuses it
(NT111). Numerics against NumPy on random inputs at L0, L5 and L9: the kernels scale and add
float32 values, so every level matches to float32 rounding (api.within's float32 tolerance, relative
to each element and to the output's scale)."""
from __future__ import annotations

import numpy as np
import pytest
from test_generality import check_levels

from nanott.diagnostics import NanottError
from nanott.languages import l0
from nanott.loader import load_kernel
from nanott import api

FACTORY = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def scale_by_head(H, N):
    @T.prim_func
    def main(X: T.Tensor((H * 32, N), T.float32), D: T.Tensor((H,), T.float32),
             Y: T.Tensor((H * 32, N), T.float32)):
        with T.Kernel(H, threads=128) as bz:
            x = T.alloc_fragment((32, N), T.float32)
            d = T.alloc_fragment((1), T.float32)
            d[0] = D[bz]
            T.copy(X[bz * 32, 0], x)
            for i, j in T.Parallel(32, N):
                x[i, j] = x[i, j] * d[0] + x[i, j]
            T.copy(x, Y[bz * 32, 0])
    return main
'''

EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def decay_last(X, dA, block_M=32):
    B, H, C, L, N = T.const("B, H, C, L, N")
    X: T.Tensor((B, C * block_M, H, N), T.float32)
    dA: T.Tensor((B, H, C, L), T.float32)
    Y = T.empty((B, C * block_M, H, N), T.float32)
    with T.Kernel(H, C * B, threads=128) as (bz, by):
        batch_idx = by % B
        chunk_idx = by // B
        x = T.alloc_fragment((block_M, N), T.float32)
        last = T.alloc_fragment((1), T.float32)
        last[0] = dA[batch_idx, bz, chunk_idx, L - 1]
        T.copy(X[batch_idx, chunk_idx * block_M:(chunk_idx + 1) * block_M, bz, :], x)
        for i, j in T.Parallel(block_M, N):
            x[i, j] = x[i, j] * T.exp2(last[0])
        T.copy(x, Y[batch_idx, chunk_idx * block_M:(chunk_idx + 1) * block_M, bz, :])
    return Y
'''

ALONG_ROWS = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def scale_columns(H, L, N):
    @T.prim_func
    def main(X: T.Tensor((H * 32, N), T.float32), dA: T.Tensor((H, L), T.float32),
             d: T.Tensor((H, N), T.float32), Y: T.Tensor((H * 32, N), T.float32)):
        with T.Kernel(H, threads=128) as bz:
            x = T.alloc_fragment((32, N), T.float32)
            d_local = T.alloc_fragment((N,), T.float32)
            sc = T.alloc_fragment((N,), T.float32)
            last = T.alloc_fragment((1,), T.float32)
            last[0] = dA[bz, L - 1]
            T.copy(d[bz, :], d_local)
            for i in T.Parallel(N):
                sc[i] = T.exp2(last[0] - d_local[i])
            T.copy(X[bz * 32, 0], x)
            for i, j in T.Parallel(32, N):
                x[i, j] = x[i, j] * sc[j]
            T.copy(x, Y[bz * 32, 0])
    return main
'''

IN_A_LOOP = '''
import tilelang
import tilelang.language as T


@T.prim_func
def running(X: T.Tensor((64, 32), T.float32), Y: T.Tensor((32, 32), T.float32)):
    with T.Kernel(1, threads=128) as bx:
        x = T.alloc_fragment((32, 32), T.float32)
        s = T.alloc_fragment((1), T.float32)
        for k in T.serial(2):
            T.copy(X[k * 32, 0], x)
            s[0] = X[k * 32, 0]
        for i, j in T.Parallel(32, 32):
            x[i, j] = x[i, j] * s[0]
        T.copy(x, Y[0, 0])
'''


def kernel_file(tmp_path, text: str):
    path = tmp_path / "cells.py"
    path.write_text(text)
    return path


def test_a_one_element_fragment_naming_a_head_scalar_is_that_scalar(tmp_path):
    loaded = load_kernel(kernel_file(tmp_path, FACTORY), "scale_by_head", {"H": "3", "N": "64"})
    k = loaded.prim_func.parse()
    assert ("scalar_cells", "d: D[bz]") in [(a.key, a.value) for a in k.attrs]
    assert not [x for x in l0.walk(k.body) if isinstance(x, l0.Alloc) and x.name == "d"]

    def reference(ins):
        x = ins["X"].astype(np.float64).reshape(3, 32, 64)
        return {"Y": (x * (ins["D"].astype(np.float64)[:, None, None] + 1)).reshape(96, 64)}
    check_levels(loaded, reference)


def test_a_cell_of_one_element_of_a_4d_tensor_is_picked_from_its_tile_row(tmp_path):
    """dA[b, h, c, L - 1]: P0b copies the 32 elements of the tile row holding it (the other dims at
    their index) and picks the element out; every block reads a different one."""
    loaded = load_kernel(kernel_file(tmp_path, EAGER), None, {"B": "2", "H": "2", "C": "2", "L": "64", "N": "32"})
    p0b = api.lower(loaded.prim_func, stop_after="P0b")
    assert "copy dA[batch_idx, bz, chunk_idx, 32 +1x1x1x32]" in str(p0b).replace("((63 // 32) * 32)", "32")

    def reference(ins):
        x, da = ins["X"].astype(np.float64), ins["dA"].astype(np.float64)
        scale = np.exp2(da[:, :, :, -1])                        # (B, H, C)
        y = x.reshape(2, 2, 32, 2, 32) * scale.transpose(0, 2, 1)[:, :, None, :, None]
        return {"Y": y.reshape(2, 64, 2, 32)}
    check_levels(loaded, reference)


def test_a_cell_read_with_vectors_that_lie_along_rows_is_picked_as_a_row(tmp_path):
    """sc[i] = exp2(last[0] - d_local[i]) in a 1-D loop, sc read as sc[j] (one value per column):
    the vectors of that loop lie along tile rows, so P0b's pick is a row too (a reduction along
    dim 0), and C2 needs no transpose."""
    loaded = load_kernel(kernel_file(tmp_path, ALONG_ROWS), "scale_columns", {"H": "2", "L": "64", "N": "64"})
    p0b = str(api.lower(loaded.prim_func, stop_after="P0b"))
    assert "reduce_sum dA_picked -> dA_elem, dim 0" in p0b

    def reference(ins):
        x, da, d = (ins[n].astype(np.float64) for n in ("X", "dA", "d"))
        sc = np.exp2(da[:, -1:] - d)                            # (H, N)
        return {"Y": (x.reshape(2, 32, 64) * sc[:, None, :]).reshape(64, 64)}
    check_levels(loaded, reference)


def test_a_one_element_buffer_written_in_a_loop_stays_a_block_and_is_refused(tmp_path):
    loaded = load_kernel(kernel_file(tmp_path, IN_A_LOOP))
    assert not [a for a in loaded.prim_func.parse().attrs if a.key == "scalar_cells"]
    with pytest.raises(NanottError) as e:
        api.lower(loaded.prim_func, stop_after="A1")
    assert e.value.code == "NT111" and "block 1 of s" in e.value.message

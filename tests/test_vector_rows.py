"""Issue 9, item 7: a copy between a vector and one line of a tensor of more dims (NT314 before).

TileLang's cast example writes one scale per row and group into a column (`X_amax[bx * blk_m + i,
by] = y_s[i]`, staged by P0b into a copy of a vector to `X_amax[bx * 32, by +32x1]`), its flash
attention forward a vector into a row of a 3-D tensor (`T.copy(logsum, lse[bz, by, bx * 64:...])`),
and its backward reads such a row back. A1 stores a tensor copied along one dim only with that dim
last (the column becomes a row of the stored matrix), and C1 makes the copy a TileSlice with a
line: that row of the tiles, moved alone by the reader or writer (two 16-element transfers per
tile), so other blocks' rows of the same tiles are left as they are. Numerics at every level
against NumPy on random inputs (factory and eager style), the IR, the C++, and what stays refused.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel

# factory style: per (row block, group) the absmax of each row plus a bias row read from a 3-D
# tensor, written one element per row into a column of S; Y scaled by that row
FACTORY = '''
import nanott.language as T

M, N, G = 64, 256, 128


@T.prim_func
def row_scales(X: T.Tensor((M, N), "float32"), L: T.Tensor((2, 3, M), "float32"),
               S: T.Tensor((M, N // G), "float32"), Y: T.Tensor((M, N), "float32")):
    with T.Kernel(M // 32, N // G, threads=128) as (bx, by):
        x = T.alloc_fragment((32, G), "float32")
        y = T.alloc_fragment((32, G), "float32")
        a = T.alloc_fragment((32,), "float32")
        l = T.alloc_fragment((32,), "float32")
        T.copy(X[bx * 32, by * G], x)
        T.copy(L[1, by, bx * 32:(bx + 1) * 32], l)
        T.reduce_absmax(x, a, dim=1)
        for i in T.Parallel(32):
            S[bx * 32 + i, by] = a[i] + l[i]
        for i, j in T.Parallel(32, G):
            y[i, j] = x[i, j] * l[i]
        T.copy(y, Y[bx * 32, by * G])
'''

# eager style: the row maxima of each (batch, head) block written into a row of a 3-D tensor
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def row_max(X, block_M):
    B, H, S, D = T.const("B, H, S, D")
    X: T.Tensor((B, H, S, D), "float32")
    L = T.empty((B, H, S), "float32")
    with T.Kernel(T.ceildiv(S, block_M), H, B, threads=128) as (bx, by, bz):
        x = T.alloc_fragment((block_M, D), "float32")
        m = T.alloc_fragment((block_M,), "float32")
        T.copy(X[bz, by, bx * block_M:(bx + 1) * block_M, :], x)
        T.reduce_max(x, m, dim=1)
        T.copy(m, L[bz, by, bx * block_M:(bx + 1) * block_M])
    return L
'''


def factory(tmp_path: Path, edit=lambda s: s):
    path = tmp_path / "row_scales.py"
    path.write_text(edit(FACTORY))
    return load_kernel(path)


def eager(tmp_path: Path):
    path = tmp_path / "row_max.py"
    path.write_text(EAGER)
    return load_kernel(path, None, {"B": "2", "H": "3", "S": "64", "D": "32", "block_M": "32"})


def scales_reference(inputs):
    """float32 throughout in the kernel; NumPy's float32 here: absmax and the adds are exact up to
    one rounding, the product one rounding (api.within's float32 tolerance is relative to each
    output's own scale)."""
    x, l = inputs["X"], inputs["L"][1]                      # l: [3, M]
    a = np.abs(x.reshape(64, 2, 128)).max(axis=2)           # [M, groups]
    bias = l[:2].T                                          # group by reads row by of L[1]
    y = x.reshape(64, 2, 128) * bias[:, :, None]
    return {"S": (a + bias).astype(np.float32), "Y": y.reshape(64, 256).astype(np.float32)}


def max_reference(inputs):
    """A max is exact: the kernel's result must equal NumPy's at every level."""
    return {"L": inputs["X"].max(axis=3)}


def test_a_column_written_and_a_row_read_match_numpy_at_every_level(tmp_path):
    check_levels(factory(tmp_path), scales_reference)


def test_an_eager_row_write_into_a_3d_tensor_matches_numpy_at_every_level(tmp_path):
    check_levels(eager(tmp_path), max_reference)


def test_the_ir_shows_one_row_of_the_tiles(tmp_path):
    program = api.lower(factory(tmp_path).prim_func, stop_after="C1")
    s = next(p for p in program.params if p.name == "S")
    assert s.layout.order == (1, 0)                         # the column is a row of the stored matrix
    text = "\n".join(program.lines())
    assert "write_from_cb cb" in text and "S.tiles[(by // 32), bx +1x1].row[(by % 32)]" in text
    assert "L.tiles[((by + 32) // 32), bx +1x1].row[((by + 32) % 32)]" in text   # L[1, by, :]: row 32 + by


def test_the_writer_moves_the_row_as_two_face_runs(tmp_path):
    from nanott.backends.metalium.api import DEFAULT
    from nanott.backends.metalium.kernels import kernel_source
    program = api.lower(factory(tmp_path).prim_func, stop_after="F1")
    writer = kernel_source(program, "writer", DEFAULT)
    runs = [line for line in writer.splitlines() if "noc_async_write(" in line]
    assert runs and "* 1024 + (by % 32) % 16 * 64), 64)" in runs[0] and "+ 1024, S.get_noc_addr" in runs[0]


def test_a_column_of_a_tensor_also_copied_in_blocks_is_refused(tmp_path):
    both = factory(tmp_path, lambda s: s.replace(
        "T.copy(y, Y[bx * 32, by * G])", "T.copy(y, Y[bx * 32, by * G])\n        T.copy(X[bx * 32, 0], x)"
    ).replace('S: T.Tensor((M, N // G), "float32")', 'S: T.Tensor((M, N), "float32")').replace(
        "S[bx * 32 + i, by] = a[i] + l[i]", "S[bx * 32 + i, by] = a[i] + l[i]\n        T.copy(S[bx * 32, 0], x)"))
    with pytest.raises(NanottError) as e:
        api.lower(both.prim_func, stop_after="C1")
    assert e.value.code == "NT314" and "a column of S's tiles" in str(e.value)

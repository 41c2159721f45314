"""Issue 9, items 4-6: a block read from a row that is data, and a row mask on data.

TileLang's grouped cast reads each group's rows from `row_offset + row * blk_m`, a sum of group
sizes read from DRAM: no multiple of 32, so the block spans two rows of tiles. C1 gives such a
read its start row and D3 moves it row by row (noc_async_read_row into row i % 32 of the block's
tiles); rows past either end of the tensor read as zeros. The cast also masks the rows past a
group's size (`row * blk_m + i < batch_sizes[bg]`): P0 reads that size once per block (a let the
reader reads) and makes the keep/drop masks of it.

Numbers at every level against NumPy with valid group sizes (eager and factory style), the IR and
C++ of the row transfers, and the write to a data row that stays NT112.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.ir import walk
from nanott.languages import l9

# eager style, as the grouped cast: groups of rows of X, each padded to M_max rows of Y and scaled;
# its row sums into a column of S
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def group_rows(X, sizes, M_max, blk_m):
    M, N, G = T.const("M, N, G")
    X: T.Tensor((M, N), "float32")
    sizes: T.Tensor((G,), T.int32)
    Y = T.empty((G, M_max, N), "float32")
    S = T.empty((G, M_max), "float32")
    with T.Kernel(T.ceildiv(M_max, blk_m), G, threads=128) as (bx, bg):
        x = T.alloc_fragment((blk_m, N), "float32")
        s = T.alloc_fragment((blk_m,), "float32")
        offset = T.alloc_var(dtype=T.int32)
        offset = 0
        for g in T.serial(bg):
            offset += sizes[g]
        T.copy(X[offset + bx * blk_m:offset + (bx + 1) * blk_m, :], x)
        T.reduce_sum(x, s, dim=1)
        for i in T.Parallel(blk_m):
            S[bg, bx * blk_m + i] = T.if_then_else(bx * blk_m + i < sizes[bg], s[i], 0)
        for i, j in T.Parallel(blk_m, N):
            x[i, j] = T.if_then_else(bx * blk_m + i < sizes[bg], x[i, j] * 2 + 1, 0)
        T.copy(x, Y[bg, bx * blk_m:(bx + 1) * blk_m, :])
    return Y, S
'''

# factory style: one window per block of 32 rows from a start read from DRAM, no mask
FACTORY = '''
import nanott.language as T

M, N, B = 100, 64, 3


@T.prim_func
def windows(X: T.Tensor((M, N), "bfloat16"), Starts: T.Tensor((B,), "int32"),
            Y: T.Tensor((B * 32, N), "float32")):
    with T.Kernel(B, threads=128) as bx:
        x = T.alloc_shared((32, N), "bfloat16")
        y = T.alloc_fragment((32, N), "float32")
        start = Starts[bx]
        T.copy(X[start:start + 32, :], x)
        for i, j in T.Parallel(32, N):
            y[i, j] = x[i, j] * x[i, j]
        T.copy(y, Y[bx * 32, 0])
'''

SETS = {"M": 64, "N": 64, "G": 3, "M_max": 64, "blk_m": 8}


def group_inputs(kernel):
    """Sizes that split X's 64 rows into 3 groups (none a multiple of 32); the last group's window
    runs past X's end and past its padding."""
    rng = np.random.default_rng(3)
    inputs = api.random_inputs(kernel, seed=3)
    inputs["X"] = rng.uniform(-1, 1, (64, 64)).astype(np.float32)
    inputs["sizes"] = np.array([21, 30, 13], np.int32)
    return inputs


def group_reference(inputs):
    x, sizes, m_max = inputs["X"].astype(np.float64), inputs["sizes"], 64
    y, s = np.zeros((3, m_max, 64)), np.zeros((3, m_max))
    for g, offset in enumerate(np.concatenate([[0], np.cumsum(sizes)[:-1]])):
        rows = x[offset:offset + sizes[g]]
        y[g, :len(rows)] = rows * 2 + 1
        s[g, :len(rows)] = rows.sum(axis=1)
    return {"Y": y.astype(np.float32), "S": s.astype(np.float32)}


def window_inputs(kernel):
    """Starts before, inside and past the end of X (rows outside it read as zeros)."""
    inputs = api.random_inputs(kernel, seed=5)
    inputs["Starts"] = np.array([-7, 45, 83], np.int32)
    return inputs


def window_reference(inputs):
    x, out = inputs["X"].astype(np.float64), np.zeros((96, 64))
    for b, start in enumerate(inputs["Starts"]):
        for r in range(32):
            if 0 <= start + r < len(x):
                out[b * 32 + r] = x[start + r] ** 2
    return {"Y": out.astype(np.float32)}


@pytest.mark.slow               # the row guards differ per core: L9 runs the reference interpreter
def test_grouped_rows_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, EAGER, SETS), group_reference, group_inputs)


def test_windows_from_data_rows_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, FACTORY), window_reference, window_inputs)


def test_the_window_is_moved_row_by_row(tmp_path):
    loaded = load_text(tmp_path, FACTORY)
    c1 = str(api.lower(loaded.prim_func, stop_after="C1"))
    assert "read_to_cb X.tiles[(start // 32), 0 +1x2].from_row[start]" in c1
    d3 = str(api.lower(loaded.prim_func, stop_after="D3"))
    assert "noc_async_read_row X.page[((((start + i0) // 32) * 2) + j0)].row[((start + i0) % 32)]" in d3
    assert "-> cb0.back[(((i0 // 32) * 2) + j0)].row[(i0 % 32)]" in d3
    assert "generate_to_cb" in d3                # zeros first where the window runs past an end
    l9_program = api.lower(loaded.prim_func, stop_after="F1")
    reads = [x for x in walk(l9_program.kernels) if isinstance(x, l9.NocReadPage) and x.to is not None]
    assert len(reads) == 1


def test_the_reader_moves_each_row_into_its_row_of_the_tile(tmp_path):
    from nanott.backends.metalium.api import DEFAULT
    from nanott.backends.metalium.kernels import kernel_source
    program = api.lower(load_text(tmp_path, FACTORY).prim_func, stop_after="F1")
    reader = kernel_source(program, "reader", DEFAULT)
    runs = [line for line in reader.splitlines() if "noc_async_read(" in line]
    rows = [line for line in runs if "get_write_ptr(cb_x) + (((i0 / 32) * 2) + j0) * 2048 + ((i0 % 32) / 16 * 2 + 0)" in line]
    assert len(rows) == 1 and rows[0].count("noc_async_read(") == 2          # two face runs into row i0 % 32
    assert "if ((static_cast<int32_t>(start + i0) >= static_cast<int32_t>(0))" in reader


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile --execute` on random starts (negative ones included: index_inputs' range)."""
    path = tmp_path / "windows.py"
    path.write_text(FACTORY)
    out = nanott_cli("compile", str(path), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")


def scattered_inputs(kernel):
    """window_inputs, and Y random: the rows no block writes keep it."""
    inputs = window_inputs(kernel)
    inputs["Y"] = np.random.default_rng(6).standard_normal((96, 64)).astype(np.float32)
    return inputs


def scattered_reference(inputs):
    """Y's rows start .. start + 32 of each block (inside Y) get x^2 of X's rows there (zeros outside
    X); Y's other rows keep what they held."""
    x, out = inputs["X"].astype(np.float64), inputs["Y"].astype(np.float64).copy()
    for start in inputs["Starts"]:
        for r in range(max(start, 0), min(start + 32, 96)):
            out[r] = x[r] ** 2 if r < 100 else 0
    return {"Y": out.astype(np.float32)}


def test_a_write_to_a_data_row_is_scattered_row_by_row(tmp_path):
    """`T.copy(y, Y[start:start + 32, :])`: the block spans two rows of Y's tiles, which other blocks
    share; C1 writes it as a row scatter, each row alone where it lies inside Y (L0 skips the rest),
    and every level matches NumPy (starts before, inside and past Y's end)."""
    loaded = load_text(tmp_path, FACTORY.replace("T.copy(y, Y[bx * 32, 0])", "T.copy(y, Y[start:start + 32, :])"))
    c1 = str(api.lower(loaded.prim_func, stop_after="C1"))
    assert ("write_from_cb cb1 -> Y.tiles[scattered, 0 +1x2] (row r -> row (start + r) where "
            "(((start + r) >= 0) and ((start + r) < 96)))") in c1
    check_levels(loaded, scattered_reference, scattered_inputs)

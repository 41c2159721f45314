"""Issue 9, item 4: rows of a block written to DRAM only where a run-time row count allows.

TileLang's varlen attention ends each block with
`if bx * block_M + i < q_current_seqlen: Output_unpad[q_start_idx + bx * block_M + i, head, d] = O_shared[i, d]`:
the rows of a sequence start at a row read from DRAM (cu_seqlens), and the block writes only the
rows its sequence has. P0 makes the `if` a store that keeps the old element where it fails; the
loop is then a scatter of rows (nanott/row_gather.py), which C1 makes a write_from_cb of a RowGather
and D3 moves row by row (noc_async_write_row from row r % 32 of the waited slot, under `if` the
row's condition holds). The writer reads the start and the count itself, through its own scratch
CB (D1). Numbers at every level against NumPy on random varlen batches (2-D and 3-D outputs), the IR
of the writes, and the stores still refused with NT302.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import load_text, nanott_cli
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError

# eager style, as the varlen attention files: each sequence's rows of X, scaled, into the same rows of Y
EAGER = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def varlen_scale(X, cu_seqlens, block_M):
    UQ, D, B, max_seqlen = T.const("UQ, D, B, max_seqlen")
    X: T.Tensor((UQ, D), "float32")
    cu_seqlens: T.Tensor((B + 1,), T.int32)
    Y = T.empty((UQ, D), "float32")
    with T.Kernel(T.ceildiv(max_seqlen, block_M), B, threads=128) as (bx, bz):
        x = T.alloc_shared((block_M, D), "float32")
        y = T.alloc_fragment((block_M, D), "float32")
        start = cu_seqlens[bz]
        seqlen = cu_seqlens[bz + 1] - start
        T.copy(X[start + bx * block_M:start + (bx + 1) * block_M, :], x)
        for i, j in T.Parallel(block_M, D):
            y[i, j] = x[i, j] * 2 + 1
        for i, j in T.Parallel(block_M, D):
            if bx * block_M + i < seqlen:
                Y[start + bx * block_M + i, j] = y[i, j]
    return Y
'''

# factory style: 3-D [rows, heads, dim] tensors, one head per block, read and written from a row read from DRAM
FACTORY = '''
import nanott.language as T

UQ, H, D, B = 96, 2, 64, 3


@T.prim_func
def varlen_heads(X: T.Tensor((UQ, H, D), "float32"), cu_seqlens: T.Tensor((B + 1,), "int32"),
                 Y: T.Tensor((UQ, H, D), "float32")):
    with T.Kernel(H, B, threads=128) as (by, bz):
        x = T.alloc_shared((32, D), "float32")
        y = T.alloc_fragment((32, D), "float32")
        q_start = cu_seqlens[bz]
        q_len = cu_seqlens[bz + 1] - q_start
        T.copy(X[q_start:q_start + 32, by, :], x)
        for i, j in T.Parallel(32, D):
            y[i, j] = T.exp(x[i, j])
        for i, d in T.Parallel(32, D):
            if i < q_len:
                Y[q_start + i, by, d] = y[i, d]
'''

SETS = {"UQ": 96, "D": 64, "B": 3, "max_seqlen": 64, "block_M": 32}
LENGTHS = np.array([37, 0, 50], np.int32)        # none a multiple of 32; one sequence empty


def cu(lengths):
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)


def scale_inputs(kernel):
    inputs = api.random_inputs(kernel, seed=11)
    inputs["cu_seqlens"] = cu(LENGTHS)
    return inputs


def scale_reference(inputs):
    """Rows inside a sequence: 2x + 1; rows past the last sequence keep what Y held."""
    y = inputs["Y"].astype(np.float64).copy()
    end = inputs["cu_seqlens"][-1]
    y[:end] = inputs["X"][:end].astype(np.float64) * 2 + 1
    return {"Y": y.astype(np.float32)}


def heads_inputs(kernel):
    inputs = api.random_inputs(kernel, seed=13)
    inputs["cu_seqlens"] = cu(np.array([30, 40, 26], np.int32))     # the last window runs past UQ: zeros
    return inputs


def heads_reference(inputs):
    """Each sequence's rows (at most 32), exp'd in place; the rest of Y keeps what it held."""
    x, starts, y = inputs["X"].astype(np.float64), inputs["cu_seqlens"], inputs["Y"].astype(np.float64).copy()
    for b in range(3):
        rows = slice(starts[b], starts[b] + min(starts[b + 1] - starts[b], 32))
        y[rows] = np.exp(x[rows])
    return {"Y": y.astype(np.float32)}


def test_varlen_rows_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, EAGER, SETS), scale_reference, scale_inputs)


def test_rows_of_a_3d_tensor_match_numpy_at_every_level(tmp_path):
    check_levels(load_text(tmp_path, FACTORY), heads_reference, heads_inputs)


def test_the_writer_writes_row_by_row_where_the_count_allows(tmp_path):
    loaded = load_text(tmp_path, EAGER, SETS)
    c1 = str(api.lower(loaded.prim_func, stop_after="C1"))
    assert "write_from_cb cb1 -> Y.tiles[scattered, 0 +1x2] (row i -> row ((start + (bx * 32)) + i) " \
           "where (((bx * 32) + i) < seqlen))" in c1
    d3 = str(api.lower(loaded.prim_func, stop_after="D3"))
    writer = d3[d3.index("  writer:"):]
    assert "if ok0:" in writer and "noc_async_write_row cb1.front[(((r0 // 32) * 2) + j1)].row[(r0 % 32)]" in writer
    assert "-> Y.page[(((src0 // 32) * 2) + j1)].row[(src0 % 32)]" in writer
    assert "cu_seqlens_elem_w: writer -> writer" in d3 and "noc_async_read_page cu_seqlens" in writer
    assert "generate_to_cb" not in writer               # rows where the count fails are not written


def test_rows_of_a_3d_tensor_are_gathered_and_scattered(tmp_path):
    """X and Y are stored heads first (they move (rows, dim) blocks: A1's order), row (r, h) is
    h * 96 + r, not r * 32 + h with the heads padded to 32; a row past the rows dim reads zeros, not
    the next head's row."""
    c1 = str(api.lower(load_text(tmp_path, FACTORY).prim_func, stop_after="C1"))
    assert ("read_to_cb X.tiles[gathered, 0 +1x2] (row r <- row (((by * 96) + q_start) + r) "
            "if (((q_start + r) >= 0) and ((q_start + r) < 96)) else zeros)") in c1
    assert "write_from_cb cb1 -> Y.tiles[scattered, 0 +1x2] (row i -> row (((by * 96) + q_start) + i) " \
           "where (i < q_len))" in c1
    assert "tensor Y: dram interleaved, Float32, 6x2 tiles of 4096 B, dims stored in order (1, 0, 2)" in c1


def test_the_writer_moves_each_row_from_its_row_of_the_slot(tmp_path):
    from nanott.backends.metalium.api import DEFAULT
    from nanott.backends.metalium.kernels import kernel_source
    program = api.lower(load_text(tmp_path, EAGER, SETS).prim_func, stop_after="F1")
    writer = kernel_source(program, "writer", DEFAULT)
    runs = [line for line in writer.splitlines() if "noc_async_write(" in line]
    assert len(runs) == 1 and runs[0].count("noc_async_write(") == 2      # two face runs from row r0 % 32
    assert "((r0 % 32) / 16 * 2 + 0) * 1024 + (r0 % 32) % 16 * 64" in runs[0]
    assert "Y.get_noc_addr(" in runs[0]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ is not installed")
def test_the_cpp_builds_runs_and_matches_numpy(tmp_path):
    """`nanott compile --execute` (random starts and counts in index_inputs' range)."""
    path = tmp_path / "heads.py"
    path.write_text(FACTORY)
    out = nanott_cli("compile", str(path), "-o", str(tmp_path / "out"), "--execute").output
    assert out.strip().splitlines()[-1].endswith("within tolerance: PASS")


def sum_reference(inputs):
    """Rows inside a sequence: (2x + 1) + x, rounded once to float32; the rest keeps what Y held."""
    y = inputs["Y"].astype(np.float64).copy()
    end = inputs["cu_seqlens"][-1]
    x = inputs["X"][:end]
    y[:end] = (x * np.float32(2) + np.float32(1)).astype(np.float32).astype(np.float64) + x
    return {"Y": y.astype(np.float32)}


def test_an_expression_written_under_the_row_condition_goes_through_a_fragment_at_every_level(tmp_path):
    """`Y[..] = y[i, j] + x[i, j]` under the `if`: P0b stores the sum into a fragment of Y's dtype,
    whose rows are scattered (fused MoE's `output_local[i, j] * weights[m_start + i]`)."""
    loaded = load_text(tmp_path, EAGER.replace("= y[i, j]\n", "= y[i, j] + x[i, j]\n"), SETS)
    p0b = str(api.lower(loaded.prim_func, stop_after="P0b"))
    assert "Y_rows[i, j] = (y[i, j] + x[i, j])" in p0b and "if_then_else((((bx * 32) + i) < seqlen), Y_rows[i, j]" in p0b
    check_levels(loaded, sum_reference, scale_inputs)


@pytest.mark.parametrize("store, why", [
    ("Y[start + bx * block_M + i, (j + 1) % D] = y[i, j]", "whole rows of a block"),  # not c + j
    ("Y[start + bx * block_M + i, (j + 1) % D] = y[i, j] + 1", "whole rows of a block"),   # nor through a fragment
])
def test_other_conditional_stores_stay_refused(tmp_path, store, why):
    text = EAGER.replace("Y[start + bx * block_M + i, j] = y[i, j]", store)
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, text, SETS).prim_func, stop_after="C1")
    assert e.value.code == "NT302" and why in e.value.message and e.value.hint


# the writer's own loop bound: how many blocks a row writes out is read from DRAM (once NT330)
COUNTED = '''
import nanott.language as T


@T.prim_func
def counted(X: T.Tensor((64, 64), "bfloat16"), Counts: T.Tensor((2,), "int32"), Y: T.Tensor((128, 64), "bfloat16")):
    with T.Kernel(2, threads=128) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        n = Counts[bx]
        for t in T.serial(n):
            T.copy(X[bx * 32, 0], X_s)
            T.copy(X_s, Y[bx * 64 + t * 32, 0])
'''


def counted_inputs(kernel):
    inputs = api.random_inputs(kernel, seed=17)
    inputs["Counts"] = np.array([2, 2], np.int32)           # every row of Y written (it holds NaN before)
    return inputs


def counted_reference(inputs):
    y = inputs["Y"].copy()
    for b, n in enumerate(inputs["Counts"]):
        for t in range(n):
            y[b * 64 + t * 32:b * 64 + t * 32 + 32] = inputs["X"][b * 32:b * 32 + 32]
    return {"Y": y}


def test_the_writer_reads_its_own_loop_bound(tmp_path):
    """The reader and the writer both run the loop; each reads n from DRAM through its own scratch CB."""
    loaded = load_text(tmp_path, COUNTED)
    d3 = str(api.lower(loaded.prim_func, stop_after="D3"))
    assert "Counts_elem: reader -> reader" in d3 and "Counts_elem_w: writer -> writer" in d3
    check_levels(loaded, counted_reference, counted_inputs)

"""NT123: an index, copy start or loop bound that is a float value is refused in P0, not truncated.

A user who declares an offsets tensor "float32" (or reads rows from a float tensor by mistake) got
a kernel that ran: the interpreters truncated the float to an integer without a word. TileLang's
type checker refuses it; so does nanott now (nanott/float_indices.py, by type inference on L0), at
the statement that uses the value, with the tensor to make an integer in the hint. An explicit
`T.cast(..., "int32")` says the truncation is meant: that kernel runs, at every level, against NumPy.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import load_text
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError

# eager style: each block copies 32 rows of X from the row its start says
ROWS = '''
import tilelang
import tilelang.language as T


@tilelang.jit
def rows_from(X, Starts, block_M=32):
    M, N, B = T.const("M, N, B")
    X: T.Tensor((M, N), "float32")
    Starts: T.Tensor((B,), "float32")
    Y = T.empty((B * block_M, N), "float32")
    with T.Kernel(B, threads=128) as bx:
        x = T.alloc_fragment((block_M, N), "float32")
        start = Starts[bx]
        T.copy(X[start:start + block_M, :], x)
        for i, j in T.Parallel(block_M, N):
            x[i, j] = x[i, j] * 2
        T.copy(x, Y[bx * block_M, 0])
    return Y
'''
SETS = {"M": 128, "N": 32, "B": 2}

# factory style: a loop bound read from a float tensor
COUNTS = '''
import tilelang.language as T


@T.prim_func
def repeat(X: T.Tensor((32, 32), "float32"), Counts: T.Tensor((2,), "float32"), Y: T.Tensor((64, 32), "float32")):
    with T.Kernel(2, threads=128) as bx:
        acc = T.alloc_fragment((32, 32), "float32")
        x = T.alloc_fragment((32, 32), "float32")
        T.copy(X[0, 0], x)
        T.fill(acc, 0)
        for k in T.serial(Counts[bx]):
            for i, j in T.Parallel(32, 32):
                acc[i, j] = acc[i, j] + x[i, j]
        T.copy(acc, Y[bx * 32, 0])
'''


def refused(tmp_path, text, sets=None) -> NanottError:
    with pytest.raises(NanottError) as e:
        api.lower(load_text(tmp_path, text, sets).prim_func, stop_after="P0")
    return e.value


def test_a_float_row_start_is_refused_at_its_copy(tmp_path):
    err = refused(tmp_path, ROWS, SETS)
    assert err.code == "NT123" and "an element of the float32 buffer Starts" in err.message
    assert err.render().splitlines()[1].strip() == "T.copy(X[start:start + block_M, :], x)"
    assert "make Starts an integer tensor" in err.hint


def test_a_float_loop_bound_is_refused(tmp_path):
    err = refused(tmp_path, COUNTS)
    assert err.code == "NT123" and "the loop bound" in err.message and "the float32 buffer Counts" in err.message


def test_an_element_of_a_float_buffer_as_an_index_is_refused(tmp_path):
    text = ROWS.replace("x[i, j] = x[i, j] * 2", "x[i, j] = x[i, j] * 2 + X[start + i, j]")
    err = refused(tmp_path, text.replace("T.copy(X[start:start + block_M, :], x)", "T.copy(X[0:block_M, :], x)"),
                  SETS)
    assert err.code == "NT123" and "index 0 of X" in err.message


def truncated_reference(inputs):
    """Rows trunc(Starts[b]) .. + 32 of X, doubled (NumPy truncates toward zero as the cast does)."""
    x, starts = inputs["X"], inputs["Starts"]
    return {"Y": np.concatenate([x[int(s):int(s) + 32] * 2 for s in starts]).astype(np.float32)}


def test_an_explicit_cast_runs_at_every_level(tmp_path):
    def inputs(kernel):
        made = api.random_inputs(kernel, seed=5)
        made["Starts"] = np.array([37.9, 64.2], np.float32)          # 37 and 64: not tile-aligned
        return made
    text = ROWS.replace("start = Starts[bx]", 'start = T.cast(Starts[bx], "int32")')
    check_levels(load_text(tmp_path, text, SETS), truncated_reference, inputs)

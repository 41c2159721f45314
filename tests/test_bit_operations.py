"""Bit operations on run-time integers (issue 13: a barrier's parity `(ko // 2) % 2 ^ 1` in
TileLang's barrierpipe GEMM; the unpacking of int4 weights): `>> << & | ^ ~` of block indices, loop
variables and lets, with Python's meaning, at every level and in the reader's C++; on a float
buffer's elements they are NT301, named (on integer elements: tests/test_bit_operations_on_elements.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_g1_emit import compile_all, needs_gxx
from test_generality import check_levels

from nanott import api
from nanott.diagnostics import NanottError
from nanott.loader import load_kernel
from nanott.pipeline import run_stages

KERNEL = '''
import nanott.language as T

M, N = 128, 64


@T.prim_func
def bits(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, 32), T.ceildiv(M, 32)) as (bx, by):
        a = T.alloc_shared((32, 32), "float32")
        T.copy(A[((by >> 1 << 1) | (~by & 1)) * 32, ((bx + by) & 1) * 32], a)
        T.copy(a, B[by * 32, bx * 32])
'''


def load(tmp_path: Path, text: str = KERNEL):
    path = tmp_path / "bits.py"
    path.write_text(text)
    return load_kernel(path)


def reference(inputs):
    """Row block by ^ 1 (pairs swapped), column block (bx + by) & 1, by slicing in NumPy."""
    a = inputs["A"]
    out = np.empty_like(a)
    for by in range(a.shape[0] // 32):
        for bx in range(a.shape[1] // 32):
            r, c = by ^ 1, (bx + by) & 1
            out[by * 32:(by + 1) * 32, bx * 32:(bx + 1) * 32] = a[r * 32:(r + 1) * 32, c * 32:(c + 1) * 32]
    return {"B": out}


def test_bit_operations_on_block_indices_match_numpy_at_every_level(tmp_path):
    check_levels(load(tmp_path), reference)


@needs_gxx
@pytest.mark.slow
def test_the_readers_cpp_compiles_with_them(tmp_path):
    """`~by` is `by ^ -1`: the reader's uint32_t arithmetic spells -1 as a cast, >> as a shift of
    int32 (arithmetic, as Python's)."""
    files = None
    for _, files in run_stages(load(tmp_path).prim_func, "G1"):
        pass
    assert "static_cast<uint32_t>(-1)" in files["reader.cpp"] and "static_cast<int32_t>(by) >>" in files["reader.cpp"]
    out = tmp_path / "out"
    out.mkdir()
    assert not compile_all(files, out)


def test_a_bit_operation_on_a_buffers_elements_is_nt301(tmp_path):
    text = KERNEL.replace("T.copy(a, B[by * 32, bx * 32])", '''b = T.alloc_fragment((32, 32), "float32")
        for i, j in T.Parallel(32, 32):
            b[i, j] = a[i, j] >> 1
        T.copy(b, B[by * 32, bx * 32])''')
    with pytest.raises(NanottError) as e:
        api.lower(load(tmp_path, text).prim_func, stop_after="P0")
    assert e.value.code == "NT301" and "buffer's elements" in e.value.message and e.value.loc.line == 14

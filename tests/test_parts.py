"""Parts of on-chip buffers (nanott/language/parts.py): a T.gemm on a part of a shared buffer, and a
buffer used in constant boxes cut into one buffer per cell.

The claims: the L0 kernel has one buffer per cell (`parts.<name>` says where each lies), copies that
span cells are one copy per cell, a gemm on a part reads its cell; and the kernel computes what the source says, at
L0 and L9, against NumPy on random inputs. Tolerance: the output dtype's (api.within: float32 1e-4
of |ref| and of max|ref|); bfloat16 inputs make every product exact in float32, so only the order of
64 float32 additions differs from NumPy's.
"""
from __future__ import annotations

import numpy as np
import pytest

from nanott import api
from nanott.loader import load_kernel

SOURCE = '''
import numpy as np
import nanott.language as T


@T.prim_func
def parts(A: T.Tensor((64, 128), "bfloat16"), B: T.Tensor((2, 64, 128), "bfloat16"), C: T.Tensor((64, 128), "float32")):
    with T.Kernel(1, threads=128) as bx:
        A_s = T.alloc_shared((64, 128), "bfloat16")
        B_s = T.alloc_shared((2, 64, 128), "bfloat16")
        S = T.alloc_fragment((64, 64), "float32")
        O_s = T.alloc_shared((64, 128), "float32")
        T.copy(A[0, 0], A_s)
        for s in T.unroll(2):
            T.copy(B[s, 0, 0], B_s[s, :, :])
        T.gemm(A_s[:, 0:64], B_s[1, :, COLS], S, transpose_B=True, clear_accum=True)
        T.copy(S, O_s[:, 64:128])
        T.copy(S, O_s[:, 0:64])
        T.copy(O_s[:, 0:64], C[0, 0])
        T.copy(O_s[:, 64:128], C[0, 64])


def reference(A, B):
    s = A[:, :64].astype(np.float64) @ B[1, :, COLS].astype(np.float64).T
    return np.concatenate([s, s], axis=1).astype(np.float32)
'''


def loaded(tmp_path, cols: str):
    path = tmp_path / "parts.py"
    path.write_text(SOURCE.replace("COLS", cols))
    return load_kernel(path)


def test_buffers_used_in_parts_are_cut_into_cells(tmp_path):
    text = str(api.lower(loaded(tmp_path, "64:128").prim_func, stop_after="P0"))
    assert "parts.B_s=B_s_0=[0:1, 0:64, 0:64] B_s_1=[0:1, 0:64, 64:128] B_s_2=[1:2, 0:64, 0:64] " \
           "B_s_3=[1:2, 0:64, 64:128]" in text
    assert "B_s_3 = alloc_shared(64x64, bfloat16)" in text            # the stage dim is gone
    assert "copy A[0, 64 +64x64] -> A_s_1[64x64]" in text               # a whole copy, one per cell
    assert "gemm S = A_s_0 @ B_s_3^T" in text                           # the gemm reads the cells
    assert "_part" not in text


def test_the_cells_follow_the_parts_too(tmp_path):
    """Columns 32:96 of stage 1 are read by the gemm: the cuts are at 0, 32, 96, 128, and the gemm
    reads the cell 32:96; the copies into the stages are one per cell."""
    text = str(api.lower(loaded(tmp_path, "32:96").prim_func, stop_after="P0"))
    assert "B_s_4=[1:2, 0:64, 32:96]" in text and "gemm S = A_s_0 @ B_s_4^T" in text
    assert "copy B[1, 0, 32 +1x64x64] -> B_s_4[64x64]" in text


@pytest.mark.parametrize("cols", ["64:128", "32:96"])
@pytest.mark.parametrize("level", ["L0", "L9"])
def test_the_cut_kernel_matches_numpy(tmp_path, level, cols):
    program = loaded(tmp_path, cols)
    kernel = api.lower(program.prim_func, stop_after="P0")
    inputs = api.random_inputs(kernel, seed=2)
    a, b = inputs["A"].astype(np.float64), inputs["B"].astype(np.float64)
    lo, hi = map(int, cols.split(":"))
    s = a[:, :64] @ b[1, :, lo:hi].T
    expected = np.concatenate([s, s], axis=1)
    got = api.simulate(api.lower(program.prim_func, stop_after=api.stage_for_level(level).id), level, inputs)
    assert api.within(got["C"], expected, "float32")

"""Casts: T.copy between buffers of different dtypes, and T.cast rounding in the middle of a value.

A bfloat16 tile is widened to a float32 fragment by a copy (exact). In the elementwise map,
E = T.cast(3 A, bfloat16) - 3 A is the rounding error of bfloat16 at 3 A: the cast rounds where
it stands, and the arithmetic goes on in float32 (a typecast_tile on the DST). H = A / 3 is computed
in float32 and rounded to bfloat16 by the copy into a bfloat16 fragment, which is written out.
64 x 64 in 32 x 64 blocks: 2 blocks.
"""
import numpy as np

import nanott.language as T

M, N = 64, 64
block_M, block_N = 32, 64


@T.prim_func
def cast(
    A: T.Tensor((M, N), "bfloat16"),
    E: T.Tensor((M, N), "float32"),
    H: T.Tensor((M, N), "bfloat16"),
):
    with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
        A_s = T.alloc_shared((block_M, block_N), "bfloat16")
        A_f = T.alloc_fragment((block_M, block_N), "float32")
        E_f = T.alloc_fragment((block_M, block_N), "float32")
        H_f = T.alloc_fragment((block_M, block_N), "float32")
        H_h = T.alloc_fragment((block_M, block_N), "bfloat16")

        T.copy(A[bx * block_M, 0], A_s)
        T.copy(A_s, A_f)                       # bfloat16 -> float32: exact
        for i, j in T.Parallel(block_M, block_N):
            E_f[i, j] = T.cast(A_f[i, j] * 3.0, "bfloat16") - A_f[i, j] * 3.0
            H_f[i, j] = A_f[i, j] / 3.0
        T.copy(H_f, H_h)                       # float32 -> bfloat16: rounds to nearest even
        T.copy(E_f, E[bx * block_M, 0])
        T.copy(H_h, H[bx * block_M, 0])


def reference(A):
    """E and H with NumPy's float32 arithmetic and ml_dtypes' rounding to bfloat16."""
    a3 = A.astype(np.float32) * np.float32(3.0)
    return (a3.astype(A.dtype).astype(np.float32) - a3,
            (A.astype(np.float32) / np.float32(3.0)).astype(A.dtype))

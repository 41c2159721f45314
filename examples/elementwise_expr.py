"""An elementwise expression over three inputs of mixed dtypes, with constants:
C = A * 2.0 + B - D * 0.5, where A and D are bfloat16, B is float32, and C is bfloat16.

The arithmetic runs in float32 (a T.Parallel nest into a float32 fragment); the store-back copy
rounds to bfloat16. 128 x 192 in 64 x 64 tiles: a 3 x 2 grid of 6 blocks.
"""
import numpy as np

import nanott.language as T

M, N = 128, 192
block = 64
scale_a, scale_d = 2.0, 0.5


@T.prim_func
def elementwise_expr(
    A: T.Tensor((M, N), "bfloat16"),
    B: T.Tensor((M, N), "float32"),
    D: T.Tensor((M, N), "bfloat16"),
    C: T.Tensor((M, N), "bfloat16"),
):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block, block), "bfloat16")
        B_shared = T.alloc_shared((block, block), "float32")
        D_shared = T.alloc_shared((block, block), "bfloat16")
        C_local = T.alloc_fragment((block, block), "float")

        T.copy(A[by * block, bx * block], A_shared)
        T.copy(B[by * block, bx * block], B_shared)
        T.copy(D[by * block, bx * block], D_shared)
        for i, j in T.Parallel(block, block):
            C_local[i, j] = A_shared[i, j] * scale_a + B_shared[i, j] - D_shared[i, j] * scale_d
        T.copy(C_local, C[by * block, bx * block])


def reference(A, B, D):
    """C = A * 2 + B - D * 0.5 in float32, rounded to bfloat16."""
    a, b, d = (x.astype(np.float32) for x in (A, B, D))
    return (a * np.float32(2.0) + b - d * np.float32(0.5)).astype(A.dtype)

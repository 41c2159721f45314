"""Element-wise add, C = A + B, written as TileLang's elementwise_add example is.

Each block copies one tile of A and of B into shared memory, adds them in a T.Parallel nest into a
float32 fragment, and writes the tile back through shared memory. 256 x 256 in 64 x 128 tiles:
a 2 x 4 grid of 8 blocks. bfloat16 in, float32 out.
"""
import numpy as np

import nanott.language as T

M, N = 256, 256
block_M, block_N = 64, 128
dtype = "bfloat16"
accum_dtype = "float"


@T.prim_func
def elementwise_add(
    A: T.Tensor((M, N), dtype),
    B: T.Tensor((M, N), dtype),
    C: T.Tensor((M, N), accum_dtype),
):
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_N), dtype)
        B_shared = T.alloc_shared((block_M, block_N), dtype)
        C_local = T.alloc_fragment((block_M, block_N), accum_dtype)
        C_shared = T.alloc_shared((block_M, block_N), accum_dtype)

        T.copy(A[by * block_M, bx * block_N], A_shared)
        T.copy(B[by * block_M, bx * block_N], B_shared)
        for i, j in T.Parallel(block_M, block_N):
            C_local[i, j] = A_shared[i, j] + B_shared[i, j]
        T.copy(C_local, C_shared)
        T.copy(C_shared, C[by * block_M, bx * block_N])


def reference(A, B):
    """C = A + B, computed in float32."""
    return A.astype(np.float32) + B.astype(np.float32)

"""GEMM with B transposed and an epilogue: C = ReLU(alpha * A @ B^T + D), as attention's Q K^T and
a fused linear layer write it.

B is stored N x K (each row of B is a column of the product), so `T.gemm(..., transpose_B=True)`;
the matmul init tells the unpacker to transpose each B tile (mm_init_short(a, b, 1)). After the K
loop, one T.Parallel scales the accumulator, adds a bias tile D and applies ReLU (T.max(x, 0)),
all in one DST pass per tile; the store-back copy rounds to bfloat16.
M x N x K = 128 x 64 x 128 in 64 x 64 x 64 blocks: a 1 x 2 grid, 2 steps along K.
"""
import numpy as np

import nanott.language as T

M, N, K = 128, 64, 128
block_M, block_N, block_K = 64, 64, 64
alpha = 0.5


@T.prim_func
def gemm_epilogue(
    A: T.Tensor((M, K), "bfloat16"),
    B: T.Tensor((N, K), "bfloat16"),
    D: T.Tensor((M, N), "bfloat16"),
    C: T.Tensor((M, N), "bfloat16"),
):
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), "bfloat16")
        B_shared = T.alloc_shared((block_N, block_K), "bfloat16")
        D_shared = T.alloc_shared((block_M, block_N), "bfloat16")
        C_local = T.alloc_fragment((block_M, block_N), "float32")

        T.clear(C_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            T.copy(A[by * block_M, k * block_K], A_shared)
            T.copy(B[bx * block_N, k * block_K], B_shared)
            T.gemm(A_shared, B_shared, C_local, transpose_B=True)
        T.copy(D[by * block_M, bx * block_N], D_shared)
        for i, j in T.Parallel(block_M, block_N):
            C_local[i, j] = T.max(C_local[i, j] * alpha + D_shared[i, j], 0)
        T.copy(C_local, C[by * block_M, bx * block_N])


def reference(A, B, D):
    """In float64, rounded once to bfloat16."""
    a, b, d = (x.astype(np.float64) for x in (A, B, D))
    return np.maximum(alpha * (a @ b.T) + d, 0).astype(A.dtype)

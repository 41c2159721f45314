"""GEMM with bfloat16 output, and the grid the other way round: bx walks rows, by columns.

M x N x K = 192 x 256 x 128 in 64 x 128 x 64 blocks: a 3 x 2 grid of 6 blocks, 2 steps along K.
The accumulator is float32; the store-back copy rounds it to bfloat16.
"""
import numpy as np

import nanott.language as T

M, N, K = 192, 256, 128
block_M, block_N, block_K = 64, 128, 64
dtype = T.bfloat16
accum_dtype = T.float32


@T.prim_func
def gemm_bf16_out(
    A: T.Tensor[(M, K), dtype],
    B: T.Tensor[(K, N), dtype],
    C: T.Tensor[(M, N), dtype],
):
    with T.Kernel(T.ceildiv(M, block_M), T.ceildiv(N, block_N), threads=256) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), dtype)
        B_shared = T.alloc_shared((block_K, block_N), dtype)
        C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

        T.use_swizzle(10)
        T.clear(C_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            T.copy(A[bx * block_M, k * block_K], A_shared)
            T.copy(B[k * block_K, by * block_N], B_shared)
            T.gemm(A_shared, B_shared, C_local, policy=T.GemmWarpPolicy.FullRow)

        T.copy(C_local, C[bx * block_M, by * block_N])


def reference(A, B):
    """C = A @ B accumulated in float32, rounded to bfloat16."""
    return (A.astype(np.float32) @ B.astype(np.float32)).astype(A.dtype)

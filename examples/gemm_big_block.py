"""GEMM with one 128 x 128 output block: a float32 accumulator of 16 tiles of 32 x 32, more than
the 4 tiles DST holds with fp32 accumulation, so the compute must be split into subblocks.

M x N x K = 128 x 128 x 64 in 128 x 128 x 32 blocks: one block, 2 steps along K.
"""
import numpy as np

import nanott.language as T


def matmul(M, N, K, block_M, block_N, block_K, dtype="bfloat16", accum_dtype="float"):
    @T.prim_func
    def main(
        A: T.Tensor((M, K), dtype),
        B: T.Tensor((K, N), dtype),
        C: T.Tensor((M, N), accum_dtype),
    ):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)

            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


gemm_big_block = matmul(128, 128, 64, 128, 128, 32)


def reference(A, B):
    """C = A @ B in float32."""
    return A.astype(np.float32) @ B.astype(np.float32)

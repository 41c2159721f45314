"""Float32 GEMM with 3 pipeline stages and more blocks than cores.

M x N x K = 320 x 320 x 64 in 32 x 32 x 32 blocks: a 10 x 10 grid of 100 blocks, so spreading them
over the 64 cores of a Wormhole n150 leaves some cores with two blocks and some with one.
"""
import numpy as np

import nanott.language as T


def matmul(M, N, K, block_M=32, block_N=32, block_K=32, num_stages=3):
    dtype = "float32"

    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), dtype)
            B_shared = T.alloc_shared((block_K, block_N), dtype)
            C_local = T.alloc_fragment((block_M, block_N), dtype)

            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[k * block_K, bx * block_N], B_shared)
                T.gemm(A_shared, B_shared, C_local)

            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


gemm_f32 = matmul(320, 320, 64)


def reference(A, B):
    """C = A @ B in float32."""
    return A @ B

"""Tiled GEMM, C = A @ B, in TileLang's factory style.

`matmul(...)` builds the kernel for given sizes; the module instance is small (256^3 in 64 x 64 x 32
blocks: a 4 x 4 grid, 8 steps along K). bf16 inputs, fp32 accumulator and output (or `out_dtype`). The
K loop is pipelined with 2 stages: the copies of step k+1 may run while step k multiplies.
"""
import numpy as np

import nanott.language as T


def matmul(M, N, K, block_M, block_N, block_K, dtype="bfloat16", accum_dtype="float", out_dtype=None):
    @T.prim_func
    def main(
        A: T.Tensor((M, K), dtype),
        B: T.Tensor((K, N), dtype),
        C: T.Tensor((M, N), out_dtype or accum_dtype),
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


gemm = matmul(256, 256, 256, 64, 64, 32)


def reference(A, B):
    """C = A @ B in float32."""
    return A.astype(np.float32) @ B.astype(np.float32)

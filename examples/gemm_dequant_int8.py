"""A dequantized GEMM, as TileLang's dequantize_gemm examples write it: factory style, activations A
[M, K] in bfloat16, weights B [N, K] stored as int8 with one bfloat16 scale per output channel
(Scale [N]), C = A @ (B * Scale)^T accumulated in float32.

The one new idea is that the weights are dequantized inside the kernel: each step along K copies
an int8 block of B into L1 (1024 bytes a tile, half of bfloat16's), widens it to bfloat16 and
multiplies it by its rows' scales in a T.Parallel, and only then hands it to T.gemm. Int8 weights
of magnitude up to 127 are exact in bfloat16 (8 significant bits); each dequantized weight is
rounded once to bfloat16 when it is stored, as on the GPU.
M x N x K = 128 x 128 x 256 in 64 x 64 x 64 blocks: a 2 x 2 grid, 4 steps along K.
"""
import ml_dtypes
import numpy as np

import nanott.language as T


def matmul_dequant(M, N, K, block_M, block_N, block_K, in_dtype="bfloat16", storage_dtype="int8",
                   accum_dtype="float", num_stages=2):
    @T.prim_func
    def main(
        A: T.Tensor((M, K), in_dtype),
        B: T.Tensor((N, K), storage_dtype),
        Scale: T.Tensor((N,), in_dtype),
        C: T.Tensor((M, N), accum_dtype),
    ):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), in_dtype)
            B_shared = T.alloc_shared((block_N, block_K), storage_dtype)
            B_dequantize_local = T.alloc_fragment((block_N, block_K), in_dtype)
            Scale_shared = T.alloc_shared((block_N,), in_dtype)
            C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

            T.copy(Scale[bx * block_N], Scale_shared)
            T.clear(C_local)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[bx * block_N, k * block_K], B_shared)
                for i, j in T.Parallel(block_N, block_K):
                    B_dequantize_local[i, j] = B_shared[i, j].astype(in_dtype) * Scale_shared[i]
                T.gemm(A_shared, B_dequantize_local, C_local, transpose_B=True)

            T.copy(C_local, C[by * block_M, bx * block_N])

    return main


gemm_dequant_int8 = matmul_dequant(128, 128, 256, 64, 64, 64)


def reference(A, B, Scale):
    """C = A @ W^T in float64, rounded once to float32, where W = B * Scale is rounded to bfloat16 as
    the kernel stores it (B_dequantize_local is a bfloat16 fragment, the GPU's and Tensix's alike)."""
    W = (B.astype(np.float32) * Scale.astype(np.float32)[:, None]).astype(ml_dtypes.bfloat16)
    return (A.astype(np.float64) @ W.astype(np.float64).T).astype(np.float32)

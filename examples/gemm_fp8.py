"""An fp8 GEMM, as TileLang's example_tilelang_gemm_fp8 writes it: eager style, A [M, K] and B
[N, K] in float8_e4m3fn, C = A @ B^T (transpose_B) accumulated in float32.

The one new idea is the dtype. Wormhole has no fp8 format: an fp8 tensor lives in DRAM and L1 as
Bfp8_b, Tenstorrent's 8-bit block float (a shared exponent per 16 values of a face row, a sign
and a 7-bit magnitude each; nanott/dtypes.py says why, nanott/block_float.py models it). The host
converts A and B as it writes them, so every level reads them on Bfp8_b's grid: a value more than
3 binades below the largest of its 16 loses low bits. The reference below is plain NumPy on the
fp8 values; the tolerance grows by what Bfp8_b costs (nanott/tolerance.py). C is fp8 too, as in
TileLang's example: the packer writes it as Bfp8_b, and the host reads it back and rounds each
value to the nearest fp8 (main.cpp: `fp8_bits`), so every level holds C on Bfp8_b's grid, rounded
to fp8 where the kernel stores it; the tolerance is the fp8 output's (one fp8 step, 2^-3).
M x N x K = 128 x 128 x 256 in 64 x 64 x 64 blocks: a 2 x 2 grid, 4 steps along K.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def matmul(A, B, block_M, block_N, block_K, dtype, accum_dtype=T.float32):
    M, N, K = T.const("M, N, K")

    A: T.Tensor((M, K), dtype)
    B: T.Tensor((N, K), dtype)
    C = T.empty((M, N), dtype)

    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), dtype)
        B_shared = T.alloc_shared((block_N, block_K), dtype)
        C_local = T.alloc_fragment((block_M, block_N), accum_dtype)

        T.clear(C_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=3):
            T.copy(A[by * block_M, k * block_K], A_shared)
            T.copy(B[bx * block_N, k * block_K], B_shared)
            T.gemm(A_shared, B_shared, C_local, transpose_B=True)

        T.copy(C_local, C[by * block_M, bx * block_N])

    return C


gemm_fp8 = matmul.compile(M=128, N=128, K=256, block_M=64, block_N=64, block_K=64, dtype=T.float8_e4m3fn)


def reference(A, B):
    """C = A @ B^T on the fp8 values, in float64 (compared in C's dtype, fp8)."""
    return A.astype(np.float64) @ B.astype(np.float64).T

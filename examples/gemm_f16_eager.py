"""A float16 GEMM in TileLang's eager style, with TileLang's own imports.

One `@tilelang.jit` function is both kernel and launch: `T.const` names the sizes, the tensor
parameters are annotated in the body, and the output is made by `T.empty` and returned. The module
fixes one size with `matmul.compile(...)`, as TileLang's quickstart does; `nanott explain
examples/gemm_f16_eager.py --kernel matmul --set M=... --set block_M=...` picks others.

M x N x K = 128 x 192 x 256 in 64 x 64 x 64 blocks: a 3 x 2 grid, 4 steps along K. A and B are
float16 (Tenstorrent's Float16 format, IEEE binary16), the accumulator float32, C float16.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def matmul(A, B, block_M, block_N, block_K, dtype=T.float16, accum_dtype=T.float32):
    M, N, K = T.const("M, N, K")

    A: T.Tensor((M, K), dtype)
    B: T.Tensor((K, N), dtype)
    C = T.empty((M, N), dtype)

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

    return C


gemm_f16 = matmul.compile(M=128, N=192, K=256, block_M=64, block_N=64, block_K=64)


def reference(A, B):
    """C = A @ B accumulated in float32, rounded to float16."""
    return (A.astype(np.float32) @ B.astype(np.float32)).astype(np.float16)

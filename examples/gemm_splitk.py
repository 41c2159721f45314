"""Split-K GEMM, as TileLang's example writes it: C = A @ B with K cut into slices.

A third grid dim bz runs over split_k = 4 slices of K; each grid block multiplies its slice of A's
rows and B's columns (K / 4 = 64, in steps of 32) into C_local, then adds that partial product into
its block of C with T.atomic_add, which C starts at zero (TileLang's host zeroes it). A Tensix core
cannot add into DRAM atomically, so B1 lowers the reduction to one core per output block: its four
slices run there one after another (`for bz ... (split-K: ...)`), summed in an L1 block read from C
first and written to C once. 128 x 128 x 256 in 64 x 64 x 32 blocks: a 2 x 2 x 4 grid. bfloat16
inputs, float32 C.
"""
import numpy as np

import nanott.language as T

M, N, K = 128, 128, 256
block_M, block_N, block_K = 64, 64, 32
split_k = 4
split_K = K // split_k


@T.prim_func
def gemm_splitk(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"),
                C: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), split_k, threads=128) as (bx, by, bz):
        A_shared = T.alloc_shared((block_M, block_K), "bfloat16")
        B_shared = T.alloc_shared((block_K, block_N), "bfloat16")
        C_local = T.alloc_fragment((block_M, block_N), "float32")

        T.clear(C_local)
        for ko in T.Pipelined(T.ceildiv(split_K, block_K), num_stages=0):
            T.copy(A[by * block_M, bz * split_K + ko * block_K], A_shared)
            T.copy(B[bz * split_K + ko * block_K, bx * block_N], B_shared)
            T.gemm(A_shared, B_shared, C_local)
        T.atomic_add(C[by * block_M, bx * block_N], C_local)


def reference(A, B):
    """In float64, rounded once to float32."""
    return (A.astype(np.float64) @ B.astype(np.float64)).astype(np.float32)

"""A ragged GEMM: C = A @ B with M, N and K that are no multiples of 32, nor of the block.

100 x 70 x 90 in 64 x 64 x 32 blocks: a 2 x 2 grid whose last row and column of blocks run past
the edges of A, B and C, and a K loop of 3 steps whose last step runs past K. TileLang masks those
copies: what lies outside a tensor reads as zero and is not stored. nanott pads instead (A1): every
tensor is padded with zeros to whole tiles and whole blocks (A 100x90 -> 128x96, B 90x70 -> 96x128,
C 100x70 -> 128x128); zeros in K add nothing to the products, and the rows and columns of C past
its edge are cropped when the host reads C back. bfloat16 inputs, float32 accumulator, bfloat16 out.
"""
import numpy as np

import nanott.language as T

M, N, K = 100, 70, 90
block_M, block_N, block_K = 64, 64, 32


@T.prim_func
def gemm_ragged(
    A: T.Tensor((M, K), "bfloat16"),
    B: T.Tensor((K, N), "bfloat16"),
    C: T.Tensor((M, N), "bfloat16"),
):
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        A_shared = T.alloc_shared((block_M, block_K), "bfloat16")
        B_shared = T.alloc_shared((block_K, block_N), "bfloat16")
        C_local = T.alloc_fragment((block_M, block_N), "float32")

        T.clear(C_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            T.copy(A[by * block_M, k * block_K], A_shared)
            T.copy(B[k * block_K, bx * block_N], B_shared)
            T.gemm(A_shared, B_shared, C_local)
        T.copy(C_local, C[by * block_M, bx * block_N])


def reference(A, B):
    """In float64, rounded once to bfloat16."""
    return (A.astype(np.float64) @ B.astype(np.float64)).astype(A.dtype)

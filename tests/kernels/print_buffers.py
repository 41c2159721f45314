"""T.print of buffers in a GEMM (tests/test_print_buffers.py): a shared block of A with no message,
a shared block of B with one, and the float32 accumulator after the K loop, each printed by every
level and by the C++ (TSLICE of the CB's tiles).

C = A @ B over 64 x 64 x 64 in 32 x 64 blocks of C and 32-wide K steps: a 1 x 2 grid.
"""
import numpy as np

import nanott.language as T

M, N, K = 64, 64, 64
BM, BN, BK = 32, 64, 32


@T.prim_func
def print_gemm(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(N // BN, M // BM) as (bx, by):
        A_s = T.alloc_shared((BM, BK), "bfloat16")
        B_s = T.alloc_shared((BK, BN), "bfloat16")
        C_l = T.alloc_fragment((BM, BN), "float32")
        T.clear(C_l)
        for k in T.Pipelined(K // BK, num_stages=1):
            T.copy(A[by * BM, k * BK], A_s)
            T.copy(B[k * BK, bx * BN], B_s)
            T.print(A_s)
            T.gemm(A_s, B_s, C_l)
            T.print(B_s, "b tile")
        T.print(C_l, "acc")
        T.copy(C_l, C[by * BM, bx * BN])


def reference(A, B):
    """A @ B in float32."""
    return A.astype(np.float32) @ B.astype(np.float32)

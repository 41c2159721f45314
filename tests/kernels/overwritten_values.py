"""Values overwritten before anything reads them, which TileLang accepts: a fragment computed and
then computed again, a fragment filled and then cleared by a T.gemm, and a buffer (D_s) read only
by such a dead value. A1a drops the dead values, then the buffer; the kernel runs at every level.
C = A @ B + 1 in 32x32 blocks of a 2x2 grid."""
import numpy as np

import nanott.language as T


@T.prim_func
def overwritten(A: T.Tensor((64, 64), "bfloat16"), B: T.Tensor((64, 64), "bfloat16"),
                C: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2) as (bx, by):
        A_s = T.alloc_shared((32, 64), "bfloat16")
        B_s = T.alloc_shared((64, 32), "bfloat16")
        D_s = T.alloc_shared((32, 32), "bfloat16")
        C_l = T.alloc_fragment((32, 32), "float32")
        S_l = T.alloc_fragment((32, 32), "float32")
        T.copy(A[by * 32, 0], A_s)
        T.copy(B[0, bx * 32], B_s)
        T.copy(A[by * 32, bx * 32], D_s)
        T.fill(C_l, 1.0)                                   # dead: the gemm clears C_l
        T.gemm(A_s, B_s, C_l, clear_accum=True)
        for i, j in T.Parallel(32, 32):
            S_l[i, j] = D_s[i, j] * 2.0                    # dead: overwritten below, unread
        for i, j in T.Parallel(32, 32):
            S_l[i, j] = C_l[i, j] + 1.0
        T.copy(S_l, C[by * 32, bx * 32])


def reference(A, B):
    return A.astype(np.float32) @ B.astype(np.float32) + 1.0

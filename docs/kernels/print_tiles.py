"""C = A + 1 on one 32 x 64 block, printing the block it read and the block it computed (T.print
of buffers). Chapter 1 runs it at L0 and L9; chapter 7 compiles the prints to DPRINT with TSLICE.
"""
import numpy as np

import nanott.language as T


@T.prim_func
def print_tiles(A: T.Tensor((32, 64), "bfloat16"), C: T.Tensor((32, 64), "bfloat16")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((32, 64), "bfloat16")
        C_l = T.alloc_fragment((32, 64), "bfloat16")
        T.copy(A[0, 0], A_s)
        T.print(A_s)
        for i, j in T.Parallel(32, 64):
            C_l[i, j] = A_s[i, j] + 1.0
        T.print(C_l, "plus one")
        T.copy(C_l, C[0, 0])


def reference(A):
    """A + 1 in float32, rounded to bfloat16."""
    return (A.astype(np.float32) + 1.0).astype(A.dtype)

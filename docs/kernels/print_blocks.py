"""C = A * 2, printing as it goes: each block prints its grid indices, the step of its loop over
two column halves and a float made of both (T.print). Chapter 1 runs it at L0 and at L9; chapter 7 compiles it to DPRINT.
"""
import numpy as np

import nanott.language as T


@T.prim_func
def print_blocks(A: T.Tensor((64, 128), "float"), C: T.Tensor((64, 128), "float")):
    with T.Kernel(1, 2) as (bx, by):
        A_s = T.alloc_shared((32, 64), "float")
        C_l = T.alloc_fragment((32, 64), "float")
        T.print(by, "block row")
        for half in T.serial(2):
            T.print(half)
            T.print(by + half * 0.25, "x")
            T.copy(A[by * 32, half * 64], A_s)
            for i, j in T.Parallel(32, 64):
                C_l[i, j] = A_s[i, j] * 2.0
            T.copy(C_l, C[by * 32, half * 64])


def reference(A):
    """A * 2 in float32: exact."""
    return A * np.float32(2.0)

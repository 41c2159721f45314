"""T.print in a factory-style kernel (tests/test_print.py): a block's linear id with a message, a
let computed from the block indices, a loop variable, a float computed from them, and functions
of them (a choice, abs, a negation, a cast, floor division and remainder of negative values, a
condition), printed at every level and by the C++.

C = A + 1 over 256 x 288 in 32 x 32 blocks: a 9 x 8 grid of 72 blocks, more than a Wormhole's 64
cores, so some cores run two blocks and print for both.
"""
import numpy as np

import nanott.language as T

M, N, BLOCK = 256, 288, 32


@T.prim_func
def print_indices(A: T.Tensor((M, N), "bfloat16"), C: T.Tensor((M, N), "bfloat16")):
    with T.Kernel(N // BLOCK, M // BLOCK) as (bx, by):
        A_s = T.alloc_shared((BLOCK, BLOCK), "bfloat16")
        C_l = T.alloc_fragment((BLOCK, BLOCK), "bfloat16")
        T.print(by * (N // BLOCK) + bx, "block id")
        row = by * BLOCK
        T.print(row)
        T.copy(A[by * BLOCK, bx * BLOCK], A_s)
        for k in T.serial(2):
            T.print(k * 10 + bx, msg="step")
            T.print(bx * 0.5 + k - by / 4, msg="x")
        T.print(T.if_then_else(bx > 4, bx - 9, abs(bx * 0.5 - by)), msg="f")
        T.print((bx - 5) // 2 * 10 + (bx - 5) % 3, msg="g")
        T.print(T.Cast("int32", -(bx * 0.7) + by), msg="h")
        T.print(bx - by * 2 > 0, msg="c")
        for i, j in T.Parallel(BLOCK, BLOCK):
            C_l[i, j] = A_s[i, j] + 1.0
        T.copy(C_l, C[by * BLOCK, bx * BLOCK])


def reference(A):
    """A + 1, computed in float32 and rounded to bfloat16."""
    return (A.astype(np.float32) + 1.0).astype(A.dtype)

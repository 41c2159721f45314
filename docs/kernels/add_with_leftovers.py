"""C = A + B, with leftovers: a buffer allocated and never used, and a copy of A doubled into a
fragment nobody reads. C3 rejects such a kernel (NT320: a CB without a consumer) unless A1a
remove-dead-buffers has removed them first; docs/09_adding_a_stage.md builds A1a on it.
"""
import numpy as np

import nanott.language as T


@T.prim_func
def add_with_leftovers(A: T.Tensor((128, 128), "bfloat16"), B: T.Tensor((128, 128), "bfloat16"),
                       C: T.Tensor((128, 128), "float")):
    with T.Kernel(2, 4, threads=128) as (bx, by):
        A_s = T.alloc_shared((32, 64), "bfloat16")
        B_s = T.alloc_shared((32, 64), "bfloat16")
        never = T.alloc_shared((32, 64), "bfloat16")          # allocated, never touched
        kept = T.alloc_shared((32, 64), "bfloat16")           # copied into, then into `sink` ...
        sink = T.alloc_fragment((32, 64), "float")            # ... which nobody reads
        C_l = T.alloc_fragment((32, 64), "float")
        T.copy(A[by * 32, bx * 64], A_s)
        T.copy(B[by * 32, bx * 64], B_s)
        T.copy(A[by * 32, bx * 64], kept)
        for i, j in T.Parallel(32, 64):
            sink[i, j] = kept[i, j] * 2.0
        for i, j in T.Parallel(32, 64):
            C_l[i, j] = A_s[i, j] + B_s[i, j]
        T.copy(C_l, C[by * 32, bx * 64])


def reference(A, B):
    return A.astype(np.float32) + B.astype(np.float32)

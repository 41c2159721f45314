"""Row softmax, as TileLang writes it: B[i, :] = exp(A[i, :] - max A[i, :]) / sum of those.

One block of rows per grid block, whole rows at once. The row max starts at -infinity and is
reduced into with clear=False; each row's max is broadcast over the row (m[i]: one value per row),
exponentiated with exp2 and a log2(e) scale, as TileLang's kernels do; the row sums come from a
second reduction; the division broadcasts them again. m and s are (block_M,) fragments: vectors,
which lie down column 0 of their tiles (REDUCE_ROW writes there, *_bcast_cols reads there).
128 x 128 in blocks of 32 rows: 4 blocks.
"""
import numpy as np

import nanott.language as T

M, N = 128, 128
block_M = 32
LOG2E = 1.4426950408889634


@T.prim_func
def softmax(A: T.Tensor((M, N), "bfloat16"), B: T.Tensor((M, N), "bfloat16")):
    with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
        A_shared = T.alloc_shared((block_M, N), "bfloat16")
        A_local = T.alloc_fragment((block_M, N), "float")
        m = T.alloc_fragment((block_M,), "float")
        s = T.alloc_fragment((block_M,), "float")

        T.copy(A[bx * block_M, 0], A_shared)
        T.copy(A_shared, A_local)
        T.fill(m, -T.infinity("float"))
        T.reduce_max(A_local, m, dim=1, clear=False)
        for i, j in T.Parallel(block_M, N):
            A_local[i, j] = T.exp2((A_local[i, j] - m[i]) * LOG2E)
        T.reduce_sum(A_local, s, dim=1)
        for i, j in T.Parallel(block_M, N):
            A_local[i, j] = A_local[i, j] / s[i]
        T.copy(A_local, B[bx * block_M, 0])


def reference(A):
    """In float64, rounded once to bfloat16."""
    a = A.astype(np.float64)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(A.dtype)

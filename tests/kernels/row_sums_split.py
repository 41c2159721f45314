"""Row sums of a matrix wider than one block, its columns split over a grid dim: each block sums its
32 x 128 piece along the rows and adds those partial row sums into y with T.atomic_add (y starts at
zero, as TileLang's host zeroes it). A row reduction reduced across cores, as the kernel asks."""
import numpy as np

import nanott.language as T

M, N = 64, 1024
bm, bn = 32, 128


@T.prim_func
def row_sums_split(X: T.Tensor((M, N), "float32"), y: T.Tensor((M,), "float32")):
    with T.Kernel(N // bn, M // bm) as (bx, by):
        X_s = T.alloc_shared((bm, bn), "float32")
        s = T.alloc_fragment((bm,), "float32")
        T.copy(X[by * bm, bx * bn], X_s)
        T.reduce_sum(X_s, s, dim=1)
        T.atomic_add(y[by * bm], s)


def reference(X):
    """In float64, rounded once to float32."""
    return X.astype(np.float64).sum(axis=1).astype(np.float32)

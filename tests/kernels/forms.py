"""A kernel exercising the frontend's forms: copy by start index (left-padded to a 3-D tensor), by
slice (with an integer index) and by whole buffer; lets; `range` and `T.serial` loops; a Python
loop unrolled at parse time; `if` on a closure flag; `+=` stores; a one-extent grid bound `as b`.

Z[b, rows] = (1 + 2 * scale * X[b, rows] + (Y[rows] if use_bias)) * 1.0 * 2.0, per block of rows.
"""
import numpy as np

import nanott.language as T

BATCH, M, N = 2, 64, 96
bm = 32


def make(scale, use_bias):
    @T.prim_func
    def forms(
        X: T.Tensor((BATCH, M, N), "float32"),
        Y: T.Tensor((M, N), "bfloat16"),
        Z: T.Tensor((BATCH, M, N), "float32"),
    ):
        with T.Kernel(BATCH * T.ceildiv(M, bm), threads=64) as b:
            batch = b // (M // bm)
            row = b % (M // bm) * bm
            X_s = T.alloc_shared((bm, N), "float32")
            Y_s = T.alloc_shared((bm, N), "bfloat16")
            acc = T.alloc_fragment((bm, N), "float")
            T.copy(X[batch, row, 0], X_s)
            T.copy(Y[row:row + bm, :], Y_s)
            T.fill(acc, 1)
            for r in range(2):
                for i, j in T.Parallel(bm, N):
                    acc[i, j] += X_s[i, j] * scale
            if use_bias:
                for i, j in T.Parallel(bm, N):
                    acc[i, j] = acc[i, j] + Y_s[i, j]
            for c in [1.0, 2.0]:
                for i, j in T.Parallel(bm, N):
                    acc[i, j] = acc[i, j] * c
            for s in T.serial(1):
                T.copy(acc, Z[batch, row:row + bm, 0:N])

    return forms


forms = make(0.5, True)


def reference(X, Y):
    bias = Y.astype(np.float32)[None]
    return (1 + 2 * np.float32(0.5) * X + bias) * np.float32(2.0)

"""RMS norm with one row per grid block, as TileLang's norm kernels give it (`blk_m = 1`):
Y[r, :] = X[r, :] / sqrt(mean(X[r, :]^2) + eps) * gamma, bfloat16 in and out, float32 inside.

A block of one row is 1/32 of a tile. P0a finds the rows independent (bx only starts one-row
copies, every one-row buffer holds that row, the reduction runs along it, T.Parallel's i picks the
row and nothing else) and merges 32 consecutive blocks into one of 32 rows: the grid of 100 blocks
becomes 4, the last one running past row 100 into masked rows. gamma (a vector read whole by every
block) is broadcast along the columns, `G_smem[j]`. 100 x 256.
"""
import numpy as np

import nanott.language as T

M, D = 100, 256
blk_m = 1
eps = 1e-6


@T.prim_func
def rms_norm_rows(X: T.Tensor((M, D), "bfloat16"), gamma: T.Tensor((D,), "bfloat16"),
                  Y: T.Tensor((M, D), "bfloat16")):
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        X_smem = T.alloc_shared((blk_m, D), "bfloat16")
        G_smem = T.alloc_shared((D,), "bfloat16")
        x = T.alloc_fragment((blk_m, D), "float")
        sq = T.alloc_fragment((blk_m, D), "float")
        y = T.alloc_fragment((blk_m, D), "bfloat16")
        sumsq = T.alloc_fragment((blk_m,), "float")

        T.copy(X[bx * blk_m, 0], X_smem)
        T.copy(gamma, G_smem)
        for i, j in T.Parallel(blk_m, D):
            x[i, j] = T.Cast("float", X_smem[i, j])
        for i, j in T.Parallel(blk_m, D):
            sq[i, j] = x[i, j] * x[i, j]
        T.reduce_sum(sq, sumsq, dim=1)
        for i in T.Parallel(blk_m):
            sumsq[i] = T.rsqrt(sumsq[i] / D + eps)
        for i, j in T.Parallel(blk_m, D):
            y[i, j] = x[i, j] * sumsq[i] * G_smem[j]
        T.copy(y, Y[bx * blk_m, 0])


def reference(X, gamma):
    """In float64, rounded once to bfloat16."""
    x = X.astype(np.float64)
    return (x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + eps) * gamma.astype(np.float64)).astype(X.dtype)

"""Layer norm with one row per grid block, as TileLang's norm/layernorm.py writes its forward pass:
Y[r, :] = (X[r, :] - mean_r) * rstd_r * gamma + beta, rstd_r = 1 / sqrt(E[X[r, :]^2] - mean_r^2 + eps),
and the row statistics written to DRAM one element per row, inside the T.Parallel that makes them:
`Mean[bx * blk_m + i] = mean_row[i]`.

P0b stages those writes: the loop stores into a new fragment (Mean_frag), copied out to Mean after
it. Then P0a finds the rows independent and merges 32 blocks of one row into one block of 32 rows,
copies included, so each core writes 32 statistics with one tile write. gamma and beta (1-D, read
whole) are row vectors. bfloat16 X, gamma, beta and Y; float32 statistics. 100 x 256: 4 blocks.
"""
import numpy as np

import nanott.language as T

N, D = 100, 256
blk_m = 1
eps = 1e-5


@T.prim_func
def layer_norm_rows(
    X: T.Tensor((N, D), "bfloat16"),
    gamma: T.Tensor((D,), "bfloat16"),
    beta: T.Tensor((D,), "bfloat16"),
    Y: T.Tensor((N, D), "bfloat16"),
    Mean: T.Tensor((N,), "float"),
    Rstd: T.Tensor((N,), "float"),
):
    with T.Kernel(T.ceildiv(N, blk_m), threads=128) as bx:
        X_smem = T.alloc_shared((blk_m, D), "bfloat16")
        G_smem = T.alloc_shared((D,), "bfloat16")
        B_smem = T.alloc_shared((D,), "bfloat16")
        X_local = T.alloc_fragment((blk_m, D), "float")
        X_sq = T.alloc_fragment((blk_m, D), "float")
        sum_row = T.alloc_fragment((blk_m,), "float")
        sumsq_row = T.alloc_fragment((blk_m,), "float")
        mean_row = T.alloc_fragment((blk_m,), "float")
        rstd_row = T.alloc_fragment((blk_m,), "float")

        T.copy(X[bx * blk_m, 0], X_smem)
        T.copy(gamma, G_smem)
        T.copy(beta, B_smem)
        for i, j in T.Parallel(blk_m, D):
            X_local[i, j] = T.Cast("float", X_smem[i, j])
        for i, j in T.Parallel(blk_m, D):
            X_sq[i, j] = X_local[i, j] * X_local[i, j]
        T.reduce_sum(X_local, sum_row, dim=1)
        T.reduce_sum(X_sq, sumsq_row, dim=1)
        for i in T.Parallel(blk_m):
            mean_row[i] = sum_row[i] / D
            rstd_row[i] = T.rsqrt(sumsq_row[i] / D - mean_row[i] * mean_row[i] + eps)
            Mean[bx * blk_m + i] = mean_row[i]
            Rstd[bx * blk_m + i] = rstd_row[i]
        for i, j in T.Parallel(blk_m, D):
            norm = (X_local[i, j] - mean_row[i]) * rstd_row[i]
            X_smem[i, j] = T.Cast("bfloat16", norm * T.Cast("float", G_smem[j]) + T.Cast("float", B_smem[j]))
        T.copy(X_smem, Y[bx * blk_m, 0])


def reference(X, gamma, beta):
    """In float64; Y rounded once to bfloat16, the statistics to float32."""
    x = X.astype(np.float64)
    mean = x.mean(axis=1)
    rstd = 1 / np.sqrt((x * x).mean(axis=1) - mean * mean + eps)
    y = (x - mean[:, None]) * rstd[:, None] * gamma.astype(np.float64) + beta.astype(np.float64)
    return y.astype(X.dtype), mean.astype(np.float32), rstd.astype(np.float32)

"""Layer norm, as TileLang's example writes its forward pass:
Y[i, :] = (X[i, :] - mean_i) * rstd_i * gamma + beta, with rstd_i = 1 / sqrt(var_i + eps),
and the per-row mean and rstd written out too.

Blocks of 32 whole rows. Two row reductions (T.reduce_sum along dim 1) give the sum and the sum of
squared deviations; 1-D T.Parallel loops turn them into mean and rstd (column vectors: one value per
row). gamma and beta are 1-D tensors read whole into row vectors (one value per column, used as
g[j], b[j]); mean and rstd go out to 1-D tensors, which lie in DRAM as rows, so C2 transposes
them on the way out. bfloat16 X, gamma, beta and Y; float32 statistics. 128 x 256: 4 blocks.
"""
import numpy as np

import nanott.language as T

M, N = 128, 256
blk_m = 32
eps = 1e-5


@T.prim_func
def layer_norm(
    X: T.Tensor((M, N), "bfloat16"),
    gamma: T.Tensor((N,), "bfloat16"),
    beta: T.Tensor((N,), "bfloat16"),
    Y: T.Tensor((M, N), "bfloat16"),
    Mean: T.Tensor((M,), "float32"),
    Rstd: T.Tensor((M,), "float32"),
):
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        X_shared = T.alloc_shared((blk_m, N), "bfloat16")
        g_shared = T.alloc_shared((N,), "bfloat16")
        b_shared = T.alloc_shared((N,), "bfloat16")
        x = T.alloc_fragment((blk_m, N), "float32")
        sq = T.alloc_fragment((blk_m, N), "float32")
        y = T.alloc_fragment((blk_m, N), "float32")
        mean = T.alloc_fragment((blk_m,), "float32")
        rstd = T.alloc_fragment((blk_m,), "float32")

        T.copy(X[bx * blk_m, 0], X_shared)
        T.copy(gamma, g_shared)
        T.copy(beta, b_shared)
        T.copy(X_shared, x)
        T.reduce_sum(x, mean, dim=1)
        for i in T.Parallel(blk_m):
            mean[i] = mean[i] / N
        for i, j in T.Parallel(blk_m, N):
            x[i, j] = x[i, j] - mean[i]
        for i, j in T.Parallel(blk_m, N):
            sq[i, j] = x[i, j] * x[i, j]
        T.reduce_sum(sq, rstd, dim=1)
        for i in T.Parallel(blk_m):
            rstd[i] = T.rsqrt(rstd[i] / N + eps)
        for i, j in T.Parallel(blk_m, N):
            y[i, j] = x[i, j] * rstd[i] * g_shared[j] + b_shared[j]
        T.copy(y, Y[bx * blk_m, 0])
        T.copy(mean, Mean[bx * blk_m])
        T.copy(rstd, Rstd[bx * blk_m])


def reference(X, gamma, beta):
    """In float64; Y rounded once to bfloat16, the statistics to float32."""
    x = X.astype(np.float64)
    mean = x.mean(axis=1)
    rstd = 1 / np.sqrt(((x - mean[:, None]) ** 2).mean(axis=1) + eps)
    y = (x - mean[:, None]) * rstd[:, None] * gamma.astype(np.float64) + beta.astype(np.float64)
    return y.astype(X.dtype), mean.astype(np.float32), rstd.astype(np.float32)

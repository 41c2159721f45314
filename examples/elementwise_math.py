"""Elementwise math inside T.Parallel: a ReLU and a chain of SFPU functions, fused per tile.

Y = ReLU(2 X - B), written as TileLang writes it: T.max(x, 0); rounded to bfloat16.
Z = exp2(-|X|) / (1 + sqrt(|B|)) + sigmoid(X) * tanh(B) - log(|X| + 1) * rsqrt(B^2 + 1)
    + min(X, B) * exp(X) / 2, in float32.

Each value becomes one tile program: its operations run one after another on DST tiles between
one tile_regs_acquire and its tile_regs_release (one DST pass per output tile), each SFPU function
behind its own init. 64 x 128 in 32 x 64 blocks: a 2 x 2 grid.
"""
import numpy as np

import nanott.language as T

M, N = 64, 128
block_M, block_N = 32, 64


@T.prim_func
def elementwise_math(
    X: T.Tensor((M, N), "bfloat16"),
    B: T.Tensor((M, N), "bfloat16"),
    Y: T.Tensor((M, N), "bfloat16"),
    Z: T.Tensor((M, N), "float32"),
):
    with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
        X_s = T.alloc_shared((block_M, block_N), "bfloat16")
        B_s = T.alloc_shared((block_M, block_N), "bfloat16")
        Y_l = T.alloc_fragment((block_M, block_N), "float32")
        Z_l = T.alloc_fragment((block_M, block_N), "float32")

        T.copy(X[by * block_M, bx * block_N], X_s)
        T.copy(B[by * block_M, bx * block_N], B_s)
        for i, j in T.Parallel(block_M, block_N):
            Y_l[i, j] = T.max(X_s[i, j] * 2.0 - B_s[i, j], 0)
            Z_l[i, j] = (T.exp2(-T.abs(X_s[i, j])) / (1.0 + T.sqrt(T.abs(B_s[i, j])))
                         + T.sigmoid(X_s[i, j]) * T.tanh(B_s[i, j])
                         - T.log(T.abs(X_s[i, j]) + 1.0) * T.rsqrt(B_s[i, j] * B_s[i, j] + 1.0)
                         + T.min(X_s[i, j], B_s[i, j]) * T.exp(X_s[i, j]) / 2.0)
        T.copy(Y_l, Y[by * block_M, bx * block_N])
        T.copy(Z_l, Z[by * block_M, bx * block_N])


def reference(X, B):
    """Y and Z in float64, rounded once to their dtypes."""
    x, b = X.astype(np.float64), B.astype(np.float64)
    y = np.maximum(2 * x - b, 0)
    z = (np.exp2(-np.abs(x)) / (1 + np.sqrt(np.abs(b))) + np.tanh(b) / (1 + np.exp(-x))
         - np.log(np.abs(x) + 1) / np.sqrt(b * b + 1) + np.minimum(x, b) * np.exp(x) / 2)
    return y.astype(X.dtype), z.astype(np.float32)

"""RMS norm, as TileLang's example writes it: B[i, :] = A[i, :] / sqrt(mean(A[i, :]^2) + eps).

The squares are summed along each row into a (block_M,) vector (T.reduce_sum, dim=1); a 1-D
T.Parallel over that vector turns each sum into 1 / sqrt(sum / N + eps) (rsqrt); a 2-D T.Parallel
multiplies every row by its value (`A_local[i, j] *= A_powsum[i]`: the FPU's mul_tiles_bcast_cols).
128 x 256 in blocks of 32 rows: 4 blocks of 32 x 256.
"""
import numpy as np

import nanott.language as T

M, N = 128, 256
blk_m = 32
eps = 1e-6


@T.prim_func
def rms_norm(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
    with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
        A_shared = T.alloc_shared((blk_m, N), "float32")
        A_pow_local = T.alloc_fragment((blk_m, N), "float32")
        A_local = T.alloc_fragment((blk_m, N), "float32")
        A_powsum = T.alloc_fragment((blk_m,), "float32")

        T.copy(A[bx * blk_m:(bx + 1) * blk_m, :], A_shared)
        T.copy(A_shared, A_local)
        for i, j in T.Parallel(blk_m, N):
            A_pow_local[i, j] = A_local[i, j] * A_local[i, j]
        T.reduce_sum(A_pow_local, A_powsum, dim=1)
        for i in T.Parallel(blk_m):
            A_powsum[i] = T.rsqrt(A_powsum[i] / N + eps)
        for i, j in T.Parallel(blk_m, N):
            A_local[i, j] *= A_powsum[i]
        T.copy(A_local, B[bx * blk_m:(bx + 1) * blk_m, :])


def reference(A):
    """In float64, rounded once to float32."""
    a = A.astype(np.float64)
    return (a / np.sqrt(np.mean(a * a, axis=1, keepdims=True) + eps)).astype(np.float32)

"""Integers and a mask: y = (x * 3 - 2) where the mask is set, else 0, for int8 x, a bool mask and
an int32 y. Tensix formats: int8 is Int8 and bool is UInt8 (a byte 0 or 1; there is no 1-bit format),
1024 B per tile; int32 is Int32, 4096 B. The arithmetic runs in float32 (as the SFPU's) and is exact
for these small integers; the store into y truncates toward zero, as C's cast does.

M x N = 64 x 96 in 32 x 32 blocks: a 3 x 2 grid.
"""
import numpy as np

import nanott.language as T

M, N, block = 64, 96, 32


@T.prim_func
def masked_int8(
    X: T.Tensor((M, N), T.int8),
    Mask: T.Tensor((M, N), T.bool),
    Y: T.Tensor((M, N), T.int32),
):
    with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block)) as (bx, by):
        x_s = T.alloc_shared((block, block), T.int8)
        m_s = T.alloc_shared((block, block), T.bool)
        y_l = T.alloc_fragment((block, block), T.int32)
        T.copy(X[by * block, bx * block], x_s)
        T.copy(Mask[by * block, bx * block], m_s)
        for i, j in T.Parallel(block, block):
            y_l[i, j] = (x_s[i, j] * 3 - 2) * m_s[i, j]
        T.copy(y_l, Y[by * block, bx * block])


def reference(X, Mask):
    """Exact integer arithmetic in int64, then int32."""
    return ((X.astype(np.int64) * 3 - 2) * Mask).astype(np.int32)

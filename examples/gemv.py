"""GEMV as a product and a row reduction: y = A @ x, A of N x K, x and y vectors.

For each block of 64 rows of A, the K loop copies a 64 x 64 tile of A and 64 elements of x (a 1-D
tensor: in DRAM it lies along row 0 of a row of tiles, A1), multiplies every row of the tile by x
(`A_shared[i, j] * x_shared[j]`: x is one value per column, the FPU's mul_tiles_bcast_rows), and
adds each row's sum into y_local (T.reduce_sum along dim 1, clear=False). y_local is a column
vector (REDUCE_ROW writes column 0 of its tiles); the copy to the 1-D tensor y transposes it into
the row DRAM holds (C2). N x K = 256 x 192: 4 blocks of rows, 3 steps along K.
"""
import numpy as np

import nanott.language as T

N, K = 256, 192
block_N, block_K = 64, 64


@T.prim_func
def gemv(A: T.Tensor((N, K), "bfloat16"), x: T.Tensor((K,), "bfloat16"), y: T.Tensor((N,), "float32")):
    with T.Kernel(T.ceildiv(N, block_N), threads=128) as bx:
        A_shared = T.alloc_shared((block_N, block_K), "bfloat16")
        x_shared = T.alloc_shared((block_K,), "bfloat16")
        product = T.alloc_fragment((block_N, block_K), "float32")
        y_local = T.alloc_fragment((block_N,), "float32")

        T.clear(y_local)
        for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
            T.copy(x[k * block_K], x_shared)
            T.copy(A[bx * block_N, k * block_K], A_shared)
            for i, j in T.Parallel(block_N, block_K):
                product[i, j] = A_shared[i, j] * x_shared[j]
            T.reduce_sum(product, y_local, dim=1, clear=False)
        T.copy(y_local, y[bx * block_N])


def reference(A, x):
    """In float64, rounded once to float32."""
    return (A.astype(np.float64) @ x.astype(np.float64)).astype(np.float32)

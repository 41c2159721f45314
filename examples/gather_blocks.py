"""Gather by index: block b of Y's rows is the block of X's rows that Index[b] names, doubled; the
data-dependent load alone (examples/blocksparse_attention.py puts it inside flash attention), as a
routed-expert kernel gathers its tokens' rows or a grouped cast reads its rows' offsets.

`row = Index[bx]` reads an element of a DRAM tensor: C1 makes it an Element (the tile of Index that
holds it, through a one-page scratch CB), D3 its protocol in the reader, and the copy of X starts
at `row * 32`. X 128 x 64 (4 blocks of 32 rows), Y 64 x 64 (2 blocks): 2 grid blocks. bfloat16.
"""
import numpy as np

import nanott.language as T

n_src, n_out, block_M, N = 4, 2, 32, 64


@T.prim_func
def gather_blocks(
    X: T.Tensor((n_src * block_M, N), "bfloat16"),
    Index: T.Tensor((n_out,), "int32"),
    Y: T.Tensor((n_out * block_M, N), "bfloat16"),
):
    with T.Kernel(n_out, threads=128) as bx:
        X_shared = T.alloc_shared((block_M, N), "bfloat16")
        y = T.alloc_fragment((block_M, N), "float")
        row = Index[bx]
        T.copy(X[row * block_M:(row + 1) * block_M, :], X_shared)
        for i, j in T.Parallel(block_M, N):
            y[i, j] = X_shared[i, j] * 2.0
        T.copy(y, Y[bx * block_M, 0])


def reference(X, Index):
    """Y's block b = 2 * X's block Index[b], in float64, rounded once to bfloat16."""
    blocks = X.astype(np.float64).reshape(n_src, block_M, N)
    return (2 * blocks[Index]).reshape(n_out * block_M, N).astype(X.dtype)

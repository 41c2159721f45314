"""A ragged batch of sequences, as TileLang's varlen attention stores it: the tokens of all
sequences packed one after another in a [tokens, heads, dim] tensor, sequence b's rows from
cu_seqlens[b] to cu_seqlens[b + 1]. Each token's head vector is RMS-normalised:
Y[t, h, :] = X[t, h, :] / sqrt(mean(X[t, h, :]^2) + eps), float32.

Grid (bx, by, bz) = (row block, head, sequence), as varlen attention's. A block reads 32 rows from
`start + bx * 32`, a row read from DRAM (cu_seqlens), no multiple of 32, and ends with the store
varlen attention ends with: `if bx * 32 + i < seqlen: Y[start + bx * 32 + i, by, d] = y[i, d]`, the
rows its sequence has and no others. The reader gathers the block's rows one by one (zeros past the
tokens), and the writer, reading start and seqlen from DRAM itself, writes the rows the condition
keeps one by one (noc_async_write_row), leaving the others as they were: the rows of other blocks,
and those no sequence covers. `reference` does the same with NumPy: every row a sequence covers (at
most 96 per sequence, the grid's reach), normalised; every other row of Y as it came in.

192 tokens, 2 heads of 64, 3 sequences of at most 96 tokens: a 3 x 2 x 3 grid. Random inputs (`nanott
run`) draw cu_seqlens from the range that keeps every block inside X (nanott/index_inputs.py),
unsorted: a sequence of negative length has no rows.
"""
import numpy as np

import nanott.language as T

UQ, H, D, B, MAX_SEQLEN = 192, 2, 64, 3, 96
eps = 1e-6


@T.prim_func
def varlen_rows(X: T.Tensor((UQ, H, D), "float32"), cu_seqlens: T.Tensor((B + 1,), "int32"),
                Y: T.Tensor((UQ, H, D), "float32")):
    with T.Kernel(T.ceildiv(MAX_SEQLEN, 32), H, B, threads=128) as (bx, by, bz):
        x = T.alloc_shared((32, D), "float32")
        sq = T.alloc_fragment((32, D), "float32")
        ss = T.alloc_fragment((32,), "float32")
        y = T.alloc_fragment((32, D), "float32")
        start = cu_seqlens[bz]
        seqlen = cu_seqlens[bz + 1] - start
        T.copy(X[start + bx * 32:start + bx * 32 + 32, by, :], x)
        for i, j in T.Parallel(32, D):
            sq[i, j] = x[i, j] * x[i, j]
        T.reduce_sum(sq, ss, dim=1)
        for i, j in T.Parallel(32, D):
            y[i, j] = x[i, j] * T.rsqrt(ss[i] / D + eps)
        for i, d in T.Parallel(32, D):
            if bx * 32 + i < seqlen:
                Y[start + bx * 32 + i, by, d] = y[i, d]


def reference(X, cu_seqlens, Y):
    """In float64: the rows each sequence covers normalised (a row two sequences cover gets the same
    value from both), every other row of Y kept."""
    x, out = X.astype(np.float64), Y.astype(np.float64).copy()
    for b in range(B):
        rows = slice(cu_seqlens[b], cu_seqlens[b] + max(0, min(cu_seqlens[b + 1] - cu_seqlens[b], MAX_SEQLEN)))
        out[rows] = x[rows] / np.sqrt(np.mean(x[rows] ** 2, axis=-1, keepdims=True) + eps)
    return out.astype(np.float32)

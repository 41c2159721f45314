"""Top-k of each row, as TileLang's example_topk writes it (eager style): the `topk` largest logits
of every row and their column indices, by repeated maxima.

Per round k: the row maxima (`T.reduce_max`); the column of each row's maximum, found by a select
on data, `if_then_else(max_val[i] == logits_frag[i, j], j, -1)` into an int32 block, and a row max
of it; the maximum masked out with a second select; the value and the index written into column k
of the two [M, topk] outputs.

Ties: where a row holds its maximum twice, the kernel reports the larger column and masks both, so
the next round skips the second; `reference` sorts by (value, column) descending and agrees with
that whenever the top-k values of a row are distinct, which random float32 inputs are (the tests
check it for the seeds they use).

M x N = 96 x 64 logits in float32, top 4, blocks of 32 rows: a grid of 3 blocks.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit
def tl_topk(logits, topk, blk_m, threads=128):
    M, N = T.const("M, N")
    dtype = T.float32

    logits: T.Tensor([M, N], dtype)
    topk_gates = T.empty([M, topk], dtype)
    topk_indices = T.empty([M, topk], T.int32)

    with T.Kernel(T.ceildiv(M, blk_m), threads=threads) as bx:
        logits_frag = T.alloc_fragment([blk_m, N], dtype=dtype)
        max_val = T.alloc_fragment([blk_m], dtype=dtype)
        expand_max_idx = T.alloc_fragment([blk_m, N], T.int32)
        max_idx = T.alloc_fragment([blk_m], T.int32)

        T.copy(logits[bx * blk_m, 0], logits_frag)

        for k in T.serial(topk):
            T.fill(expand_max_idx, -1)
            T.reduce_max(logits_frag, max_val, dim=1, clear=True)

            for i, j in T.Parallel(blk_m, N):
                expand_max_idx[i, j] = T.if_then_else(max_val[i] == logits_frag[i, j], j, expand_max_idx[i, j])

            T.reduce_max(expand_max_idx, max_idx, dim=1, clear=True)

            for i, j in T.Parallel(blk_m, N):
                logits_frag[i, j] = T.if_then_else(max_val[i] == logits_frag[i, j], -10000.0, logits_frag[i, j])

            for i in T.Parallel(blk_m):
                topk_gates[bx * blk_m + i, k] = max_val[i]
                topk_indices[bx * blk_m + i, k] = max_idx[i]

    return topk_gates, topk_indices


topk = tl_topk.compile(M=96, N=64, topk=4, blk_m=32)


def reference(logits):
    """The 4 largest of each row, largest first, and their columns: a sort by (value, column),
    both descending (np.lexsort), so a tie reports its larger column first."""
    cols = np.arange(logits.shape[1])
    order = np.lexsort((-np.broadcast_to(cols, logits.shape), -logits), axis=1)[:, :4]
    return np.take_along_axis(logits, order, axis=1), order.astype(np.int32)

"""Causal flash attention forward, as TileLang's example_mha_fwd_bhsd writes it: O = softmax(Q K^T /
sqrt(d) + mask) V per batch and head, where query q sees only keys k <= q.

Q, K, V and O are [batch, heads, seq, dim] (BHSD). A block of 64 queries (bx) walks the blocks of 32
keys up to its diagonal only: the loop's bound, min(ceildiv(seq, 32), ceildiv((bx + 1) * 64, 32)),
depends on the block index and is computed when the loop starts, by every kernel that runs it.
Before each S = Q K^T, acc_s is set to the causal mask, T.if_then_else(bx * 64 + i >= k * 32 + j,
0, -inf), and the gemm accumulates onto it. That mask is a value of indices alone (no buffer in
it): C2 makes it a block the reader generates element by element into a CB of its own, which
compute copies into acc_s; -inf then reaches the max, exp2 turns it into 0. The online softmax is
flash_attention.py's. batch 1, heads 2, seq 128, dim 64: 4 grid blocks of 64 queries.
"""
import numpy as np

import nanott.language as T

batch, heads, seq_len, dim = 1, 2, 128, 64
block_M, block_N = 64, 32
scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2
shape = (batch, heads, seq_len, dim)


@T.prim_func
def flash_attention_causal(
    Q: T.Tensor(shape, "bfloat16"),
    K: T.Tensor(shape, "bfloat16"),
    V: T.Tensor(shape, "bfloat16"),
    Output: T.Tensor(shape, "bfloat16"),
):
    with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
        Q_shared = T.alloc_shared((block_M, dim), "bfloat16")
        K_shared = T.alloc_shared((block_N, dim), "bfloat16")
        V_shared = T.alloc_shared((block_N, dim), "bfloat16")
        acc_s = T.alloc_fragment((block_M, block_N), "float")
        acc_s_cast = T.alloc_fragment((block_M, block_N), "bfloat16")
        acc_o = T.alloc_fragment((block_M, dim), "float")
        scores_max = T.alloc_fragment((block_M,), "float")
        scores_max_prev = T.alloc_fragment((block_M,), "float")
        scores_scale = T.alloc_fragment((block_M,), "float")
        scores_sum = T.alloc_fragment((block_M,), "float")
        logsum = T.alloc_fragment((block_M,), "float")

        T.copy(Q[bz, by, bx * block_M:(bx + 1) * block_M, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity("float"))
        loop_range = T.min(T.ceildiv(seq_len, block_N), T.ceildiv((bx + 1) * block_M, block_N))
        for k in T.Pipelined(loop_range, num_stages=1):
            T.copy(K[bz, by, k * block_N:(k + 1) * block_N, :], K_shared)
            for i, j in T.Parallel(block_M, block_N):
                acc_s[i, j] = T.if_then_else(bx * block_M + i >= k * block_N + j, 0,
                                             -T.infinity(acc_s.dtype))
            T.gemm(Q_shared, K_shared, acc_s, transpose_B=True)
            T.copy(scores_max, scores_max_prev)
            T.reduce_max(acc_s, scores_max, dim=1, clear=False)
            for i in T.Parallel(block_M):
                scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] *= scores_scale[i]
            for i, j in T.Parallel(block_M, block_N):
                acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
            T.reduce_sum(acc_s, scores_sum, dim=1)
            for i in T.Parallel(block_M):
                logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
            T.copy(acc_s, acc_s_cast)
            T.copy(V[bz, by, k * block_N:(k + 1) * block_N, :], V_shared)
            T.gemm(acc_s_cast, V_shared, acc_o)
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        T.copy(acc_o, Output[bz, by, bx * block_M:(bx + 1) * block_M, :])


def reference(Q, K, V):
    """softmax(Q K^T / sqrt(dim)) V with keys after the query masked out, in float64, rounded once."""
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim)
    s = np.where(np.tril(np.ones((seq_len, seq_len), dtype=bool)), s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return ((p / p.sum(axis=-1, keepdims=True)) @ v).astype(Q.dtype)

"""Flash attention forward, as TileLang's example_mha_fwd_bshd writes it: O = softmax(Q K^T / sqrt(d)) V
per batch and head, one block of 64 queries at a time, with an online softmax over blocks of 64 keys.

Q, K, V and O are [batch, seq, heads, dim]. Copies take slices such as Q[bz, bx * 64:(bx + 1) * 64,
by, :], whose batch and head indices are dims of extent 1; the copies move (seq, dim) blocks, so A1
stores each tensor with those two dims last (BHSD) and the host permutes it as it tilizes it. The
3-D grid runs over (query blocks, heads, batch). For each block of keys: S = Q K^T (transpose_B),
the running row max m grows (reduce_max, clear=False), the old accumulator and row sums are
rescaled by exp2((m_old - m) * scale), P = exp2(S * scale - m * scale), the row sums gain P's, and
acc += P V with P, cast to bfloat16, as the matmul's A (a fragment). Q_shared is read once and held
by every step of the loop (C3's release). At the end O = acc / row sums.
batch 2, seq 128, heads 2, dim 64: 8 grid blocks, 2 steps along the keys. bfloat16 in and out.
"""
import numpy as np

import nanott.language as T

batch, seq_len, heads, dim = 2, 128, 2, 64
block_M, block_N = 64, 64
scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2
shape = (batch, seq_len, heads, dim)


@T.prim_func
def flash_attention(
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

        T.copy(Q[bz, bx * block_M:(bx + 1) * block_M, by, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity("float"))
        for k in T.Pipelined(T.ceildiv(seq_len, block_N), num_stages=1):
            T.copy(K[bz, k * block_N:(k + 1) * block_N, by, :], K_shared)
            T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, clear_accum=True)
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
            T.copy(V[bz, k * block_N:(k + 1) * block_N, by, :], V_shared)
            T.gemm(acc_s_cast, V_shared, acc_o)
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        T.copy(acc_o, Output[bz, bx * block_M:(bx + 1) * block_M, by, :])


def reference(Q, K, V):
    """softmax(Q K^T / sqrt(dim)) V per batch and head, in float64, rounded once to bfloat16."""
    q, k, v = (x.astype(np.float64).transpose(0, 2, 1, 3) for x in (Q, K, V))     # BHSD
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    o = (p / p.sum(axis=-1, keepdims=True)) @ v
    return o.transpose(0, 2, 1, 3).astype(Q.dtype)

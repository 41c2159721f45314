"""Grouped-query attention forward, causal, in the factory style of TileLang's example_gqa_fwd_bshd:
`heads` query heads share `heads // groups` key/value heads, so query head `by` reads K and V head
`by // groups`. Q and O are [batch, seq, heads, dim], K and V [batch, seq, heads // groups, dim]
(BSHD). The mask is written with named temporaries, as TileLang's files write it (`q_idx = bx *
block_M + i`, `k_idx = k * block_N + j` inside the T.Parallel: C2 puts them in place before it makes
the mask a block the reader generates), the running max restarts at -inf before each reduce_max
(clear=False) and then takes the old max back in with T.max. The key loop stops at the diagonal.
batch 1, seq 128, heads 4 in 2 groups, dim 64, blocks of 64 queries and 64 keys: 8 grid blocks.
"""
import numpy as np

import nanott.language as T


def gqa_forward(batch, heads, seq_len, dim, groups, block_M=64, block_N=64, num_stages=1):
    scale = (1.0 / dim) ** 0.5 * 1.44269504         # log2(e) folded in, for exp2
    q_shape = (batch, seq_len, heads, dim)
    kv_shape = (batch, seq_len, heads // groups, dim)
    dtype, accum = T.bfloat16, T.float32

    @T.prim_func
    def gqa_causal(Q: T.Tensor(q_shape, dtype), K: T.Tensor(kv_shape, dtype), V: T.Tensor(kv_shape, dtype),
                   Output: T.Tensor(q_shape, dtype)):
        with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
            Q_shared = T.alloc_shared((block_M, dim), dtype)
            K_shared = T.alloc_shared((block_N, dim), dtype)
            V_shared = T.alloc_shared((block_N, dim), dtype)
            acc_s = T.alloc_fragment((block_M, block_N), accum)
            acc_s_cast = T.alloc_fragment((block_M, block_N), dtype)
            acc_o = T.alloc_fragment((block_M, dim), accum)
            m = T.alloc_fragment((block_M,), accum)
            m_prev = T.alloc_fragment((block_M,), accum)
            rescale = T.alloc_fragment((block_M,), accum)
            row_sum = T.alloc_fragment((block_M,), accum)
            denom = T.alloc_fragment((block_M,), accum)

            T.copy(Q[bz, bx * block_M:(bx + 1) * block_M, by, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(denom, 0)
            T.fill(m, -T.infinity(accum))
            steps = T.min(T.ceildiv(seq_len, block_N), T.ceildiv((bx + 1) * block_M, block_N))
            for k in T.Pipelined(steps, num_stages=num_stages):
                T.copy(K[bz, k * block_N:(k + 1) * block_N, by // groups, :], K_shared)
                for i, j in T.Parallel(block_M, block_N):
                    q_idx = bx * block_M + i
                    k_idx = k * block_N + j
                    acc_s[i, j] = T.if_then_else(q_idx >= k_idx, 0, -T.infinity(acc_s.dtype))
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
                T.copy(m, m_prev)
                T.fill(m, -T.infinity(accum))
                T.reduce_max(acc_s, m, dim=1, clear=False)
                for i in T.Parallel(block_M):
                    m[i] = T.max(m[i], m_prev[i])
                for i in T.Parallel(block_M):
                    rescale[i] = T.exp2(m_prev[i] * scale - m[i] * scale)
                for i, j in T.Parallel(block_M, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * scale - m[i] * scale)
                T.reduce_sum(acc_s, row_sum, dim=1)
                for i in T.Parallel(block_M):
                    denom[i] = denom[i] * rescale[i] + row_sum[i]
                T.copy(acc_s, acc_s_cast)
                for i, j in T.Parallel(block_M, dim):
                    acc_o[i, j] *= rescale[i]
                T.copy(V[bz, k * block_N:(k + 1) * block_N, by // groups, :], V_shared)
                T.gemm(acc_s_cast, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] /= denom[i]
            T.copy(acc_o, Output[bz, bx * block_M:(bx + 1) * block_M, by, :])

    return gqa_causal


batch, seq_len, heads, dim, groups = 1, 128, 4, 64, 2
gqa_causal = gqa_forward(batch, heads, seq_len, dim, groups)


def reference(Q, K, V):
    """Causal softmax(Q K^T / sqrt(dim)) V, each query head against its group's K/V head, in float64."""
    q, k, v = (x.astype(np.float64).transpose(0, 2, 1, 3) for x in (Q, K, V))    # BHSD
    k, v = (np.repeat(x, groups, axis=1) for x in (k, v))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim)
    s = np.where(np.tril(np.ones((seq_len, seq_len), dtype=bool)), s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return ((p / p.sum(axis=-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).astype(Q.dtype)

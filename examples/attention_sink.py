"""Attention with a sink, as TileLang's attention-sink example writes its forward pass: each head h
has one learned logit Sinks[h] that joins every row's softmax without a value of its own, so
O = sum_j exp(s_j) V_j / (sum_j exp(s_j) + exp(Sinks[h])) with s = Q K^T / sqrt(dim).

The kernel is flash attention (BHSD, an online softmax over blocks of 64 keys) plus one line at the
start, `sinks[i] = Sinks[by]`: an element of a DRAM tensor read inside T.Parallel, one value for the
whole block. P0b stages it: the reader copies the 32-element tile row holding Sinks[by], compute
picks the element out (a mask that is 1 at column by % 32, made by the reader; a multiply; a row
sum) into a column vector, and the loop reads that. At the end the sink joins the row sums,
exp2(sink * log2(e) - m * scale), before O = acc / row sums.
batch 1, heads 2, seq 128, dim 64: 4 grid blocks, 2 steps along the keys. float16 in and out.
"""
import numpy as np

import nanott.language as T

batch, heads, seq_len, dim = 1, 2, 128, 64
block_M, block_N = 64, 64
scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2
shape = (batch, heads, seq_len, dim)


@T.prim_func
def attention_sink(
    Q: T.Tensor(shape, "float16"),
    K: T.Tensor(shape, "float16"),
    V: T.Tensor(shape, "float16"),
    Sinks: T.Tensor((heads,), "float16"),
    Output: T.Tensor(shape, "float16"),
):
    with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
        Q_shared = T.alloc_shared((block_M, dim), "float16")
        K_shared = T.alloc_shared((block_N, dim), "float16")
        V_shared = T.alloc_shared((block_N, dim), "float16")
        acc_s = T.alloc_fragment((block_M, block_N), "float")
        acc_s_cast = T.alloc_fragment((block_M, block_N), "float16")
        acc_o = T.alloc_fragment((block_M, dim), "float")
        scores_max = T.alloc_fragment((block_M,), "float")
        scores_max_prev = T.alloc_fragment((block_M,), "float")
        scores_scale = T.alloc_fragment((block_M,), "float")
        scores_sum = T.alloc_fragment((block_M,), "float")
        logsum = T.alloc_fragment((block_M,), "float")
        sinks = T.alloc_fragment((block_M,), "float16")

        T.copy(Q[bz, by, bx * block_M:(bx + 1) * block_M, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity("float"))
        for i in T.Parallel(block_M):
            sinks[i] = Sinks[by]
        for k in T.Pipelined(T.ceildiv(seq_len, block_N), num_stages=1):
            T.copy(K[bz, by, k * block_N:(k + 1) * block_N, :], K_shared)
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
            T.copy(V[bz, by, k * block_N:(k + 1) * block_N, :], V_shared)
            T.gemm(acc_s_cast, V_shared, acc_o)
        for i in T.Parallel(block_M):
            logsum[i] += T.exp2(sinks[i] * 1.44269504 - scores_max[i] * scale)
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        T.copy(acc_o, Output[bz, by, bx * block_M:(bx + 1) * block_M, :])


def reference(Q, K, V, Sinks):
    """The softmax over each row's logits and its head's sink, in float64, rounded once to float16."""
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim)
    sink = np.broadcast_to(Sinks.astype(np.float64)[None, :, None, None], (*s.shape[:3], 1))
    top = np.maximum(s.max(axis=-1, keepdims=True), sink)
    p = np.exp(s - top)
    o = p @ v / (p.sum(axis=-1, keepdims=True) + np.exp(sink - top))
    return o.astype(Q.dtype)

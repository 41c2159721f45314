"""Flash decoding, as TileLang's example_mha_inference writes it: attention whose keys are split
into `num_split` slices, each slice attended by its own grid block (the split), and the slices'
results merged by a second kernel (the combine). Two `with T.Kernel` blocks in one prim_func: a
program of two launches, run one after the other on the same DRAM.

The split, per (query block, batch x head, slice): flash attention over the slice's keys, which
leaves O_s (normalised by the slice's own row sums) in Output_partial and the slice's log-sum-exp
(base 2) lse_s = log2(sum_j 2^(s_j)) in glse. Both are scratch tensors (T.alloc_global): written by
the split, read by the combine, never seen by the host. The combine, per (query block, head,
batch): lse = log2(sum_s 2^(lse_s)), then O = sum_s 2^(lse_s - lse) O_s. TileLang's combine reads
all of glse's slices into one [num_split, block_M] fragment and the split writes a vector into
glse; nanott moves whole 32x32 tiles between DRAM and L1 (a 2 x 64 block is not whole tiles, nor
is a vector), so here glse holds each row's lse repeated over one tile column (lse_cols = 32),
written from a [block_M, 32] block and read back, one slice at a time, with a row max.
batch 1, seq_q 64, seq_kv 256 in 2 slices, heads 2, dim 64, blocks of 64: 4 split blocks and 2
combine blocks. bfloat16 in and out, glse kept in float32.
"""
import numpy as np

import nanott.language as T

batch, heads, seqlen_q, seqlen_kv, dim = 1, 2, 64, 256, 64
num_split, block_M, block_N = 2, 64, 64
scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2
shape_q = (batch, seqlen_q, heads, dim)
shape_kv = (batch, seqlen_kv, heads, dim)
lse_cols = 32                                   # one tile column: the lse of a row, repeated
part_shape = (batch, seqlen_q, heads, num_split, dim)
dtype, accum_dtype = "bfloat16", "float"
slice_len = seqlen_kv // num_split


@T.prim_func
def flash_decoding(
    Q: T.Tensor(shape_q, dtype),
    K: T.Tensor(shape_kv, dtype),
    V: T.Tensor(shape_kv, dtype),
    Output: T.Tensor(shape_q, dtype),
):
    glse = T.alloc_global((batch, heads, num_split, seqlen_q, lse_cols), accum_dtype)
    Output_partial = T.alloc_global(part_shape, dtype)
    # split
    with T.Kernel(T.ceildiv(seqlen_q, block_M), heads * batch, num_split, threads=128) as (bx, by, bz):
        Q_shared = T.alloc_shared((block_M, dim), dtype)
        K_shared = T.alloc_shared((block_N, dim), dtype)
        V_shared = T.alloc_shared((block_N, dim), dtype)
        acc_s = T.alloc_fragment((block_M, block_N), accum_dtype)
        acc_s_cast = T.alloc_fragment((block_M, block_N), dtype)
        acc_o = T.alloc_fragment((block_M, dim), accum_dtype)
        scores_max = T.alloc_fragment((block_M,), accum_dtype)
        scores_max_prev = T.alloc_fragment((block_M,), accum_dtype)
        scores_scale = T.alloc_fragment((block_M,), accum_dtype)
        scores_sum = T.alloc_fragment((block_M,), accum_dtype)
        logsum = T.alloc_fragment((block_M,), accum_dtype)
        lse_block = T.alloc_fragment((block_M, lse_cols), accum_dtype)

        mid, hid, bid, sid = bx, by % heads, by // heads, bz
        T.copy(Q[bid, mid * block_M:(mid + 1) * block_M, hid, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity(accum_dtype))
        for k in T.Pipelined(T.ceildiv(slice_len, block_N), num_stages=1):
            T.copy(K[bid, slice_len * sid + k * block_N:slice_len * sid + (k + 1) * block_N, hid, :], K_shared)
            T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, clear_accum=True)
            T.copy(scores_max, scores_max_prev)
            T.reduce_max(acc_s, scores_max, dim=1, clear=False)
            for i in T.Parallel(block_M):
                scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
            for i, j in T.Parallel(block_M, block_N):
                acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
            T.reduce_sum(acc_s, scores_sum, dim=1)
            for i in T.Parallel(block_M):
                logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
            T.copy(acc_s, acc_s_cast)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] *= scores_scale[i]
            T.copy(V[bid, slice_len * sid + k * block_N:slice_len * sid + (k + 1) * block_N, hid, :], V_shared)
            T.gemm(acc_s_cast, V_shared, acc_o)
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        for i in T.Parallel(block_M):
            logsum[i] = T.log2(logsum[i]) + scores_max[i] * scale
        for i, j in T.Parallel(block_M, lse_cols):
            lse_block[i, j] = logsum[i]
        T.copy(lse_block, glse[bid, hid, sid, mid * block_M:(mid + 1) * block_M, :])
        T.copy(acc_o, Output_partial[bid, mid * block_M:(mid + 1) * block_M, hid, sid, :])

    # combine
    with T.Kernel(T.ceildiv(seqlen_q, block_M), heads, batch, threads=128) as (bx, by, bz):
        po_local = T.alloc_fragment((block_M, dim), dtype)
        o_accum_local = T.alloc_fragment((block_M, dim), accum_dtype)
        lse_block = T.alloc_fragment((block_M, lse_cols), accum_dtype)
        lse_local_split = T.alloc_fragment((block_M,), accum_dtype)
        lse_logsum_local = T.alloc_fragment((block_M,), accum_dtype)
        lse_max_local = T.alloc_fragment((block_M,), accum_dtype)
        scale_local = T.alloc_fragment((block_M,), accum_dtype)

        T.clear(lse_logsum_local)
        T.clear(o_accum_local)
        T.fill(lse_max_local, -T.infinity(accum_dtype))
        for k in T.Pipelined(num_split):
            T.copy(glse[bz, by, k, bx * block_M:(bx + 1) * block_M, :], lse_block)
            T.reduce_max(lse_block, lse_local_split, dim=1)
            for i in T.Parallel(block_M):
                lse_max_local[i] = T.max(lse_max_local[i], lse_local_split[i])
        for k in T.Pipelined(num_split):
            T.copy(glse[bz, by, k, bx * block_M:(bx + 1) * block_M, :], lse_block)
            T.reduce_max(lse_block, lse_local_split, dim=1)
            for i in T.Parallel(block_M):
                lse_logsum_local[i] += T.exp2(lse_local_split[i] - lse_max_local[i])
        for i in T.Parallel(block_M):
            lse_logsum_local[i] = T.log2(lse_logsum_local[i]) + lse_max_local[i]
        for k in T.Pipelined(num_split, num_stages=1):
            T.copy(Output_partial[bz, bx * block_M:(bx + 1) * block_M, by, k, :], po_local)
            T.copy(glse[bz, by, k, bx * block_M:(bx + 1) * block_M, :], lse_block)
            T.reduce_max(lse_block, lse_local_split, dim=1)
            for i in T.Parallel(block_M):
                scale_local[i] = T.exp2(lse_local_split[i] - lse_logsum_local[i])
            for i, j in T.Parallel(block_M, dim):
                o_accum_local[i, j] += po_local[i, j] * scale_local[i]
        T.copy(o_accum_local, Output[bz, bx * block_M:(bx + 1) * block_M, by, :])


def reference(Q, K, V):
    """softmax(Q K^T / sqrt(dim)) V per batch and head over all the keys, in float64, rounded once
    to bfloat16: the split and the combine together must equal plain attention."""
    q, k, v = (x.astype(np.float64).transpose(0, 2, 1, 3) for x in (Q, K, V))     # BHSD
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    o = (p / p.sum(axis=-1, keepdims=True)) @ v
    return o.transpose(0, 2, 1, 3).astype(Q.dtype)

"""DeepSeek's multi-head latent attention (MLA), decoding, in the factory style of TileLang's
example_mla_decode: every query head attends to one shared latent KV cache whose head dimension is
split in two, a latent part of `dim` (512 in DeepSeek-V3) and a rotary part of `pe_dim` (64). The
score of head h and key s is Q[h] . KV[s] + Q_pe[h] . K_pe[s]: two GEMMs into one accumulator; the
output is P V with V the latent part itself, KV[s]: the block of KV the score GEMM reads transposed
is read again, as it is, by the output GEMM. There is no separate V.

The split, per (batch, block of block_H heads, slice of the keys): flash attention over the slice,
its rows the heads (all share KV head 0: `hid // (kv_group_num // block_H)`), leaving O_s
(normalised by the slice's row sums) in Output_partial and the slice's log-sum-exp (base 2) in
glse. The combine, per (block of heads, batch): lse = log2(sum_s 2^(lse_s)), O = sum_s 2^(lse_s -
lse) O_s. As in examples/flash_decoding.py, nanott moves whole 32x32 tiles, so glse holds each row's
lse repeated over one tile column (lse_cols = 32), kept in float32 where TileLang keeps it in
float16: float16 holds an lse between 8 and 16 to within 1/256, so each slice's weight
2^(lse_s - lse) to within 0.3%, six times float16's own rounding of the output.
batch 1, 64 query heads in blocks of 32 over 1 KV head, 256 keys in 2 slices of blocks of 64, the
head dimension DeepSeek-V3's 512 + 64 (16 + 2 tiles per row). float16 in and out: 4 split blocks
and 2 combine blocks.
"""
import numpy as np

import nanott.language as T


def flashattn(batch, heads, kv_head_num, seqlen_kv, dim, pe_dim, block_N, block_H, num_split, softmax_scale):
    scale = float(softmax_scale * 1.44269504)       # log2(e), for exp2
    dtype, accum_dtype = T.float16, T.float32
    kv_group_num = heads // kv_head_num
    valid_block_H = min(block_H, kv_group_num)
    slice_len = seqlen_kv // num_split
    lse_cols = 32                                   # one tile column: the lse of a row, repeated

    @T.prim_func
    def mla_decode(
        Q: T.Tensor([batch, heads, dim], dtype),
        Q_pe: T.Tensor([batch, heads, pe_dim], dtype),
        KV: T.Tensor([batch, seqlen_kv, kv_head_num, dim], dtype),
        K_pe: T.Tensor([batch, seqlen_kv, kv_head_num, pe_dim], dtype),
        Output: T.Tensor([batch, heads, dim], dtype),
    ):
        glse = T.alloc_global([batch, heads, num_split, lse_cols], accum_dtype)
        Output_partial = T.alloc_global([batch, heads, num_split, dim], dtype)
        # split
        with T.Kernel(batch, heads // valid_block_H, num_split, threads=256) as (bid, hid, bz):
            Q_shared = T.alloc_shared([block_H, dim], dtype)
            Q_pe_shared = T.alloc_shared([block_H, pe_dim], dtype)
            KV_shared = T.alloc_shared([block_N, dim], dtype)
            K_pe_shared = T.alloc_shared([block_N, pe_dim], dtype)
            acc_s = T.alloc_fragment([block_H, block_N], accum_dtype)
            acc_s_cast = T.alloc_fragment([block_H, block_N], dtype)
            acc_o = T.alloc_fragment([block_H, dim], accum_dtype)
            scores_max = T.alloc_fragment([block_H], accum_dtype)
            scores_max_prev = T.alloc_fragment([block_H], accum_dtype)
            scores_scale = T.alloc_fragment([block_H], accum_dtype)
            scores_sum = T.alloc_fragment([block_H], accum_dtype)
            logsum = T.alloc_fragment([block_H], accum_dtype)
            lse_block = T.alloc_fragment([block_H, lse_cols], accum_dtype)

            cur_kv_head = hid // (kv_group_num // block_H)
            T.copy(Q[bid, hid * valid_block_H:(hid + 1) * valid_block_H, :], Q_shared)
            T.copy(Q_pe[bid, hid * valid_block_H:(hid + 1) * valid_block_H, :], Q_pe_shared)
            T.fill(acc_o, 0)
            T.fill(logsum, 0)
            T.fill(scores_max, -T.infinity(accum_dtype))
            for k in T.Pipelined(T.ceildiv(slice_len, block_N), num_stages=1):
                kv_start = slice_len * bz + k * block_N
                kv_end = slice_len * bz + (k + 1) * block_N
                T.copy(KV[bid, kv_start:kv_end, cur_kv_head, :], KV_shared)
                T.copy(K_pe[bid, kv_start:kv_end, cur_kv_head, :], K_pe_shared)
                T.clear(acc_s)
                T.gemm(Q_shared, KV_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullCol)
                T.gemm(Q_pe_shared, K_pe_shared, acc_s, transpose_B=True, policy=T.GemmWarpPolicy.FullCol)
                T.copy(scores_max, scores_max_prev)
                T.fill(scores_max, -T.infinity(accum_dtype))
                T.reduce_max(acc_s, scores_max, dim=1, clear=False)
                for i in T.Parallel(block_H):
                    scores_max[i] = T.max(scores_max[i], scores_max_prev[i])
                for i in T.Parallel(block_H):
                    scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
                for i, j in T.Parallel(block_H, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
                T.reduce_sum(acc_s, scores_sum, dim=1)
                T.copy(acc_s, acc_s_cast)
                for i in T.Parallel(block_H):
                    logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
                for i, j in T.Parallel(block_H, dim):
                    acc_o[i, j] *= scores_scale[i]
                T.gemm(acc_s_cast, KV_shared, acc_o, policy=T.GemmWarpPolicy.FullCol)
            for i, j in T.Parallel(block_H, dim):
                acc_o[i, j] /= logsum[i]
            for i in T.Parallel(block_H):
                logsum[i] = T.log2(logsum[i]) + scores_max[i] * scale
            for i, j in T.Parallel(block_H, lse_cols):
                lse_block[i, j] = logsum[i]
            T.copy(lse_block, glse[bid, hid * valid_block_H:(hid + 1) * valid_block_H, bz, :])
            T.copy(acc_o, Output_partial[bid, hid * valid_block_H:(hid + 1) * valid_block_H, bz, :])

        # combine
        with T.Kernel(heads // valid_block_H, batch, threads=128) as (hid, bz):
            po_local = T.alloc_fragment([block_H, dim], dtype)
            o_accum_local = T.alloc_fragment([block_H, dim], accum_dtype)
            lse_block = T.alloc_fragment([block_H, lse_cols], accum_dtype)
            lse_local_split = T.alloc_fragment([block_H], accum_dtype)
            lse_logsum_local = T.alloc_fragment([block_H], accum_dtype)
            lse_max_local = T.alloc_fragment([block_H], accum_dtype)
            scale_local = T.alloc_fragment([block_H], accum_dtype)

            T.clear(lse_logsum_local)
            T.clear(o_accum_local)
            T.fill(lse_max_local, -T.infinity(accum_dtype))
            for k in T.serial(num_split):
                T.copy(glse[bz, hid * valid_block_H:(hid + 1) * valid_block_H, k, :], lse_block)
                T.reduce_max(lse_block, lse_local_split, dim=1)
                for i in T.Parallel(block_H):
                    lse_max_local[i] = T.max(lse_max_local[i], lse_local_split[i])
            for k in T.Pipelined(num_split, num_stages=1):
                T.copy(glse[bz, hid * valid_block_H:(hid + 1) * valid_block_H, k, :], lse_block)
                T.reduce_max(lse_block, lse_local_split, dim=1)
                for i in T.Parallel(block_H):
                    lse_logsum_local[i] += T.exp2(lse_local_split[i] - lse_max_local[i])
            for i in T.Parallel(block_H):
                lse_logsum_local[i] = T.log2(lse_logsum_local[i]) + lse_max_local[i]
            for k in T.serial(num_split):
                T.copy(Output_partial[bz, hid * valid_block_H:(hid + 1) * valid_block_H, k, :], po_local)
                T.copy(glse[bz, hid * valid_block_H:(hid + 1) * valid_block_H, k, :], lse_block)
                T.reduce_max(lse_block, lse_local_split, dim=1)
                for i in T.Parallel(block_H):
                    scale_local[i] = T.exp2(lse_local_split[i] - lse_logsum_local[i])
                for i, j in T.Parallel(block_H, dim):
                    o_accum_local[i, j] += po_local[i, j] * scale_local[i]
            T.copy(o_accum_local, Output[bz, hid * valid_block_H:(hid + 1) * valid_block_H, :])

    return mla_decode


batch, heads, kv_head_num, seqlen_kv, dim, pe_dim = 1, 64, 1, 256, 512, 64
block_N, block_H, num_split = 64, 32, 2
softmax_scale = (dim + pe_dim) ** -0.5
mla_decode = flashattn(batch, heads, kv_head_num, seqlen_kv, dim, pe_dim, block_N, block_H, num_split, softmax_scale)


def reference(Q, Q_pe, KV, K_pe):
    """softmax([Q, Q_pe] [KV, K_pe]^T / sqrt(dim + pe_dim)) KV per batch and head, over all the keys
    and the one KV head, in float64, rounded once to float16: the split and the combine together
    must equal plain attention over the concatenated head dimension. The sizes are the inputs'."""
    q = np.concatenate([Q, Q_pe], axis=-1).astype(np.float64)                       # [b, h, d + pe]
    key = np.concatenate([KV, K_pe], axis=-1).astype(np.float64)[:, :, 0, :]        # [b, s, d + pe]
    v = KV.astype(np.float64)[:, :, 0, :]                                           # [b, s, d]
    s = q @ key.transpose(0, 2, 1) / np.sqrt(q.shape[-1])                           # [b, h, s]
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    return ((p / p.sum(axis=-1, keepdims=True)) @ v).astype(Q.dtype)

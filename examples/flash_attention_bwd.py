"""Flash attention's backward pass, as TileLang's example_mha_bwd_bshd writes it: dQ, dK and dV of
O = softmax(Q K^T / sqrt(dim)) V for a given dO, in four launches of one program.

  forward      flash attention (an online softmax over blocks of keys); besides O it keeps each
               query row's log-sum-exp, base 2: lse = m * scale + log2(sum_j 2^(s_j * scale - m * scale))
  preprocess   Delta = rowsum(O * dO) per query row; and dQ's float32 accumulator cleared
               (TileLang's host passes it in as torch.zeros)
  main         per block of 64 keys, looping over the blocks of queries: the probabilities
               recomputed from lse (P^T = 2^(K Q^T * scale - lse), no softmax again), then
               dV += P^T dO,  dS^T = P^T * (V dO^T - Delta) / sqrt(dim),  dK += dS^T Q,
               and this key block's share of dQ, dS K, added into dQ's rows with T.atomic_add
  postprocess  dQ's float32 accumulator rounded to float16

Every key block adds into the same rows of dQ: the adds of two grid blocks meet. Tenstorrent has
no atomics into DRAM; P0c finds by analysis that the adds meet across `by` only, never within
a block, and that they cover dQ, so each key block writes its partials to a scratch tensor of its
own and one more launch sums them in key-block order: float32 adds in the order L0 makes them.

lse and Delta are 1-D tensors (batch x heads x seq_len, flattened), read back as vectors of one
value per column of the [keys x queries] block. batch 1, seq_len 128, heads 2, dim 64, blocks of
64: the main launch has 4 grid blocks of 2 steps each. float16 in and out, float32 accumulators.
"""
import numpy as np

import nanott.language as T

batch, seq_len, heads, dim = 1, 128, 2, 64
block_M, block_N, blk = 64, 64, 32
sm_scale = (1.0 / dim) ** 0.5
scale = sm_scale * 1.44269504                   # 1/sqrt(dim), times log2(e) for exp2
shape = (batch, seq_len, heads, dim)
dtype, accum_dtype = "float16", "float"


@T.prim_func
def flash_attention_bwd(
    Q: T.Tensor(shape, dtype),
    K: T.Tensor(shape, dtype),
    V: T.Tensor(shape, dtype),
    dO: T.Tensor(shape, dtype),
    dQ: T.Tensor(shape, dtype),
    dK: T.Tensor(shape, dtype),
    dV: T.Tensor(shape, dtype),
):
    O = T.alloc_global(shape, dtype)
    lse = T.alloc_global((batch * heads * seq_len,), accum_dtype)
    Delta = T.alloc_global((batch * heads * seq_len,), accum_dtype)
    dQ_accum = T.alloc_global(shape, accum_dtype)
    # forward: O and lse
    with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
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

        T.copy(Q[bz, bx * block_M:(bx + 1) * block_M, by, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity(accum_dtype))
        for k in T.Pipelined(T.ceildiv(seq_len, block_N), num_stages=1):
            T.copy(K[bz, k * block_N:(k + 1) * block_N, by, :], K_shared)
            T.gemm(Q_shared, K_shared, acc_s, transpose_B=True, clear_accum=True)
            T.copy(V[bz, k * block_N:(k + 1) * block_N, by, :], V_shared)
            T.copy(scores_max, scores_max_prev)
            T.reduce_max(acc_s, scores_max, dim=1, clear=False)
            for i in T.Parallel(block_M):
                scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] *= scores_scale[i]
            for i, j in T.Parallel(block_M, block_N):
                acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
            T.copy(acc_s, acc_s_cast)
            T.gemm(acc_s_cast, V_shared, acc_o)
            T.reduce_sum(acc_s, scores_sum, dim=1)
            for i in T.Parallel(block_M):
                logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        T.copy(acc_o, O[bz, bx * block_M:(bx + 1) * block_M, by, :])
        for i in T.Parallel(block_M):
            logsum[i] = T.log2(logsum[i]) + scores_max[i] * scale
        T.copy(logsum, lse[(bz * heads + by) * seq_len + bx * block_M:(bz * heads + by) * seq_len + (bx + 1) * block_M])

    # preprocess: Delta = rowsum(O * dO); dQ's accumulator cleared
    with T.Kernel(heads, T.ceildiv(seq_len, blk), batch) as (bx, by, bz):
        o = T.alloc_fragment((blk, blk), dtype)
        do = T.alloc_fragment((blk, blk), dtype)
        acc = T.alloc_fragment((blk, blk), accum_dtype)
        delta = T.alloc_fragment((blk,), accum_dtype)
        zeros = T.alloc_fragment((blk, dim), accum_dtype)
        T.clear(acc)
        for k in range(T.ceildiv(dim, blk)):
            T.copy(O[bz, by * blk:(by + 1) * blk, bx, k * blk:(k + 1) * blk], o)
            T.copy(dO[bz, by * blk:(by + 1) * blk, bx, k * blk:(k + 1) * blk], do)
            for i, j in T.Parallel(blk, blk):
                acc[i, j] += o[i, j] * do[i, j]
        T.reduce_sum(acc, delta, 1)
        T.copy(delta, Delta[(bz * heads + bx) * seq_len + by * blk:(bz * heads + bx) * seq_len + (by + 1) * blk])
        T.clear(zeros)
        T.copy(zeros, dQ_accum[bz, by * blk:(by + 1) * blk, bx, :])

    # main: dK and dV per key block; dQ's partials added into dQ_accum
    with T.Kernel(heads, T.ceildiv(seq_len, block_M), batch, threads=128) as (bx, by, bz):
        K_shared = T.alloc_shared((block_M, dim), dtype)
        dsT_shared = T.alloc_shared((block_M, block_N), dtype)
        q = T.alloc_shared((block_N, dim), dtype)
        V_shared = T.alloc_shared((block_M, dim), dtype)
        qkT = T.alloc_fragment((block_M, block_N), accum_dtype)
        dsT = T.alloc_fragment((block_M, block_N), accum_dtype)
        qkT_cast = T.alloc_fragment((block_M, block_N), dtype)
        dsT_cast = T.alloc_fragment((block_M, block_N), dtype)
        lse_shared = T.alloc_shared((block_N,), accum_dtype)
        delta = T.alloc_shared((block_N,), accum_dtype)
        do = T.alloc_shared((block_N, dim), dtype)
        dv = T.alloc_fragment((block_M, dim), accum_dtype)
        dk = T.alloc_fragment((block_M, dim), accum_dtype)
        dq = T.alloc_fragment((block_N, dim), accum_dtype)
        dv_shared = T.alloc_shared((block_M, dim), dtype)
        dk_shared = T.alloc_shared((block_M, dim), dtype)

        T.copy(K[bz, by * block_M:(by + 1) * block_M, bx, :], K_shared)
        T.copy(V[bz, by * block_M:(by + 1) * block_M, bx, :], V_shared)
        T.clear(dv)
        T.clear(dk)
        for k in T.Pipelined(T.ceildiv(seq_len, block_N), num_stages=2):
            T.copy(Q[bz, k * block_N:(k + 1) * block_N, bx, :], q)
            T.clear(qkT)
            T.gemm(K_shared, q, qkT, transpose_B=True)
            T.copy(lse[(bz * heads + bx) * seq_len + k * block_N:(bz * heads + bx) * seq_len + (k + 1) * block_N],
                   lse_shared)
            for i, j in T.Parallel(block_M, block_N):
                qkT[i, j] = T.exp2(qkT[i, j] * scale - lse_shared[j])
            T.copy(dO[bz, k * block_N:(k + 1) * block_N, bx, :], do)
            T.clear(dsT)
            T.gemm(V_shared, do, dsT, transpose_B=True)
            T.copy(qkT, qkT_cast)
            T.gemm(qkT_cast, do, dv)
            T.copy(Delta[(bz * heads + bx) * seq_len + k * block_N:(bz * heads + bx) * seq_len + (k + 1) * block_N],
                   delta)
            for i, j in T.Parallel(block_M, block_N):
                dsT_cast[i, j] = qkT[i, j] * (dsT[i, j] - delta[j]) * sm_scale
            T.gemm(dsT_cast, q, dk)
            T.copy(dsT_cast, dsT_shared)
            T.clear(dq)
            T.gemm(dsT_shared, K_shared, dq, transpose_A=True)
            for i, j in T.Parallel(block_N, dim):
                T.atomic_add(dQ_accum[bz, k * block_N + i, bx, j], dq[i, j])
        T.copy(dv, dv_shared)
        T.copy(dk, dk_shared)
        T.copy(dv_shared, dV[bz, by * block_M:(by + 1) * block_M, bx, :])
        T.copy(dk_shared, dK[bz, by * block_M:(by + 1) * block_M, bx, :])

    # postprocess: dQ's float32 accumulator rounded to float16
    with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
        dq_local = T.alloc_fragment((block_M, dim), accum_dtype)
        dq_cast = T.alloc_fragment((block_M, dim), dtype)
        T.copy(dQ_accum[bz, bx * block_M:(bx + 1) * block_M, by, :], dq_local)
        T.copy(dq_local, dq_cast)
        T.copy(dq_cast, dQ[bz, bx * block_M:(bx + 1) * block_M, by, :])


def reference(Q, K, V, dO):
    """The gradients of O = softmax(Q K^T / sqrt(dim)) V for dO, per batch and head, in float64
    straight from the chain rule (no lse, no Delta: the softmax's Jacobian applied as is), each
    rounded once to float16."""
    q, k, v, do = (x.astype(np.float64).transpose(0, 2, 1, 3) for x in (Q, K, V, dO))     # BHSD
    s = q @ k.transpose(0, 1, 3, 2) * sm_scale
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    dv = p.transpose(0, 1, 3, 2) @ do
    dp = do @ v.transpose(0, 1, 3, 2)
    ds = np.stack([np.stack([pr @ (np.diag(r) - np.outer(r, r)) for pr, r in zip(dp[b, h], p[b, h])])
                   for b in range(p.shape[0]) for h in range(p.shape[1])]).reshape(p.shape)
    dq = ds @ k * sm_scale
    dk = ds.transpose(0, 1, 3, 2) @ q * sm_scale
    return tuple(x.transpose(0, 2, 1, 3).astype(Q.dtype) for x in (dq, dk, dv))

"""Block-sparse attention by a mask, as TileLang's `example_tilelang_block_sparse_attn.py` writes it:
the mask row of the query block is copied into a bool fragment, and the body of the key loop is
wrapped in `if block_mask[k] != 0` (here `if k == 0 or block_mask[k] != 0`: the first key block is
a global block every query attends, as BigBird's and Longformer's global tokens are, so no row of
the softmax is ever empty).

What is new is the `if` on data around tile operations: copies, two GEMMs and reductions run or are
skipped per key block. P0 makes the branch a loop that runs once or never, and reads the condition's
mask element from DRAM instead of from the fragment (which then goes); the reader reads it through a
one-page scratch CB that D1 makes reader -> compute, because compute needs the value too (the loop's
extent): the reader reads the element from the page it reserved and pushes the page, compute reads
the same element (`read_tile_value`) and pops it. Reader and compute skip the same blocks, and only
the selected K and V blocks cross the NoC. batch 1, heads 1, seq 256, dim 64: 4 grid blocks, 4 key
blocks each. float16 in and out, as the TileLang file.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def blocksparse_mask(Q, K, V, BlockMask, block_M=64, block_N=64):
    batch, heads, seq_len, dim = T.const("batch, heads, seq_len, dim")
    n_blocks = seq_len // block_N
    scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2

    Q: T.Tensor((batch, heads, seq_len, dim), T.float16)
    K: T.Tensor((batch, heads, seq_len, dim), T.float16)
    V: T.Tensor((batch, heads, seq_len, dim), T.float16)
    BlockMask: T.Tensor((batch, heads, seq_len // block_M, n_blocks), T.bool)
    Output = T.empty((batch, heads, seq_len, dim), T.float16)

    with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
        Q_shared = T.alloc_shared((block_M, dim), T.float16)
        K_shared = T.alloc_shared((block_N, dim), T.float16)
        V_shared = T.alloc_shared((block_N, dim), T.float16)
        acc_s = T.alloc_fragment((block_M, block_N), T.float32)
        acc_s_cast = T.alloc_fragment((block_M, block_N), T.float16)
        acc_o = T.alloc_fragment((block_M, dim), T.float32)
        scores_max = T.alloc_fragment((block_M,), T.float32)
        scores_max_prev = T.alloc_fragment((block_M,), T.float32)
        scores_scale = T.alloc_fragment((block_M,), T.float32)
        scores_sum = T.alloc_fragment((block_M,), T.float32)
        logsum = T.alloc_fragment((block_M,), T.float32)
        block_mask = T.alloc_fragment((n_blocks,), T.bool)

        T.copy(Q[bz, by, bx * block_M:(bx + 1) * block_M, :], Q_shared)
        T.fill(acc_o, 0)
        T.fill(logsum, 0)
        T.fill(scores_max, -T.infinity(T.float32))
        T.copy(BlockMask[bz, by, bx, :], block_mask)
        for k in T.Pipelined(n_blocks, num_stages=1):
            if k == 0 or block_mask[k] != 0:
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
        for i, j in T.Parallel(block_M, dim):
            acc_o[i, j] /= logsum[i]
        T.copy(acc_o, Output[bz, by, bx * block_M:(bx + 1) * block_M, :])

    return Output


blocksparse = blocksparse_mask.compile(batch=1, heads=1, seq_len=256, dim=64)


def reference(Q, K, V, BlockMask, block_M=64, block_N=64):
    """Per batch, head and query block: softmax(q k^T / sqrt(dim)) v over key block 0 and the key
    blocks its mask row sets, in float64, rounded once to float16."""
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    batch, heads, seq_len, dim = Q.shape
    out = np.empty(Q.shape, np.float64)
    for b in range(batch):
        for h in range(heads):
            for m in range(seq_len // block_M):
                blocks = [n for n in range(seq_len // block_N) if n == 0 or BlockMask[b, h, m, n]]
                keys = np.concatenate([np.arange(n * block_N, (n + 1) * block_N) for n in blocks])
                rows = slice(m * block_M, (m + 1) * block_M)
                s = q[b, h, rows] @ k[b, h, keys].T / np.sqrt(dim)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                out[b, h, rows] = (p / p.sum(axis=-1, keepdims=True)) @ v[b, h, keys]
    return out.astype(Q.dtype)

"""Block-sparse attention: each block of queries attends only to the blocks of keys an index tensor
lists, as TileLang's block-sparse examples (and DeepSeek NSA's selected blocks) write it:
`i_s = BlockIndices[bz, by, bx, t]`, then `T.copy(K[bz, by, i_s * block_N:(i_s + 1) * block_N, :], ...)`.

Q, K, V and O are [batch, heads, seq, dim] (BHSD); BlockIndices is int32 [batch, heads, seq / block_M,
topk]: for query block bx, the topk key blocks it attends to (a block listed twice counts twice).
`blocksparse_attention(...)` builds the kernel for given sizes (TileLang's factory style); the
module instance is small. The body is flash attention's online softmax (examples/flash_attention.py)
over those blocks. What is new is the load: which K and V blocks to fetch is data. The reader reads the index (C1 makes
the let an Element: the tile of BlockIndices holding it, through a one-page scratch CB; D3 gives it
its protocol) and computes the addresses of the K and V pages from it; compute never sees the index,
it runs topk steps whatever they fetch. batch 1, heads 2, seq 256, dim 64: 8 grid blocks, topk 2 of
the 4 key blocks each. bfloat16 in and out.
"""
import numpy as np

import nanott.language as T


def blocksparse_attention(batch, heads, seq_len, dim, topk, block_M=64, block_N=64):
    scale = (1.0 / dim) ** 0.5 * 1.44269504         # 1/sqrt(dim), times log2(e) for exp2
    shape = (batch, heads, seq_len, dim)
    index_shape = (batch, heads, seq_len // block_M, topk)

    @T.prim_func
    def main(
        Q: T.Tensor(shape, "bfloat16"),
        K: T.Tensor(shape, "bfloat16"),
        V: T.Tensor(shape, "bfloat16"),
        BlockIndices: T.Tensor(index_shape, "int32"),
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
            for t in T.Pipelined(topk, num_stages=1):
                i_s = BlockIndices[bz, by, bx, t]
                T.copy(K[bz, by, i_s * block_N:(i_s + 1) * block_N, :], K_shared)
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
                T.copy(V[bz, by, i_s * block_N:(i_s + 1) * block_N, :], V_shared)
                T.gemm(acc_s_cast, V_shared, acc_o)
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] /= logsum[i]
            T.copy(acc_o, Output[bz, by, bx * block_M:(bx + 1) * block_M, :])

    return main


blocksparse = blocksparse_attention(1, 2, 256, 64, 2)


def reference(Q, K, V, BlockIndices, block_M=64, block_N=64):
    """Per batch, head and query block: softmax(q k^T / sqrt(dim)) v over the key blocks the index
    lists (gathered in order, repeats kept), in float64, rounded once to bfloat16."""
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    batch, heads, seq_len, dim = Q.shape
    out = np.empty(Q.shape, np.float64)
    for b in range(batch):
        for h in range(heads):
            for m in range(seq_len // block_M):
                keys = np.concatenate([np.arange(i * block_N, (i + 1) * block_N) for i in BlockIndices[b, h, m]])
                rows = slice(m * block_M, (m + 1) * block_M)
                s = q[b, h, rows] @ k[b, h, keys].T / np.sqrt(dim)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                out[b, h, rows] = (p / p.sum(axis=-1, keepdims=True)) @ v[b, h, keys]
    return out.astype(Q.dtype)

"""DeepSeek's native sparse attention (NSA), its selected-block and sliding-window branches, in the
eager style of TileLang's example_tilelang_nsa_fwd: `T.const` names the sizes, the tensors are
annotated in the body, the output is `T.empty` and returned.

One grid block is one query position `t` of one batch and one key/value head: its rows are the
`groups` query heads that share that K/V head (Q[b, t, h * G:(h + 1) * G, :], a G x dim block), so a
tile's 32 rows are 32 heads, not 32 positions. Each attends to two kinds of key blocks of
`block_size` keys, with one online softmax over all of them:
- the window: the block holding t itself, keys up to t (the sliding window, block-aligned);
- the selected blocks: `selected` block numbers read from BlockIndices[b, t, h, :], each skipped
  when it starts after t or is negative (`if i_s <= t and i_s >= 0`, an `if` on data: a future
  block is never attended, -1 pads a short list) and masked causally inside (key i_s + j counts
  only while i_s + j <= t).
A block both in the window and selected counts twice, as the two branches of NSA each count it
(their gates are 1 here). Q, K, V and O are [batch, seq, heads, dim] (BSHD), float16 in and out.
batch 1, seq 64, 32 query heads on 1 K/V head, dim 32, blocks of 32 keys, 2 selected: 64 grid
blocks of 32 x 32 scores, each over up to 3 key blocks.
"""
import numpy as np

import tilelang
import tilelang.language as T


@tilelang.jit(out_idx=[-1])
def nsa_selected(Q, K, V, BlockIndices, dim, groups, block_size=32, selected=2):
    batch, heads, seq_len = T.const("batch, heads, seq_len")
    scale = (1.0 / dim) ** 0.5 * 1.44269504          # 1/sqrt(dim), times log2(e) for exp2
    head_kv = heads // groups
    dtype, accum = T.float16, T.float32
    G, BS = groups, block_size

    Q: T.Tensor((batch, seq_len, heads, dim), dtype)
    K: T.Tensor((batch, seq_len, head_kv, dim), dtype)
    V: T.Tensor((batch, seq_len, head_kv, dim), dtype)
    BlockIndices: T.Tensor((batch, seq_len, head_kv, selected), T.int32)
    O = T.empty((batch, seq_len, heads, dim), dtype)

    with T.Kernel(seq_len, batch * head_kv, threads=128) as (bx, by):
        q_s = T.alloc_shared((G, dim), dtype)
        k_s = T.alloc_shared((BS, dim), dtype)
        v_s = T.alloc_shared((BS, dim), dtype)
        scores = T.alloc_fragment((G, BS), accum)
        probs = T.alloc_fragment((G, BS), dtype)
        out = T.alloc_fragment((G, dim), accum)
        row_max = T.alloc_fragment((G,), accum)
        prev_max = T.alloc_fragment((G,), accum)
        rescale = T.alloc_fragment((G,), accum)
        row_sum = T.alloc_fragment((G,), accum)
        denom = T.alloc_fragment((G,), accum)

        t, b, h = bx, by // head_kv, by % head_kv
        T.copy(Q[b, t, h * G:(h + 1) * G, :], q_s)
        T.fill(out, 0)
        T.fill(denom, 0)
        T.fill(row_max, -T.infinity(accum))

        def attend(i_s):
            """One key block starting at i_s into the online softmax, keys after t masked."""
            T.copy(K[b, i_s:i_s + BS, h, :], k_s)
            for i, j in T.Parallel(G, BS):
                scores[i, j] = T.if_then_else(i_s + j <= t, 0, -T.infinity(accum))
            T.gemm(q_s, k_s, scores, transpose_B=True)
            T.copy(row_max, prev_max)
            T.reduce_max(scores, row_max, dim=1, clear=False)
            for i in T.Parallel(G):
                rescale[i] = T.exp2(prev_max[i] * scale - row_max[i] * scale)
            for i, j in T.Parallel(G, BS):
                scores[i, j] = T.exp2(scores[i, j] * scale - row_max[i] * scale)
            T.reduce_sum(scores, row_sum, dim=1)
            for i in T.Parallel(G):
                denom[i] = denom[i] * rescale[i] + row_sum[i]
            T.copy(scores, probs)
            for i, j in T.Parallel(G, dim):
                out[i, j] *= rescale[i]
            T.copy(V[b, i_s:i_s + BS, h, :], v_s)
            T.gemm(probs, v_s, out)

        attend(t // BS * BS)                        # the sliding window: t's own block
        for n in T.Pipelined(selected, num_stages=1):
            i_s = BlockIndices[b, t, h, n] * BS     # a selected block
            if i_s <= t and i_s >= 0:
                attend(i_s)

        for i, j in T.Parallel(G, dim):
            out[i, j] /= denom[i]
        T.copy(out, O[b, t, h * G:(h + 1) * G, :])

    return O


nsa = nsa_selected.compile(batch=1, heads=32, seq_len=64, dim=32, groups=32)


def reference(Q, K, V, BlockIndices, block_size=32):
    """Per batch, position t and K/V head: softmax(q k^T / sqrt(dim)) v over the keys of t's own
    block up to t, then of each selected block that starts in [0, t], keys up to t (repeats
    kept), in float64, rounded once to float16."""
    q, k, v = (x.astype(np.float64) for x in (Q, K, V))
    batch, seq_len, heads, dim = Q.shape
    head_kv = K.shape[2]
    G = heads // head_kv
    out = np.empty(Q.shape, np.float64)
    for b in range(batch):
        for t in range(seq_len):
            for h in range(head_kv):
                starts = [t // block_size * block_size] + [int(n) * block_size for n in BlockIndices[b, t, h]]
                keys = np.concatenate([np.arange(s, min(s + block_size, t + 1)) for s in starts if 0 <= s <= t])
                heads_of = slice(h * G, (h + 1) * G)
                s = q[b, t, heads_of] @ k[b, keys, h].T / np.sqrt(dim)
                p = np.exp(s - s.max(axis=-1, keepdims=True))
                out[b, t, heads_of] = (p / p.sum(axis=-1, keepdims=True)) @ v[b, keys, h]
    return out.astype(Q.dtype)

"""Chunked linear attention forward, as TileLang's example_linear_attn_fwd writes it: a state carried
across the chunks of the sequence.

Causal linear attention is O[t] = sum over s <= t of (q[t] . k[s]) v[s], with q scaled by
1/sqrt(DK); it needs no softmax, so the sum splits at chunk boundaries. Each grid block (a block
of DV columns, a block of DK rows, a batch-head) walks the sequence in chunks of 64 and keeps
h = K^T V of the chunks before the current one, a 64 x 64 float32 fragment carried from one
iteration of the chunk loop to the next. A chunk's output is its intra-chunk part, the causal
mask of Q K^T (T.if_then_else(row >= col, s, 0), which C2 makes a reader-generated mask) times
V, plus its inter-chunk part, Q times h as it was before the chunk; then h += K^T V of the chunk
(T.gemm with transpose_A), and after the last chunk h is the final state. Each chunk's output
block is added into O with T.atomic_add inside the loop: every grid index and the chunk index
move the destination, so no two adds meet, and B1 lowers each one to a read, a sum and a write
of its own region (_b1_adds_in_loops.py). batch 1, seq 256 (4 chunks), heads 2, DK = DV = 64, float16
inputs, float32 outputs.
"""
import numpy as np

import nanott.language as T

B, S, H, DK, DV = 1, 256, 2, 64, 64
chunk_size = 64
BK = BV = 64
NK, NV, NT = DK // BK, DV // BV, S // chunk_size
scale = DK ** -0.5
dtype, accum_dtype = "float16", "float32"


@T.prim_func
def linear_attention(
    Q: T.Tensor([B, S, H, DK], dtype),
    K: T.Tensor([B, S, H, DK], dtype),
    V: T.Tensor([B, S, H, DV], dtype),
    O: T.Tensor([B, S, H, DV], accum_dtype),
    final_state: T.Tensor([B, H, DK, DV], accum_dtype),
):
    with T.Kernel(NV, NK, B * H) as (i_v, i_k, i_bh):
        i_b = i_bh // H
        i_h = i_bh % H

        q = T.alloc_shared([chunk_size, BK], dtype)
        k = T.alloc_shared([chunk_size, BK], dtype)
        v = T.alloc_shared([chunk_size, BV], dtype)
        h = T.alloc_fragment([BK, BV], accum_dtype)
        h_shared = T.alloc_shared([BK, BV], dtype)
        s = T.alloc_fragment([chunk_size, chunk_size], accum_dtype)
        s_shared = T.alloc_shared([chunk_size, chunk_size], dtype)
        o = T.alloc_fragment([chunk_size, BV], accum_dtype)
        o_shared = T.alloc_shared([chunk_size, BV], accum_dtype)

        T.clear(h)
        for i in T.Pipelined(0, NT):
            for row, col in T.Parallel(chunk_size, BK):
                q[row, col] = Q[i_b, i * chunk_size + row, i_h, i_k * BK + col] * scale
            T.copy(K[i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_k * BK:(i_k + 1) * BK], k)
            T.copy(V[i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_v * BV:(i_v + 1) * BV], v)

            T.gemm(q, k, s, clear_accum=True, transpose_B=True)
            for row, col in T.Parallel(chunk_size, chunk_size):
                s_shared[row, col] = T.if_then_else(row >= col, s[row, col], 0)

            T.gemm(s_shared, v, o, clear_accum=True)
            T.copy(h, h_shared)
            T.gemm(k, v, h, transpose_A=True)
            T.gemm(q, h_shared, o)
            T.copy(o, o_shared)
            T.atomic_add(O[i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_v * BV:(i_v + 1) * BV], o_shared)

        T.copy(h, final_state[i_b, i_h, i_k * BK:(i_k + 1) * BK, i_v * BV:(i_v + 1) * BV])


def reference(Q, K, V):
    """Token by token, in float64: O[t] = sum over s <= t of (scale q[t] . k[s]) v[s], and the final
    state K^T V over the whole sequence; no chunks. The kernel rounds scale * q, the masked scores
    and the state it multiplies by to float16 (its shared buffers), so O is compared after the same
    roundings of those three, here taken where they occur: the scores of one chunk and the state
    after each whole chunk."""
    q, k, v = (np.moveaxis(x.astype(np.float64), 2, 1) for x in (Q, K, V))   # [B, H, S, D]
    q = f16(q * scale)
    scores = q @ np.swapaxes(k, -1, -2)
    o = np.zeros_like(v)
    for t in range(S):
        first = t - t % chunk_size                    # the chunk's own tokens: float16 scores
        o[..., t, :] = np.einsum("bhs,bhsd->bhd", f16(scores[..., t, first:t + 1]), v[..., first:t + 1, :])
        if first:                                     # earlier chunks: through the float16 state
            state = f16(np.swapaxes(k[..., :first, :], -1, -2) @ v[..., :first, :])
            o[..., t, :] += np.einsum("bhd,bhde->bhe", q[..., t, :], state)
    final = np.swapaxes(k, -1, -2) @ v
    return np.moveaxis(o, 1, 2).astype(np.float32), final.astype(np.float32)


def f16(x):
    """x rounded to float16, as a float16 buffer holds it, back in float64."""
    return x.astype(np.float16).astype(np.float64)

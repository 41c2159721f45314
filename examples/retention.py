"""Chunked retention forward, as TileLang's example_retention_fwd writes it: linear attention with
a decay, a scalar computed from the block index, and decay masks.

Retention is O[t] = sum over s <= t of gamma^(t - s) (q[t] . k[s]) v[s], q scaled by 1/sqrt(DK),
with a decay gamma = 1 - 2^(-5 - head) of its own per head. Each grid block (a block of DV
columns, a block of DK rows, a batch-head) computes log2(gamma) once, into a T.alloc_var, from
its head index i_h, and walks the sequence in chunks of 64, carrying the state h (64 x 64,
float32) from one chunk to the next. Per chunk: the scores Q K^T times the decay mask
gamma^(row - col) below the diagonal (T.if_then_else(row >= col, s * T.exp2((row - col) *
log_decay), 0)); the inter-chunk part Q h scaled by gamma^(row + 1) per row; the intra-chunk
part added; then V scaled by gamma^(64 - row - 1) in place and h = gamma^64 h + K^T V. Every
decay is a value of indices and of log_decay, no buffer: C2 puts log_decay's expression in
place and makes each decay a block the reader generates (computing exp2 and log2 in float32 on
its RISC-V, as it makes the causal mask), which compute multiplies in. batch 1, seq 256 (4
chunks), heads 2, DK = DV = 64, float16 in and out.
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
def retention(
    Q: T.Tensor([B, S, H, DK], dtype),
    K: T.Tensor([B, S, H, DK], dtype),
    V: T.Tensor([B, S, H, DV], dtype),
    O: T.Tensor([NK, B, S, H, DV], dtype),
):
    with T.Kernel(NV, NK, B * H) as (i_v, i_k, i_bh):
        i_b = i_bh // H
        i_h = i_bh % H
        log_decay = T.alloc_var(T.float32)
        log_decay = T.log2(1 - T.exp2(-5.0 - 1.0 * i_h))        # this head's log2(gamma)

        q = T.alloc_shared([chunk_size, BK], dtype)
        k = T.alloc_shared([chunk_size, BK], dtype)
        v = T.alloc_shared([chunk_size, BV], dtype)
        h = T.alloc_fragment([BK, BV], accum_dtype)
        h_shared = T.alloc_shared([BK, BV], dtype)
        s = T.alloc_fragment([chunk_size, chunk_size], accum_dtype)
        s_shared = T.alloc_shared([chunk_size, chunk_size], dtype)
        o = T.alloc_fragment([chunk_size, BV], accum_dtype)
        T.clear(h)

        for i in T.Pipelined(0, NT):
            for row, col in T.Parallel(chunk_size, BK):
                q[row, col] = Q[i_b, i * chunk_size + row, i_h, i_k * BK + col] * scale
            T.copy(K[i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_k * BK:(i_k + 1) * BK], k)
            T.copy(V[i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_v * BV:(i_v + 1) * BV], v)

            T.gemm(q, k, s, clear_accum=True, transpose_B=True)
            for row, col in T.Parallel(chunk_size, chunk_size):
                s_shared[row, col] = T.if_then_else(row >= col, s[row, col] * T.exp2((row - col) * log_decay), 0)

            T.copy(h, h_shared)
            T.gemm(q, h_shared, o, clear_accum=True)
            for row, col in T.Parallel(chunk_size, BV):
                o[row, col] = T.exp2((row + 1) * log_decay) * o[row, col]
            T.gemm(s_shared, v, o)

            for row, col in T.Parallel(chunk_size, BV):
                v[row, col] = v[row, col] * T.exp2((chunk_size - row - 1) * log_decay)
            for row, col in T.Parallel(BK, BV):
                h[row, col] = T.exp2(chunk_size * log_decay) * h[row, col]
            T.copy(o, O[i_k, i_b, i * chunk_size:(i + 1) * chunk_size, i_h, i_v * BV:(i_v + 1) * BV])
            T.gemm(k, v, h, transpose_A=True)


def reference(Q, K, V):
    """Token by token, in float64, rounded once to float16: O[t] = sum over s <= t of
    gamma^(t - s) (scale q[t] . k[s]) v[s], gamma = 1 - 2^(-5 - head); no chunks, no state."""
    q, k, v = (np.moveaxis(x.astype(np.float64), 2, 1) for x in (Q, K, V))   # [B, H, S, D]
    t = np.arange(S)
    gamma = 1.0 - 2.0 ** (-5.0 - np.arange(H))
    decay = np.where(t[:, None] >= t[None, :], gamma[:, None, None] ** (t[:, None] - t[None, :]), 0.0)
    o = ((q * scale) @ np.swapaxes(k, -1, -2) * decay) @ v                 # [B, H, S, DV]
    return np.moveaxis(o, 1, 2)[None].astype(np.float16)

"""The state of each chunk of a Mamba-2 scan, as TileLang's example_mamba_chunk_state writes it: a
block read transposed inside an elementwise map, then multiplied.

Mamba-2's chunked scan (the SSD form) splits the sequence into chunks; the state a chunk hands to
the next is, per head h, state[p, n] = sum over the chunk's positions l of
x[l, p] * decay[l] * B[l, n], where decay[l] = exp(dA[last] - dA[l]) * dt[l] weighs each position
by how much of it survives to the chunk's end (dA is a cumulative sum, so the exponent is <= 0 in
a real model; here it is random). Each grid block (a head, a block of P rows of the state, a
batch-chunk) walks its chunk in steps of K positions: x's step is a K x P block (positions down,
head dimension across, as x lies in DRAM), the product needs P x K, so a T.Parallel over (i, j)
writes xt[i, j] = x[j, i] * decay[j]: a transposed read. K = 32 and P = 64, so x's block is 1 x 2
tiles and xt's 2 x 1: the tile grid transposes as well as each tile. batch 1, seq 128 (2 chunks
of 64), heads 2 (one group of B), P = N = 64, float16 in and out, float32 accumulation.
"""
import numpy as np

import nanott.language as T

batch, seqlen, nheads, ngroups, headdim, dstate = 1, 128, 2, 1, 64, 64
chunk = 64
nchunks = seqlen // chunk
block_P, block_N, block_K = 64, 64, 32
dtype, accum_dtype = "float16", "float32"


@T.prim_func
def chunk_state(
    X: T.Tensor([batch, seqlen, nheads, headdim], dtype),
    Bmat: T.Tensor([batch, seqlen, ngroups, dstate], dtype),
    dt: T.Tensor([batch, nheads, nchunks, chunk], dtype),
    dA: T.Tensor([batch, nheads, nchunks, chunk], dtype),
    states: T.Tensor([batch, nchunks, nheads, headdim, dstate], dtype),
):
    with T.Kernel(nheads, (headdim // block_P) * (dstate // block_N), batch * nchunks) as (h, bpn, bc):
        b = bc // nchunks
        c = bc % nchunks
        bp = bpn // (dstate // block_N)
        bn = bpn % (dstate // block_N)
        g = h // (nheads // ngroups)

        x_s = T.alloc_shared([block_K, block_P], dtype)
        x_f = T.alloc_fragment([block_K, block_P], dtype)
        xt = T.alloc_fragment([block_P, block_K], dtype)
        b_s = T.alloc_shared([block_K, block_N], dtype)
        dt_s = T.alloc_shared([block_K], dtype)
        dA_s = T.alloc_shared([block_K], dtype)
        decay = T.alloc_fragment([block_K], accum_dtype)
        last = T.alloc_fragment([1], accum_dtype)
        acc = T.alloc_fragment([block_P, block_N], accum_dtype)
        out = T.alloc_shared([block_P, block_N], dtype)

        last[0] = dA[b, h, c, chunk - 1]
        T.clear(acc)
        for k in T.Pipelined(chunk // block_K, num_stages=2):
            start = c * chunk + k * block_K
            T.copy(X[b, start:start + block_K, h, bp * block_P:(bp + 1) * block_P], x_s)
            T.copy(Bmat[b, start:start + block_K, g, bn * block_N:(bn + 1) * block_N], b_s)
            T.copy(dt[b, h, c, k * block_K:(k + 1) * block_K], dt_s)
            T.copy(dA[b, h, c, k * block_K:(k + 1) * block_K], dA_s)
            for j in T.Parallel(block_K):
                decay[j] = T.exp(last[0] - dA_s[j]) * dt_s[j]
            T.copy(x_s, x_f)
            for i, j in T.Parallel(block_P, block_K):
                xt[i, j] = x_f[j, i] * decay[j]
            T.gemm(xt, b_s, acc)
        T.copy(acc, out)
        T.copy(out, states[b, c, h, bp * block_P:(bp + 1) * block_P, bn * block_N:(bn + 1) * block_N])


def reference(X, Bmat, dt, dA):
    """In float64, chunk by chunk as an einsum over positions: state[p, n] = sum over l of
    x[l, p] * decay[l] * B[l, n]. The kernel rounds x * decay to float16 (xt is a float16
    fragment), so the reference rounds that product too, and the state once at the end."""
    x = X.astype(np.float64).reshape(batch, nchunks, chunk, nheads, headdim)
    bm = Bmat.astype(np.float64).reshape(batch, nchunks, chunk, ngroups, dstate)
    bm = np.repeat(bm, nheads // ngroups, axis=3)                           # each head's group
    a = dA.astype(np.float64)
    decay = np.exp(a[..., -1:] - a) * dt.astype(np.float64)                # [batch, heads, chunks, chunk]
    weighted = x * np.moveaxis(decay, 1, 3)[..., None]                      # [batch, chunks, chunk, heads, P]
    weighted = weighted.astype(np.float16).astype(np.float64)
    return np.einsum("bclhp,bclhn->bchpn", weighted, bm).astype(np.float16)

"""The adds of a varlen attention backward, without the attention: one sequence of `seqlen` tokens
from row `start = cu_seqlens[0]` of a packed [tokens, heads, dim] tensor (a row read from DRAM, no
multiple of 32). Per (head bx, row block by): the group's KV head bx // 2 gets 2x of this head's
rows (masked past the sequence's end, as the backward masks its probabilities) with T.atomic_add
after the work, as dK and dV; dX's rows get x + 1 of every query block k of the sequence, added in
a loop whose trip count is read from DRAM, from every row block by, as dQ. The progression chapter
shows what P0c and C1 make of the three kinds of adds.
"""
import numpy as np

import nanott.language as T

UQ, H, D, MAX_SEQLEN, BM, BN, G = 192, 4, 64, 128, 64, 32, 2


@T.prim_func
def varlen_adds(X: T.Tensor((UQ, H, D), "float32"), cu_seqlens: T.Tensor((2,), "int32"),
                dX: T.Tensor((UQ, H, D), "float32"), dKV: T.Tensor((UQ, H // G, D), "float32")):
    with T.Kernel(H, T.ceildiv(MAX_SEQLEN, BM), 1, threads=128) as (bx, by, bz):
        x = T.alloc_shared((BM, D), "float32")
        acc = T.alloc_fragment((BM, D), "float32")
        q = T.alloc_shared((BN, D), "float32")
        part = T.alloc_fragment((BN, D), "float32")
        start = cu_seqlens[bz]
        seqlen = cu_seqlens[bz + 1] - start
        T.copy(X[start + by * BM:start + (by + 1) * BM, bx, :], x)
        for i, j in T.Parallel(BM, D):
            acc[i, j] = T.if_then_else(by * BM + i < seqlen, x[i, j] * 2, 0)
        for k in T.Pipelined(T.ceildiv(seqlen, BN), num_stages=1):
            T.copy(X[start + k * BN:start + (k + 1) * BN, bx, :], q)
            for i, j in T.Parallel(BN, D):
                part[i, j] = T.if_then_else(k * BN + i < seqlen, q[i, j] + 1, 0)
            T.atomic_add(dX[start + k * BN:start + (k + 1) * BN, bx, :], part)
        T.atomic_add(dKV[start + by * BM:start + (by + 1) * BM, bx // G, :], acc)


def reference(X, cu_seqlens):
    """In float64: dKV's rows of the sequence (at most MAX_SEQLEN) get 2x summed over the group's two
    heads, dX's get x + 1 once per row block; every other row stays zero (the host clears what
    atomic adds add into, as TileLang's does with torch.zeros)."""
    x = X.astype(np.float64)
    s = int(cu_seqlens[0])
    e = s + max(0, min(int(cu_seqlens[1]) - s, MAX_SEQLEN))
    dkv, dx = np.zeros((UQ, H // G, D)), np.zeros((UQ, H, D))
    dkv[s:e] += 2 * x[s:e].reshape(e - s, H // G, G, D).sum(axis=2)
    dx[s:e] += T.ceildiv(MAX_SEQLEN, BM) * (x[s:e] + 1)
    return dx.astype(np.float32), dkv.astype(np.float32)

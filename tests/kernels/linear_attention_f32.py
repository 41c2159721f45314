"""Chunked linear attention in float32 without the causal mask (the state h carried through the
chunk loop in a CB the compute kernel feeds itself): o = (q k^T) v + q h, then h += k^T v."""
import numpy as np

import nanott.language as T


S_, D, C = 256, 64, 64


@T.prim_func
def main(Q: T.Tensor((S_, D), "float32"), K: T.Tensor((S_, D), "float32"),
         V: T.Tensor((S_, D), "float32"), O: T.Tensor((S_, D), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        q = T.alloc_shared((C, D), "float32")
        k = T.alloc_shared((C, D), "float32")
        v = T.alloc_shared((C, D), "float32")
        h = T.alloc_fragment((D, D), "float32")
        h_s = T.alloc_shared((D, D), "float32")
        s = T.alloc_fragment((C, C), "float32")
        s_s = T.alloc_shared((C, C), "float32")
        o = T.alloc_fragment((C, D), "float32")
        T.clear(h)
        for i in T.Pipelined(S_ // C, num_stages=1):
            T.copy(Q[i * C, 0], q)
            T.copy(K[i * C, 0], k)
            T.copy(V[i * C, 0], v)
            T.gemm(q, k, s, clear_accum=True, transpose_B=True)
            T.copy(s, s_s)
            T.gemm(s_s, v, o, clear_accum=True)
            T.copy(h, h_s)
            T.gemm(k, v, h, transpose_A=True)
            T.gemm(q, h_s, o)
            T.copy(o, O[i * C, 0])


def reference(Q, K, V):
    Q, K, V = (x.astype(np.float64) for x in (Q, K, V))
    out, h = np.zeros_like(Q), np.zeros((D, D))
    for i in range(S_ // C):
        q, k, v = (x[i * C:(i + 1) * C] for x in (Q, K, V))
        out[i * C:(i + 1) * C] = (q @ k.T) @ v + q @ h
        h = h + k.T @ v
    return out

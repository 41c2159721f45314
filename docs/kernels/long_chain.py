"""A long elementwise chain (course ch. 4, C2c): each step of a recurrence in a fragment of its own.

Block bx of Y is the sum over four K blocks of h33, where h0 = x / 8 and h(k) = h(k-1) / 2 + c(k) x,
c(k) = (k mod 5 + 1) / 8, x the block of X. Written the way a TileLang user writes a chain of
steps: 34 fragments, x and the accumulator make 36 buffers, and C2b stages the accumulator for
the writer: 37 circular buffers, more than the 32 of a Wormhole core. Each step's block is alive
from the statement that makes it to the one that reads it, so C2c lets them share two CBs.
"""
import nanott.language as T


@T.prim_func
def long_chain(X: T.Tensor((64, 128), "float32"), Y: T.Tensor((64, 32), "float32")):
    with T.Kernel(2, threads=128) as bx:
        x = T.alloc_shared((32, 32), "float32")
        acc = T.alloc_fragment((32, 32), "float32")
        h0 = T.alloc_fragment((32, 32), "float32")
        h1 = T.alloc_fragment((32, 32), "float32")
        h2 = T.alloc_fragment((32, 32), "float32")
        h3 = T.alloc_fragment((32, 32), "float32")
        h4 = T.alloc_fragment((32, 32), "float32")
        h5 = T.alloc_fragment((32, 32), "float32")
        h6 = T.alloc_fragment((32, 32), "float32")
        h7 = T.alloc_fragment((32, 32), "float32")
        h8 = T.alloc_fragment((32, 32), "float32")
        h9 = T.alloc_fragment((32, 32), "float32")
        h10 = T.alloc_fragment((32, 32), "float32")
        h11 = T.alloc_fragment((32, 32), "float32")
        h12 = T.alloc_fragment((32, 32), "float32")
        h13 = T.alloc_fragment((32, 32), "float32")
        h14 = T.alloc_fragment((32, 32), "float32")
        h15 = T.alloc_fragment((32, 32), "float32")
        h16 = T.alloc_fragment((32, 32), "float32")
        h17 = T.alloc_fragment((32, 32), "float32")
        h18 = T.alloc_fragment((32, 32), "float32")
        h19 = T.alloc_fragment((32, 32), "float32")
        h20 = T.alloc_fragment((32, 32), "float32")
        h21 = T.alloc_fragment((32, 32), "float32")
        h22 = T.alloc_fragment((32, 32), "float32")
        h23 = T.alloc_fragment((32, 32), "float32")
        h24 = T.alloc_fragment((32, 32), "float32")
        h25 = T.alloc_fragment((32, 32), "float32")
        h26 = T.alloc_fragment((32, 32), "float32")
        h27 = T.alloc_fragment((32, 32), "float32")
        h28 = T.alloc_fragment((32, 32), "float32")
        h29 = T.alloc_fragment((32, 32), "float32")
        h30 = T.alloc_fragment((32, 32), "float32")
        h31 = T.alloc_fragment((32, 32), "float32")
        h32 = T.alloc_fragment((32, 32), "float32")
        h33 = T.alloc_fragment((32, 32), "float32")
        T.clear(acc)
        for k in T.serial(4):
            T.copy(X[bx * 32, k * 32], x)
            for i, j in T.Parallel(32, 32):
                h0[i, j] = x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h1[i, j] = h0[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h2[i, j] = h1[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h3[i, j] = h2[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h4[i, j] = h3[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h5[i, j] = h4[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h6[i, j] = h5[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h7[i, j] = h6[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h8[i, j] = h7[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h9[i, j] = h8[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h10[i, j] = h9[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h11[i, j] = h10[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h12[i, j] = h11[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h13[i, j] = h12[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h14[i, j] = h13[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h15[i, j] = h14[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h16[i, j] = h15[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h17[i, j] = h16[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h18[i, j] = h17[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h19[i, j] = h18[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h20[i, j] = h19[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h21[i, j] = h20[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h22[i, j] = h21[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h23[i, j] = h22[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h24[i, j] = h23[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h25[i, j] = h24[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h26[i, j] = h25[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h27[i, j] = h26[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h28[i, j] = h27[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                h29[i, j] = h28[i, j] * 0.5 + x[i, j] * 0.625
            for i, j in T.Parallel(32, 32):
                h30[i, j] = h29[i, j] * 0.5 + x[i, j] * 0.125
            for i, j in T.Parallel(32, 32):
                h31[i, j] = h30[i, j] * 0.5 + x[i, j] * 0.25
            for i, j in T.Parallel(32, 32):
                h32[i, j] = h31[i, j] * 0.5 + x[i, j] * 0.375
            for i, j in T.Parallel(32, 32):
                h33[i, j] = h32[i, j] * 0.5 + x[i, j] * 0.5
            for i, j in T.Parallel(32, 32):
                acc[i, j] += h33[i, j]
        T.copy(acc, Y[bx * 32, 0])

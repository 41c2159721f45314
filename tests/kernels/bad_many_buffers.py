"""A bad kernel: 34 fragments all alive at once (each read by the sum at the end), more circular
buffers than a Wormhole core has even when buffers alive one after another share one (NT202)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((32, 32), "float32"), C: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((32, 32), "float32")
        s = T.alloc_fragment((32, 32), "float32")
        b0 = T.alloc_fragment((32, 32), "float32")
        b1 = T.alloc_fragment((32, 32), "float32")
        b2 = T.alloc_fragment((32, 32), "float32")
        b3 = T.alloc_fragment((32, 32), "float32")
        b4 = T.alloc_fragment((32, 32), "float32")
        b5 = T.alloc_fragment((32, 32), "float32")
        b6 = T.alloc_fragment((32, 32), "float32")
        b7 = T.alloc_fragment((32, 32), "float32")
        b8 = T.alloc_fragment((32, 32), "float32")
        b9 = T.alloc_fragment((32, 32), "float32")
        b10 = T.alloc_fragment((32, 32), "float32")
        b11 = T.alloc_fragment((32, 32), "float32")
        b12 = T.alloc_fragment((32, 32), "float32")
        b13 = T.alloc_fragment((32, 32), "float32")
        b14 = T.alloc_fragment((32, 32), "float32")
        b15 = T.alloc_fragment((32, 32), "float32")
        b16 = T.alloc_fragment((32, 32), "float32")
        b17 = T.alloc_fragment((32, 32), "float32")
        b18 = T.alloc_fragment((32, 32), "float32")
        b19 = T.alloc_fragment((32, 32), "float32")
        b20 = T.alloc_fragment((32, 32), "float32")
        b21 = T.alloc_fragment((32, 32), "float32")
        b22 = T.alloc_fragment((32, 32), "float32")
        b23 = T.alloc_fragment((32, 32), "float32")
        b24 = T.alloc_fragment((32, 32), "float32")
        b25 = T.alloc_fragment((32, 32), "float32")
        b26 = T.alloc_fragment((32, 32), "float32")
        b27 = T.alloc_fragment((32, 32), "float32")
        b28 = T.alloc_fragment((32, 32), "float32")
        b29 = T.alloc_fragment((32, 32), "float32")
        b30 = T.alloc_fragment((32, 32), "float32")
        b31 = T.alloc_fragment((32, 32), "float32")
        b32 = T.alloc_fragment((32, 32), "float32")
        b33 = T.alloc_fragment((32, 32), "float32")
        T.copy(A[0, 0], A_s)
        T.clear(s)
        for i, j in T.Parallel(32, 32):
            b0[i, j] = A_s[i, j] + 0.0
        for i, j in T.Parallel(32, 32):
            b1[i, j] = A_s[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b2[i, j] = A_s[i, j] + 2.0
        for i, j in T.Parallel(32, 32):
            b3[i, j] = A_s[i, j] + 3.0
        for i, j in T.Parallel(32, 32):
            b4[i, j] = A_s[i, j] + 4.0
        for i, j in T.Parallel(32, 32):
            b5[i, j] = A_s[i, j] + 5.0
        for i, j in T.Parallel(32, 32):
            b6[i, j] = A_s[i, j] + 6.0
        for i, j in T.Parallel(32, 32):
            b7[i, j] = A_s[i, j] + 7.0
        for i, j in T.Parallel(32, 32):
            b8[i, j] = A_s[i, j] + 8.0
        for i, j in T.Parallel(32, 32):
            b9[i, j] = A_s[i, j] + 9.0
        for i, j in T.Parallel(32, 32):
            b10[i, j] = A_s[i, j] + 10.0
        for i, j in T.Parallel(32, 32):
            b11[i, j] = A_s[i, j] + 11.0
        for i, j in T.Parallel(32, 32):
            b12[i, j] = A_s[i, j] + 12.0
        for i, j in T.Parallel(32, 32):
            b13[i, j] = A_s[i, j] + 13.0
        for i, j in T.Parallel(32, 32):
            b14[i, j] = A_s[i, j] + 14.0
        for i, j in T.Parallel(32, 32):
            b15[i, j] = A_s[i, j] + 15.0
        for i, j in T.Parallel(32, 32):
            b16[i, j] = A_s[i, j] + 16.0
        for i, j in T.Parallel(32, 32):
            b17[i, j] = A_s[i, j] + 17.0
        for i, j in T.Parallel(32, 32):
            b18[i, j] = A_s[i, j] + 18.0
        for i, j in T.Parallel(32, 32):
            b19[i, j] = A_s[i, j] + 19.0
        for i, j in T.Parallel(32, 32):
            b20[i, j] = A_s[i, j] + 20.0
        for i, j in T.Parallel(32, 32):
            b21[i, j] = A_s[i, j] + 21.0
        for i, j in T.Parallel(32, 32):
            b22[i, j] = A_s[i, j] + 22.0
        for i, j in T.Parallel(32, 32):
            b23[i, j] = A_s[i, j] + 23.0
        for i, j in T.Parallel(32, 32):
            b24[i, j] = A_s[i, j] + 24.0
        for i, j in T.Parallel(32, 32):
            b25[i, j] = A_s[i, j] + 25.0
        for i, j in T.Parallel(32, 32):
            b26[i, j] = A_s[i, j] + 26.0
        for i, j in T.Parallel(32, 32):
            b27[i, j] = A_s[i, j] + 27.0
        for i, j in T.Parallel(32, 32):
            b28[i, j] = A_s[i, j] + 28.0
        for i, j in T.Parallel(32, 32):
            b29[i, j] = A_s[i, j] + 29.0
        for i, j in T.Parallel(32, 32):
            b30[i, j] = A_s[i, j] + 30.0
        for i, j in T.Parallel(32, 32):
            b31[i, j] = A_s[i, j] + 31.0
        for i, j in T.Parallel(32, 32):
            b32[i, j] = A_s[i, j] + 32.0
        for i, j in T.Parallel(32, 32):
            b33[i, j] = A_s[i, j] + 33.0
        for i, j in T.Parallel(32, 32):
            s[i, j] += b0[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b1[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b2[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b3[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b4[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b5[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b6[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b7[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b8[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b9[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b10[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b11[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b12[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b13[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b14[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b15[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b16[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b17[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b18[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b19[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b20[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b21[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b22[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b23[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b24[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b25[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b26[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b27[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b28[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b29[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b30[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b31[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b32[i, j]
        for i, j in T.Parallel(32, 32):
            s[i, j] += b33[i, j]
        T.copy(s, C[0, 0])

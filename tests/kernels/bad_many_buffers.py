"""A bad kernel: a chain of 34 fragments, more circular buffers than a Wormhole core has (NT202)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((32, 32), "float32"), C: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((32, 32), "float32")
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
        for i, j in T.Parallel(32, 32):
            b0[i, j] = A_s[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b1[i, j] = b0[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b2[i, j] = b1[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b3[i, j] = b2[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b4[i, j] = b3[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b5[i, j] = b4[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b6[i, j] = b5[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b7[i, j] = b6[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b8[i, j] = b7[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b9[i, j] = b8[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b10[i, j] = b9[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b11[i, j] = b10[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b12[i, j] = b11[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b13[i, j] = b12[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b14[i, j] = b13[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b15[i, j] = b14[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b16[i, j] = b15[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b17[i, j] = b16[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b18[i, j] = b17[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b19[i, j] = b18[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b20[i, j] = b19[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b21[i, j] = b20[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b22[i, j] = b21[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b23[i, j] = b22[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b24[i, j] = b23[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b25[i, j] = b24[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b26[i, j] = b25[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b27[i, j] = b26[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b28[i, j] = b27[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b29[i, j] = b28[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b30[i, j] = b29[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b31[i, j] = b30[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b32[i, j] = b31[i, j] + 1.0
        for i, j in T.Parallel(32, 32):
            b33[i, j] = b32[i, j] + 1.0
        T.copy(b33, C[0, 0])

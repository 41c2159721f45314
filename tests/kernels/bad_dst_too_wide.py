"""A bad kernel: a tile expression that needs more DST tiles than the DST holds (NT203)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((32, 32), "float32"), B: T.Tensor((32, 32), "float32"), C: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((32, 32), "float32")
        B_s = T.alloc_shared((32, 32), "float32")
        C_l = T.alloc_fragment((32, 32), "float32")
        T.copy(A[0, 0], A_s)
        T.copy(B[0, 0], B_s)
        for i, j in T.Parallel(32, 32):
            C_l[i, j] = T.exp(A_s[i, j]) * (T.exp(B_s[i, j]) * (T.log(A_s[i, j]) * (T.sqrt(B_s[i, j]) * (T.exp2(A_s[i, j]) * (T.tanh(B_s[i, j]) * (T.sigmoid(A_s[i, j]) * (T.abs(B_s[i, j]) * T.rsqrt(A_s[i, j]))))))))
        T.copy(C_l, C[0, 0])

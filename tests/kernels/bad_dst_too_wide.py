"""A bad kernel: a tile expression that needs more DST tiles than the DST holds (NT203): a balanced
product of 16 SFPU values needs 5 in any order of evaluation (Sethi and Ullman), fp32 mode holds 4."""
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
            C_l[i, j] = (((T.exp(A_s[i, j]) * T.log(B_s[i, j])) * (T.sqrt(A_s[i, j]) * T.exp2(B_s[i, j]))) * ((T.tanh(A_s[i, j]) * T.sigmoid(B_s[i, j])) * (T.abs(A_s[i, j]) * T.rsqrt(B_s[i, j])))) * (((T.exp(A_s[i, j]) * T.log(B_s[i, j])) * (T.sqrt(A_s[i, j]) * T.exp2(B_s[i, j]))) * ((T.tanh(A_s[i, j]) * T.sigmoid(B_s[i, j])) * (T.abs(A_s[i, j]) * T.rsqrt(B_s[i, j]))))
        T.copy(C_l, C[0, 0])

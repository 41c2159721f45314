"""A bad kernel: a vector used as one value per row and per column (NT322)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        s = T.alloc_fragment((64,), "float32")
        C_l = T.alloc_fragment((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        T.reduce_sum(A_s, s, dim=1)
        for i, j in T.Parallel(64, 64):
            C_l[i, j] = A_s[i, j] * s[i] + s[j]
        T.copy(C_l, C[0, 0])

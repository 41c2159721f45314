"""A bad kernel: a T.Parallel that stores its block transposed (NT317; a transposed read is fine)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        C_l = T.alloc_fragment((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        for i, j in T.Parallel(64, 64):
            C_l[j, i] = A_s[i, j]
        T.copy(C_l, C[0, 0])

"""A bad kernel: a 3-D on-chip buffer (NT313)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((2, 64, 64), "float32"), C: T.Tensor((2, 64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((2, 64, 64), "float32")
        T.copy(A[0, 0, 0], A_s)
        T.copy(A_s, C[0, 0, 0])

"""A bad kernel: a 0-D on-chip buffer (NT311)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        s = T.alloc_fragment((), "float32")
        T.copy(A[0, 0], A_s)
        T.copy(A_s, C[0, 0])

"""A bad kernel: a tile operation outside  (NT110)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    A_s = T.alloc_shared((64, 64), "float32")
    with T.Kernel(1, 1) as (bx, by):
        T.copy(A[0, 0], A_s)
        T.copy(A_s, C[0, 0])

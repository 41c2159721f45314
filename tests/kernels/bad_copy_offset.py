"""A bad kernel: a copy that starts inside a tile (NT112)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[16, 0], A_s)
        T.copy(A_s, C[0, 0])

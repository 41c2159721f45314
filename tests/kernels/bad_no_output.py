"""A bad kernel: it reads a tensor and writes none (NT122)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)

"""A bad kernel: T.cpoy, a typo for T.copy (NT108)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(1) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.cpoy(A, A_s)

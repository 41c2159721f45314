"""A bad kernel: a float64 tensor parameter (NT101): Tensix has no 64-bit format."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"),
        B: T.Tensor((64, 64), T.float64)):
    with T.Kernel(1) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A, A_s)
        T.copy(A_s, B)

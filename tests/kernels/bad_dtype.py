"""A bad kernel: a float16 tensor parameter (NT101)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"),
        B: T.Tensor((64, 64), T.float16)):
    with T.Kernel(1) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A, A_s)
        T.copy(A_s, B)

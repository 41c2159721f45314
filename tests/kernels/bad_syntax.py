"""A bad kernel file: a syntax error (NT902 from the loader)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32")):
    with T.Kernel(1) as bx
        pass

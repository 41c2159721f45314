"""A bad kernel: a slice whose extent depends on block indices (NT102)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2, 2) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[bx * 64:by * 64, :], A_s)

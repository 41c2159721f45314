"""A bad kernel: a copy from one DRAM tensor to another (NT314)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        T.copy(A[0:64, 0:64], C[0:64, 0:64])

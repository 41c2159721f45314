"""A bad kernel: a T.Parallel that reads a DRAM tensor directly (NT315)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        C_l = T.alloc_fragment((64, 64), "float32")
        for i, j in T.Parallel(64, 64):
            C_l[i, j] = A[i, j] * 2.0
        T.copy(C_l, C[0, 0])

"""A bad kernel: a T.atomic_add inside a loop whose regions overlap (each step moves the 64-row
destination by 32 rows, so two iterations add into the same rows: NT323)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((128, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        for k in T.serial(2):
            T.atomic_add(C[k * 32, 0], A_s)

"""A bad kernel: a T.atomic_add inside a loop, into the same region at every iteration (NT323)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        for k in T.serial(2):
            T.atomic_add(C[0, 0], A_s)

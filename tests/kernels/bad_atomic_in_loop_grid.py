"""A bad kernel: a T.atomic_add inside a loop into a region that the two blocks of grid index by
share (the destination does not read by: two blocks add into the same rows, NT323)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((128, 64), "float32")):
    with T.Kernel(1, 2) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        for k in T.serial(2):
            T.atomic_add(C[k * 64, 0], A_s)

"""A bad kernel: a T.serial loop with a step of 2 (NT304; a loop from 1 runs, offset)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(1) as bx:
        A_s = T.alloc_shared((32, 64), "float32")
        for k in T.serial(0, 2, 2):
            T.copy(A[k * 32, 0], A_s)
            T.copy(A_s, B[k * 32, 0])

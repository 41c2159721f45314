"""A bad kernel: an element of a DRAM tensor stored under an `if` on a T.Parallel index (NT302:
predicate.py makes stores into on-chip buffers conditional, and a branch around tile ops outside
a T.Parallel becomes a loop run once or never, but a DRAM store inside one is neither)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[bx * 64, 0], A_s)
        for i, j in T.Parallel(64, 64):
            if i < 32:
                B[bx * 64 + i, j] = A_s[i, j]

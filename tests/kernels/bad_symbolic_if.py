"""A bad kernel: an element of a DRAM tensor stored under an `if` that reads an on-chip buffer,
inside a T.Parallel (NT302: predicate.py makes stores into on-chip buffers conditional, and a
store into DRAM one only when its condition is on indices and run-time scalars, whole rows of a
block: a row scatter; a condition on data in L1 differs per element, which no writer can test)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[bx * 64, 0], A_s)
        for i, j in T.Parallel(64, 64):
            if A_s[i, j] > 0:
                B[bx * 64 + i, j] = A_s[i, j]

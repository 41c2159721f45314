"""A bad kernel: a T.copy into DRAM under an `if` on the block index (NT302: predicate.py makes
stores into on-chip buffers conditional, not a tile copy)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), B: T.Tensor((128, 64), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[bx * 64, 0], A_s)
        if bx < 1:
            T.copy(A_s, B[bx * 64, 0])

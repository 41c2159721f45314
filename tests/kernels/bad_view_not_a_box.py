"""A bad kernel: 64 rows of a (4 * 32, 64) view of a (4, 32, 64) tensor span two of its 32-row
matrices, so the block is no box of the tensor a copy could move (NT331)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((128, 64), "float32"), C: T.Tensor((4, 32, 64), "float32")):
    with T.Kernel(2) as bx:
        A_s = T.alloc_shared((64, 64), "float32")
        C_flat = T.Tensor((4 * 32, 64), "float32", C.data)
        T.copy(A[bx * 64, 0], A_s)
        T.copy(A_s, C_flat[bx * 64, 0])

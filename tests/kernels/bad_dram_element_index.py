"""A bad kernel (NT315): a T.Parallel writes elements of the DRAM tensor C with an index that
leaves out the loop's j, so every iteration along j writes the same element: the loop cannot be
staged through a fragment of whole tiles (P0b)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[0, 0], A_s)
        for i, j in T.Parallel(64, 64):
            C[i, 0] = A_s[i, j]

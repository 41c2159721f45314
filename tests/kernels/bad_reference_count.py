"""A kernel whose NumPy reference returns two arrays for one output (NT916)."""
import nanott.language as T


@T.prim_func
def main(A: T.Tensor((32, 32), "float32"), C: T.Tensor((32, 32), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((32, 32), "float32")
        T.copy(A[0, 0], A_s)
        T.copy(A_s, C[0, 0])


def reference(A):
    return A, A

"""An in-place kernel, A += B in 32x32 blocks: A is read, then written (an input and an output)."""
import nanott.language as T


@T.prim_func
def main(A: T.Tensor((64, 64), "float32"), B: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, 2) as (bx, by):
        A_s = T.alloc_shared((32, 32), "float32")
        B_s = T.alloc_shared((32, 32), "float32")
        C_l = T.alloc_fragment((32, 32), "float32")
        T.copy(A[by * 32, bx * 32], A_s)
        T.copy(B[by * 32, bx * 32], B_s)
        for i, j in T.Parallel(32, 32):
            C_l[i, j] = A_s[i, j] + B_s[i, j]
        T.copy(C_l, A[by * 32, bx * 32])


def reference(A, B):
    return A + B

"""A bad kernel: a ragged tensor the kernel reads and writes (NT312)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((100, 64), "float32"), B: T.Tensor((100, 64), "float32")):
    with T.Kernel(1, 4) as (bx, by):
        A_s = T.alloc_shared((32, 64), "float32")
        B_s = T.alloc_shared((32, 64), "float32")
        T.copy(A[by * 32, 0], A_s)
        T.copy(B[by * 32, 0], B_s)
        for i, j in T.Parallel(32, 64):
            A_s[i, j] = A_s[i, j] + B_s[i, j]
        T.copy(A_s, A[by * 32, 0])

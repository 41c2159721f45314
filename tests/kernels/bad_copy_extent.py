"""A bad kernel: a 128-row slice copied into a 64-row buffer (NT103)."""
import nanott.language as T

M, K = 256, 64


@T.prim_func
def bad(A: T.Tensor((M, K), "bfloat16"), C: T.Tensor((M, K), "bfloat16")):
    with T.Kernel(M // 128) as by:
        A_s = T.alloc_shared((64, 32), "bfloat16")
        T.copy(A[by * 128:(by + 1) * 128, 0:32], A_s)
        T.copy(A_s, C[by * 128, 0])

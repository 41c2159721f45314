"""A bad kernel: a misspelt keyword, transpose_b for transpose_B (NT113)."""
import nanott.language as T

M = N = K = 64


@T.prim_func
def bad(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        A_s = T.alloc_shared((64, 32), "bfloat16")
        B_s = T.alloc_shared((32, 64), "bfloat16")
        C_l = T.alloc_fragment((64, 64), "float")
        T.clear(C_l)
        for k in T.Pipelined(2, num_stages=2):
            T.copy(A[0, k * 32], A_s)
            T.copy(B[k * 32, 0], B_s)
            T.gemm(A_s, B_s, C_l, transpose_b=False)
        T.copy(C_l, C[0, 0])

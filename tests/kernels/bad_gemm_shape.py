"""A bad kernel: T.gemm with B_s of (64, 64) where K is 32 (NT105)."""
import nanott.language as T

M = N = K = 128
bm, bn, bk = 64, 64, 32


@T.prim_func
def bad(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((K, N), "bfloat16"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(N // bn, M // bm) as (bx, by):
        A_s = T.alloc_shared((bm, bk), "bfloat16")
        B_s = T.alloc_shared((2 * bk, bn), "bfloat16")
        C_l = T.alloc_fragment((bm, bn), "float")
        T.clear(C_l)
        T.gemm(A_s, B_s, C_l)
        T.copy(C_l, C[by * bm, bx * bn])

"""A bad kernel: a 48-row block, no multiple of the 32x32 tile (NT111)."""
import nanott.language as T

M, N, K = 96, 64, 64
bm, bn, bk = 48, 64, 32


@T.prim_func
def bad(A: T.Tensor((M, K), "float32"), B: T.Tensor((K, N), "float32"), C: T.Tensor((M, N), "float32")):
    with T.Kernel(N // bn, M // bm) as (bx, by):
        A_s = T.alloc_shared((bm, bk), "float32")
        B_s = T.alloc_shared((bk, bn), "float32")
        C_l = T.alloc_fragment((bm, bn), "float32")
        T.clear(C_l)
        for k in T.Pipelined(K // bk, num_stages=2):
            T.copy(A[by * bm, k * bk], A_s)
            T.copy(B[k * bk, bx * bn], B_s)
            T.gemm(A_s, B_s, C_l)
        T.copy(C_l, C[by * bm, bx * bn])

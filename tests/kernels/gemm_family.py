"""A GEMM factory with every knob issue 2 promises to handle, for tests/test_generality.py:
block sizes, grid roles (bx over columns or over rows), input/output dtypes, pipeline stages."""
import nanott.language as T


def matmul(M, N, K, bm, bn, bk, in_dtype="bfloat16", out_dtype="float32", stages=2, rows_first=False):
    @T.prim_func
    def gemm(A: T.Tensor((M, K), in_dtype), B: T.Tensor((K, N), in_dtype), C: T.Tensor((M, N), out_dtype)):
        if rows_first:
            with T.Kernel(T.ceildiv(M, bm), T.ceildiv(N, bn), threads=128) as (bx, by):
                A_s = T.alloc_shared((bm, bk), in_dtype)
                B_s = T.alloc_shared((bk, bn), in_dtype)
                C_l = T.alloc_fragment((bm, bn), "float")
                T.clear(C_l)
                for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                    T.copy(A[bx * bm, k * bk], A_s)
                    T.copy(B[k * bk, by * bn], B_s)
                    T.gemm(A_s, B_s, C_l)
                T.copy(C_l, C[bx * bm, by * bn])
        else:
            with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
                A_s = T.alloc_shared((bm, bk), in_dtype)
                B_s = T.alloc_shared((bk, bn), in_dtype)
                C_l = T.alloc_fragment((bm, bn), "float")
                T.clear(C_l)
                for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                    T.copy(A[by * bm, k * bk], A_s)
                    T.copy(B[k * bk, bx * bn], B_s)
                    T.gemm(A_s, B_s, C_l)
                T.copy(C_l, C[by * bm, bx * bn])
    return gemm

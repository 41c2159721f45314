"""A GEMM factory over the variants issue 4 adds, for tests/test_generality.py: A stored K x M
(transpose_A), B stored N x K (transpose_B), and an epilogue after the K loop: a scale, a bias tile
added, a ReLU written as T.max(x, 0)."""
import nanott.language as T


def matmul(M, N, K, bm, bn, bk, trans_a=False, trans_b=False, scale=1.0, bias=False, relu=False,
           in_dtype="bfloat16", out_dtype="float32", stages=2):
    a_shape, a_block = ((K, M), (bk, bm)) if trans_a else ((M, K), (bm, bk))
    b_shape, b_block = ((N, K), (bn, bk)) if trans_b else ((K, N), (bk, bn))

    @T.prim_func
    def gemm(A: T.Tensor(a_shape, in_dtype), B: T.Tensor(b_shape, in_dtype),
             D: T.Tensor((M, N), in_dtype), C: T.Tensor((M, N), out_dtype)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (bx, by):
            A_s = T.alloc_shared(a_block, in_dtype)
            B_s = T.alloc_shared(b_block, in_dtype)
            if bias:
                D_s = T.alloc_shared((bm, bn), in_dtype)
            C_l = T.alloc_fragment((bm, bn), "float")
            T.clear(C_l)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                if trans_a:
                    T.copy(A[k * bk, by * bm], A_s)
                else:
                    T.copy(A[by * bm, k * bk], A_s)
                if trans_b:
                    T.copy(B[bx * bn, k * bk], B_s)
                else:
                    T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, C_l, transpose_A=trans_a, transpose_B=trans_b)
            if bias:
                T.copy(D[by * bm, bx * bn], D_s)
                for i, j in T.Parallel(bm, bn):
                    C_l[i, j] = C_l[i, j] * scale + D_s[i, j]
            else:
                for i, j in T.Parallel(bm, bn):
                    C_l[i, j] = C_l[i, j] * scale
            if relu:
                for i, j in T.Parallel(bm, bn):
                    C_l[i, j] = T.max(C_l[i, j], 0)
            T.copy(C_l, C[by * bm, bx * bn])
    return gemm

"""A split-K GEMM factory for tests/test_generality.py: TileLang's split-K kernel (a third grid dim
over K slices, partial products added into C with the tile form of T.atomic_add), with the block
sizes, slice count, dtypes and the place of the split dim in the grid as knobs."""
import nanott.language as T


def matmul(M, N, K, bm, bn, bk, split, in_dtype="bfloat16", out_dtype="float32", split_first=False):
    slice_k = K // split

    @T.prim_func
    def gemm(A: T.Tensor((M, K), in_dtype), B: T.Tensor((K, N), in_dtype), C: T.Tensor((M, N), out_dtype)):
        if split_first:
            with T.Kernel(split, T.ceildiv(N, bn), T.ceildiv(M, bm)) as (bz, bx, by):
                A_s = T.alloc_shared((bm, bk), in_dtype)
                B_s = T.alloc_shared((bk, bn), in_dtype)
                C_l = T.alloc_fragment((bm, bn), "float")
                T.clear(C_l)
                for ko in T.Pipelined(T.ceildiv(slice_k, bk), num_stages=2):
                    T.copy(A[by * bm, bz * slice_k + ko * bk], A_s)
                    T.copy(B[bz * slice_k + ko * bk, bx * bn], B_s)
                    T.gemm(A_s, B_s, C_l)
                T.atomic_add(C[by * bm, bx * bn], C_l)
        else:
            with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), split) as (bx, by, bz):
                A_s = T.alloc_shared((bm, bk), in_dtype)
                B_s = T.alloc_shared((bk, bn), in_dtype)
                C_l = T.alloc_fragment((bm, bn), "float")
                T.clear(C_l)
                for ko in T.Pipelined(T.ceildiv(slice_k, bk), num_stages=0):
                    T.copy(A[by * bm, bz * slice_k + ko * bk], A_s)
                    T.copy(B[bz * slice_k + ko * bk, bx * bn], B_s)
                    T.gemm(A_s, B_s, C_l)
                T.atomic_add(C[by * bm, bx * bn], C_l)
    return gemm

"""A bad kernel: T.gemm reading a DRAM tensor directly (NT106)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 32), "bfloat16"), B: T.Tensor((32, 64), "bfloat16"), C: T.Tensor((64, 64), "float32")):
    with T.Kernel(1, 1) as (bx, by):
        B_s = T.alloc_shared((32, 64), "bfloat16")
        C_l = T.alloc_fragment((64, 64), "float32")
        T.copy(B, B_s)
        T.gemm(A, B_s, C_l, clear_accum=True)
        T.copy(C_l, C)

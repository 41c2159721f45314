"""A bad kernel (NT324): two launches share the scratch tensor S but copy it in blocks of
different heights, so A1 pads S to 128 rows for the first (two 64-row blocks) and keeps 96 for
the second (three 32-row blocks): one DRAM buffer cannot have both layouts."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((96, 64), "float32"), C: T.Tensor((96, 64), "float32")):
    S = T.alloc_global((96, 64), "float32")
    with T.Kernel(1, 2) as (bx, by):
        A_s = T.alloc_shared((64, 64), "float32")
        T.copy(A[by * 64, 0], A_s)
        T.copy(A_s, S[by * 64, 0])
    with T.Kernel(1, 3) as (bx, by):
        S_s = T.alloc_shared((32, 64), "float32")
        T.copy(S[by * 32, 0], S_s)
        T.copy(S_s, C[by * 32, 0])

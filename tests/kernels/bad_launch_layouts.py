"""A bad kernel (NT324): two launches share the scratch tensor S but copy it in blocks along
different dims: the first moves (dim 0, dim 2) blocks (S[0:32, j, 0:32]), so A1 stores S with
dim 1 first; the second moves (dim 1, dim 2) blocks (S[i, 0:32, 0:32]) and keeps the order as
written. One DRAM buffer cannot be stored in both orders."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((32, 32, 32), "float32"), C: T.Tensor((32, 32, 32), "float32")):
    S = T.alloc_global((32, 32, 32), "float32")
    with T.Kernel(32) as j:
        A_s = T.alloc_shared((32, 32), "float32")
        T.copy(A[0:32, j, 0:32], A_s)
        T.copy(A_s, S[0:32, j, 0:32])
    with T.Kernel(32) as i:
        S_s = T.alloc_shared((32, 32), "float32")
        T.copy(S[i, 0:32, 0:32], S_s)
        T.copy(S_s, C[i, 0:32, 0:32])

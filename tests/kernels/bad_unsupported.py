"""A bad kernel: T.cumsum, which nanott does not lower yet (NT301)."""
import nanott.language as T


@T.prim_func
def bad(A: T.Tensor((64, 64), "float32"), S: T.Tensor((64, 64), "float32")):
    with T.Kernel(1) as bx:
        A_l = T.alloc_fragment((64, 64), "float32")
        S_l = T.alloc_fragment((64, 64), "float32")
        T.copy(A, A_l)
        T.cumsum(A_l, S_l, dim=1)
        T.copy(S_l, S)

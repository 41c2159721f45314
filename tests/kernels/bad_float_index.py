"""A bad kernel: rows chosen by a float tensor's element (NT123, in P0: nanott would truncate it)."""
import tilelang.language as T


@T.prim_func
def bad(X: T.Tensor((128, 64), "float32"), Starts: T.Tensor((2,), "float32"), Y: T.Tensor((64, 64), "float32")):
    with T.Kernel(2, threads=128) as bx:
        X_s = T.alloc_shared((32, 64), "float32")
        start = Starts[bx]
        T.copy(X[start:start + 32, :], X_s)
        T.copy(X_s, Y[bx * 32, 0])

"""A bad kernel (NT330): the number of steps of a loop is read from a DRAM tensor. Only the reader
reads DRAM elements (it chooses what to copy with them); compute runs the loop too, and nothing
passes the value from the reader to compute yet (D1)."""
import nanott.language as T


@T.prim_func
def bad(X: T.Tensor((64, 64), "bfloat16"), Counts: T.Tensor((2,), "int32"), Y: T.Tensor((64, 64), "bfloat16")):
    with T.Kernel(2, threads=128) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        acc = T.alloc_fragment((32, 64), "float")
        T.fill(acc, 0)
        n = Counts[bx]
        for t in T.serial(n):
            T.copy(X[bx * 32, 0], X_s)
            for i, j in T.Parallel(32, 64):
                acc[i, j] += X_s[i, j]
        T.copy(acc, Y[bx * 32, 0])

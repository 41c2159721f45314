"""A bad kernel (NT330): the number of blocks a loop copies out to DRAM is read from a DRAM tensor.
Only the reader reads DRAM elements; it sends them to compute when compute needs them (D1), but
the writer, which runs the loop too to write Y, is sent nothing."""
import nanott.language as T


@T.prim_func
def bad(X: T.Tensor((64, 64), "bfloat16"), Counts: T.Tensor((2,), "int32"), Y: T.Tensor((128, 64), "bfloat16")):
    with T.Kernel(2, threads=128) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        n = Counts[bx]
        for t in T.serial(n):
            T.copy(X[bx * 32, 0], X_s)
            T.copy(X_s, Y[bx * 64 + t * 32, 0])

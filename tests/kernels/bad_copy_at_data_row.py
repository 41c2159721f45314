"""A bad kernel: a copy into DRAM whose start row is read from DRAM (a group's offset), not provably
a whole number of tiles (NT112, naming the data; a read from such a row is moved row by row)."""
import nanott.language as T


@T.prim_func
def bad(X: T.Tensor((64, 64), "bfloat16"), Offsets: T.Tensor((2,), "int32"),
        Y: T.Tensor((128, 64), "bfloat16")):
    with T.Kernel(2) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        m_start = Offsets[bx] + 1
        T.copy(X[bx * 32, 0], X_s)
        T.copy(X_s, Y[m_start:m_start + 32, :])

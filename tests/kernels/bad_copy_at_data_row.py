"""A bad kernel: a copy into a 1-D DRAM tensor whose start is read from DRAM (a group's offset), not
provably a whole number of tiles (NT112, naming the data): the vector lies along row 0 of a row of
tiles, and 32 elements from there are no run the NoC can write alone. (A block of rows of a 2-D or
N-D tensor from such a row is moved row by row: tests/test_row_windows.py.)"""
import nanott.language as T


@T.prim_func
def bad(X: T.Tensor((64, 64), "bfloat16"), Offsets: T.Tensor((2,), "int32"),
        Y: T.Tensor((128,), "float32")):
    with T.Kernel(2) as bx:
        X_s = T.alloc_shared((32, 64), "bfloat16")
        s = T.alloc_fragment((32,), "float32")
        m_start = Offsets[bx] + 1
        T.copy(X[bx * 32, 0], X_s)
        T.reduce_sum(X_s, s, dim=1)
        T.copy(s, Y[m_start:m_start + 32])
